package awsclient_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

// isolate clears the environment the standard chain reads.
func isolate(t *testing.T) {
	t.Helper()
	empty := filepath.Join(t.TempDir(), "none")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadWithoutRegionIsErrNoRegion(t *testing.T) {
	isolate(t)
	_, err := awsclient.Load(context.Background())
	if !errors.Is(err, awsclient.ErrNoRegion) {
		t.Fatalf("Load without a region: %v; want ErrNoRegion", err)
	}
}

func TestLoadHonoursMaxAttemptsButNotRetryMode(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_MAX_ATTEMPTS", "9")
	t.Setenv("AWS_RETRY_MODE", "adaptive")
	cfg, err := awsclient.Load(context.Background(), awsclient.WithMaxInFlight(4))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || cfg.RetryMaxAttempts != 9 {
		t.Errorf("region %q, max attempts %d; want eu-west-1 and 9 from the environment", cfg.Region, cfg.RetryMaxAttempts)
	}
	r := cfg.Retryer()
	if _, adaptive := r.(*retry.AdaptiveMode); adaptive {
		t.Error("AWS_RETRY_MODE=adaptive replaced the scanner's retryer")
	}
	// The client applies AWS_MAX_ATTEMPTS on top of the retryer.
	c := sts.NewFromConfig(cfg)
	if n := c.Options().Retryer.MaxAttempts(); n != 9 {
		t.Errorf("client max attempts %d; want 9", n)
	}
	if _, err := awsclient.Load(context.Background(), awsclient.WithMaxInFlight(0)); err == nil {
		t.Error("Load accepted 0 requests in flight")
	}
}

// TestRetryerHasNoQuota: a storm of throttles never runs the retryer out
// of retries, as the standard retryer's 500-token quota does after ~100.
func TestRetryerHasNoQuota(t *testing.T) {
	ctx := context.Background()
	slow := &smithy.GenericAPIError{Code: "SlowDown"}
	std := retry.NewStandard()
	ours := awsclient.NewRetryer(awsclient.RetryOptions{})
	exhausted := -1
	for i := range 1000 {
		if _, err := std.GetRetryToken(ctx, slow); err != nil && exhausted < 0 {
			exhausted = i
		}
		if _, err := ours.GetRetryToken(ctx, slow); err != nil {
			t.Fatalf("retry %d: %v; want no quota", i, err)
		}
	}
	if exhausted < 0 {
		t.Error("the standard retryer never ran dry: the test no longer shows the difference")
	}
	if !ours.IsErrorRetryable(slow) || ours.MaxAttempts() != awsclient.DefaultMaxAttempts {
		t.Errorf("SlowDown retryable %v, attempts %d", ours.IsErrorRetryable(slow), ours.MaxAttempts())
	}
}

func TestRetryerBackoff(t *testing.T) {
	r := awsclient.NewRetryer(awsclient.RetryOptions{Backoff: 10 * time.Millisecond, ThrottleBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond})
	slow := &smithy.GenericAPIError{Code: "SlowDown"}
	other := &smithy.GenericAPIError{Code: "InternalError"}
	for range 200 {
		for _, c := range []struct {
			err     error
			attempt int
			max     time.Duration
		}{{slow, 1, 100 * time.Millisecond}, {slow, 2, 200 * time.Millisecond}, {slow, 5, 300 * time.Millisecond}, {other, 1, 10 * time.Millisecond}, {other, 3, 40 * time.Millisecond}} {
			d, err := r.RetryDelay(c.attempt, c.err)
			if err != nil || d < 0 || d > c.max {
				t.Fatalf("delay after attempt %d of %v: %s, %v; want 0 to %s", c.attempt, c.err, d, err, c.max)
			}
		}
	}
}

func TestS3PathStyle(t *testing.T) {
	var o s3.Options
	awsclient.S3PathStyle(&o)
	if o.UsePathStyle {
		t.Error("path style for AWS's own endpoint")
	}
	o.BaseEndpoint = aws.String("http://localhost:4566")
	awsclient.S3PathStyle(&o)
	if !o.UsePathStyle {
		t.Error("virtual-hosted style for a custom endpoint")
	}
}

func TestPartitionFromTheCallerARN(t *testing.T) {
	for _, p := range []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-eusc"} {
		fx := &awssim.Fixture{Organization: awssim.Organization{Partition: p, Accounts: []awssim.Account{{ID: "111111111111"}}}}
		_, cfg := testenv.Sim(t, fx)
		got, err := awsclient.Partition(context.Background(), sts.NewFromConfig(cfg))
		if err != nil || got != p {
			t.Errorf("Partition = %q, %v; want %q", got, err, p)
		}
	}
}

type fakeIdentity struct {
	arn string
	err error
}

func (f fakeIdentity) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Arn: aws.String(f.arn)}, f.err
}

func TestPartitionErrors(t *testing.T) {
	for _, f := range []fakeIdentity{{arn: "not-an-arn"}, {arn: ""}, {err: errors.New("no credentials")}} {
		if p, err := awsclient.Partition(context.Background(), f); err == nil {
			t.Errorf("Partition(%+v) = %q; want an error", f, p)
		}
	}
}

func TestLoadReachesTheSimulator(t *testing.T) {
	isolate(t)
	srv, err := awssim.New(&awssim.Fixture{Organization: awssim.Organization{Accounts: []awssim.Account{{ID: "111111111111", Buckets: []awssim.Bucket{{Name: "only-bucket"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	id, secret := srv.ManagementCredentials()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	cfg, err := awsclient.Load(context.Background(), awsclient.WithLoadOptions(awsconfig.WithRetryMaxAttempts(2)))
	if err != nil {
		t.Fatal(err)
	}
	srv.AddFault(awssim.Fault{Op: "ListBuckets", Error: "SlowDown", Times: 1})
	out, err := s3.NewFromConfig(cfg, awsclient.S3PathStyle).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 1 || srv.Calls("ListBuckets") != 2 {
		t.Errorf("ListBuckets through Load's configuration: %v, %d calls; want 1 bucket after 1 retry", err, srv.Calls("ListBuckets"))
	}
}
