package awssim

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/s3inv/scanner/internal/base/awsclient"
)

// AWSConfig returns an SDK configuration that sends every service to the
// simulator (BaseEndpoint, as AWS_ENDPOINT_URL does) with the management
// credentials, in region. optFns come last and may override anything
// (a retryer, an HTTP client).
func (s *Server) AWSConfig(ctx context.Context, region string, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	id, secret := s.ManagementCredentials()
	return Remote{URL: s.URL(), KeyID: id, Secret: secret}.AWSConfig(ctx, region, optFns...)
}

// FastRetries is a load option that installs the scanner's retryer
// (awsclient.NewRetryer: the standard retryable errors, no retry quota)
// with back-offs of a few milliseconds, so that tests of throttling and
// 5xx bursts do not wait seconds.
func FastRetries(o *awsconfig.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return awsclient.NewRetryer(awsclient.RetryOptions{Backoff: time.Millisecond, ThrottleBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	}
	return nil
}
