package scan

import (
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/s3inv/scanner/internal/awsclient"
)

// MaxInFlight is the most AWS requests a Scanner with these options keeps
// in flight at once: AccountConcurrency × BucketConcurrency, shared by
// every account (role assumption, bucket listing and inventory reads all
// count).
func (o Options) MaxInFlight() int {
	o = o.withDefaults()
	return o.AccountConcurrency * o.BucketConcurrency
}

// NewHTTPClient returns an SDK HTTP client whose connection pool keeps a
// connection for every request a Scanner with these options has in flight
// (plus a little headroom for Organizations and the findings sink), so no
// request waits for, or re-dials, a connection. Pass it to
// config.WithHTTPClient.
//
// Deprecated: awsclient.Load(ctx, awsclient.WithMaxInFlight(o.MaxInFlight()))
// builds the whole configuration, this client included.
func NewHTTPClient(o Options) *awshttp.BuildableClient {
	return awsclient.NewHTTPClient(o.MaxInFlight(), awsclient.DefaultResponseTimeout)
}
