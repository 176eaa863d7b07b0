package scan

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
func NewHTTPClient(o Options) *awshttp.BuildableClient {
	conns := o.MaxInFlight() + 8
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns
		t.MaxIdleConnsPerHost = conns
	})
}
