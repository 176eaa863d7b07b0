package awssim

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/s3inv/scanner/internal/awsclient"
)

// AWSConfig returns an SDK configuration that sends every service to the
// simulator (BaseEndpoint, as AWS_ENDPOINT_URL does) with the management
// credentials, in region. optFns come last and may override anything
// (a retryer, an HTTP client).
func (s *Server) AWSConfig(ctx context.Context, region string, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	id, secret := s.ManagementCredentials()
	opts := append([]func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithBaseEndpoint(s.URL()),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, "")),
	}, optFns...)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awssim: load AWS configuration: %w", err)
	}
	return cfg, nil
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
