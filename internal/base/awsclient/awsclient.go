package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
)

// ErrNoRegion is returned by Load when the standard chain names no region.
// It is a configuration error: the caller should say so and exit with its
// usage status.
var ErrNoRegion = errors.New("AWS region: none configured; set AWS_REGION (for example us-east-1)")

// Defaults of Load and NewRetryer.
const (
	// DefaultMaxInFlight is the number of requests the HTTP client keeps a
	// connection for when WithMaxInFlight is not given: the scanner's
	// default concurrency (8 accounts × 16 requests).
	DefaultMaxInFlight = 128
	// DefaultResponseTimeout bounds the wait for a response's first byte.
	DefaultResponseTimeout = 30 * time.Second
	// DefaultMaxAttempts is how many times a call is tried (the SDK's
	// default is 3). AWS_MAX_ATTEMPTS overrides it.
	DefaultMaxAttempts = 5
	// DefaultBackoff is the first retry's longest back-off after a
	// transient error; it doubles with every retry.
	DefaultBackoff = 50 * time.Millisecond
	// DefaultThrottleBackoff is the first retry's longest back-off after a
	// throttle; it doubles with every retry.
	DefaultThrottleBackoff = 250 * time.Millisecond
	// DefaultMaxBackoff caps every back-off.
	DefaultMaxBackoff = 5 * time.Second
)

// Option adjusts Load.
type Option func(*settings)

type settings struct {
	maxInFlight     int
	responseTimeout time.Duration
	retry           RetryOptions
	calls           *CallStats
	load            []func(*awsconfig.LoadOptions) error
}

// WithMaxInFlight sizes the HTTP connection pool for n requests in flight
// (scan.Options.MaxInFlight); a few connections are added for
// Organizations and the findings store.
func WithMaxInFlight(n int) Option { return func(s *settings) { s.maxInFlight = n } }

// WithResponseTimeout sets how long an attempt waits for the response to
// start before it fails (and is retried).
func WithResponseTimeout(d time.Duration) Option {
	return func(s *settings) { s.responseTimeout = d }
}

// WithRetry sets the retryer's options (see NewRetryer).
func WithRetry(o RetryOptions) Option { return func(s *settings) { s.retry = o } }

// WithLoadOptions adds options of config.LoadDefaultConfig; they come last
// and may override anything Load sets.
func WithLoadOptions(fns ...func(*awsconfig.LoadOptions) error) Option {
	return func(s *settings) { s.load = append(s.load, fns...) }
}

// Load loads the SDK's standard configuration with the scanner's HTTP
// client and retryer (which replaces any retryer of the load options:
// tune it with WithRetry). A configuration without a region is
// ErrNoRegion.
func Load(ctx context.Context, opts ...Option) (aws.Config, error) {
	s := settings{maxInFlight: DefaultMaxInFlight, responseTimeout: DefaultResponseTimeout}
	for _, o := range opts {
		o(&s)
	}
	if s.maxInFlight < 1 {
		return aws.Config{}, fmt.Errorf("requests in flight %d: want 1 or more", s.maxInFlight)
	}
	load := append([]func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(NewHTTPClient(s.maxInFlight, s.responseTimeout)),
	}, s.load...)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, ErrNoRegion
	}
	// Set after loading: the SDK reads AWS_MAX_ATTEMPTS only when no
	// retryer is given, and it is honoured here.
	retryOpts := s.retry
	if retryOpts.MaxAttempts == 0 {
		retryOpts.MaxAttempts = cfg.RetryMaxAttempts
	}
	cfg.Retryer = func() aws.Retryer { return NewRetryer(retryOpts) }
	if s.calls != nil {
		cfg.APIOptions = append(cfg.APIOptions, s.calls.AddTo)
	}
	return cfg, nil
}

// NewHTTPClient returns an SDK HTTP client whose connection pool keeps a
// connection for each of maxInFlight requests (plus 8 for Organizations
// and the findings store), so no request waits for, or re-dials, a
// connection. An attempt whose response has not started after
// responseTimeout fails (0: no limit).
func NewHTTPClient(maxInFlight int, responseTimeout time.Duration) *awshttp.BuildableClient {
	conns := maxInFlight + 8
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = conns
		t.MaxIdleConnsPerHost = conns
		t.ResponseHeaderTimeout = responseTimeout
	})
}

// RetryOptions tune NewRetryer; zero fields take the defaults.
type RetryOptions struct {
	// MaxAttempts per call, the first included (DefaultMaxAttempts).
	MaxAttempts int
	// Backoff is the longest first back-off after a transient error
	// (DefaultBackoff); ThrottleBackoff after a throttle
	// (DefaultThrottleBackoff). Both double with each retry, with full
	// jitter, up to MaxBackoff (DefaultMaxBackoff).
	Backoff, ThrottleBackoff, MaxBackoff time.Duration
}

// NewRetryer returns the SDK's standard retryer (the same retryable
// errors and throttle codes) without a retry quota, so that no storm can
// spend a budget that later calls need, and with the back-off of o: the
// throttle back-off for the errors awserr classifies as Throttled (the
// SDK's own throttles).
func NewRetryer(o RetryOptions) aws.RetryerV2 {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.ThrottleBackoff <= 0 {
		o.ThrottleBackoff = DefaultThrottleBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = o.MaxAttempts
		so.MaxBackoff = o.MaxBackoff
		so.RateLimiter = ratelimit.None
		so.Backoff = retry.BackoffDelayerFunc(func(attempt int, err error) (time.Duration, error) {
			base := o.Backoff
			if awserr.Classify(err) == awserr.Throttled {
				base = o.ThrottleBackoff
			}
			return backoff.Full(base, o.MaxBackoff, attempt), nil
		})
	})
}

// S3PathStyle is an S3 client option: path-style addressing whenever the
// endpoint is not AWS's own (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or
// endpoint_url in the profile), since a custom host has no per-bucket DNS
// names.
func S3PathStyle(o *s3.Options) {
	if o.BaseEndpoint != nil {
		o.UsePathStyle = true
	}
}

// CallerIdentityAPI is the part of the STS client Partition uses.
type CallerIdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ CallerIdentityAPI = (*sts.Client)(nil)

// Partition returns the partition of the caller's credentials (aws,
// aws-cn, aws-us-gov, aws-iso, …), read from the ARN that
// sts:GetCallerIdentity returns.
func Partition(ctx context.Context, api CallerIdentityAPI) (string, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	a, err := arn.Parse(aws.ToString(out.Arn))
	if err != nil || a.Partition == "" {
		return "", fmt.Errorf("caller ARN %q: want an ARN such as arn:aws:iam::123456789012:user/name", aws.ToString(out.Arn))
	}
	return a.Partition, nil
}
