package awssim

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
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

// FastRetries is a load option that keeps the SDK's standard retryer (the
// same retryable codes, attempts and retry quota) with a 5 ms back-off, so
// that tests of throttling bursts do not wait seconds.
func FastRetries(o *awsconfig.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.NewExponentialJitterBackoff(5 * time.Millisecond)
		})
	}
	return nil
}
