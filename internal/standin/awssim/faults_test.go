package awssim_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3inv/scanner/internal/standin/awssim"
)

// noRetries starts a simulator whose clients make exactly one attempt per
// call, so every answer the simulator gives is seen as it is.
func noRetries(t *testing.T, fx *awssim.Fixture, opts ...awssim.Option) (*awssim.Server, aws.Config) {
	t.Helper()
	srv, err := awssim.New(fx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(context.Background(), "us-east-1", awsconfig.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }))
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

func TestRandomThrottleAnswersEachServicesError(t *testing.T) {
	ctx := context.Background()
	_, cfg := noRetries(t, small(t), awssim.WithThrottle(0.5, 7))
	s3c, orgs, stsc := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), organizations.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	calls := []struct {
		name, code string
		status     int
		call       func() error
	}{
		{"s3", "SlowDown", 503, func() error { _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); return err }},
		{"organizations", "TooManyRequestsException", 400, func() error {
			_, err := orgs.ListRoots(ctx, &organizations.ListRootsInput{})
			return err
		}},
		{"sts", "Throttling", 400, func() error { _, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); return err }},
	}
	for _, c := range calls {
		throttled, ok := 0, 0
		for range 200 {
			err := c.call()
			if err == nil {
				ok++
				continue
			}
			if st, _ := httpStatus(err); apiCode(t, err) != c.code || st != c.status {
				t.Fatalf("%s: %v; want %d %s", c.name, err, c.status, c.code)
			}
			throttled++
		}
		// 200 draws at p=0.5: far outside 60..140 means the draw is broken.
		if throttled < 60 || throttled > 140 {
			t.Errorf("%s: %d of 200 calls throttled, %d answered; want about half", c.name, throttled, ok)
		}
	}
}

func TestAccountRateLimitIsPerAccount(t *testing.T) {
	ctx := context.Background()
	// 1 request a second, burst 3: the fourth call in a row is throttled.
	srv, cfg := noRetries(t, small(t), awssim.WithAccountRateLimit(1, 3))
	prod := memberS3(t, cfg, "222222222222", "small-org-external-id") // AssumeRole takes a token of 222222222222
	for i := range 2 {
		if _, err := prod.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
			t.Fatalf("call %d within the burst: %v", i+2, err)
		}
	}
	_, err := prod.ListBuckets(ctx, &s3.ListBucketsInput{})
	if st, _ := httpStatus(err); err == nil || apiCode(t, err) != "SlowDown" || st != 503 {
		t.Fatalf("call beyond the burst: %v; want 503 SlowDown", err)
	}
	// Another account has its own bucket: the management account's
	// Organizations calls are not throttled by 222222222222's.
	if _, err := organizations.NewFromConfig(cfg).ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Errorf("another account's call: %v; want its own rate limit", err)
	}
	if n := srv.CallsFor("ListBuckets", "222222222222"); n != 3 {
		t.Errorf("ListBuckets calls %d; want 3", n)
	}
}

func TestConnectionResetAndServiceUnavailable(t *testing.T) {
	ctx := context.Background()
	srv, cfg := noRetries(t, small(t))
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	srv.AddFault(awssim.Fault{Op: "ListBuckets", Error: "ConnectionReset", Times: 1})
	_, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	var send *smithyhttp.RequestSendError
	if !errors.As(err, &send) {
		t.Fatalf("reset connection: %v; want a RequestSendError (no response)", err)
	}
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Errorf("after a single reset: %v", err)
	}

	srv.AddFault(awssim.Fault{Op: "ListBuckets", Error: "ServiceUnavailable", Times: 1})
	srv.AddFault(awssim.Fault{Op: "GetCallerIdentity", Error: "ServiceUnavailable", Times: 1})
	srv.AddFault(awssim.Fault{Op: "ListRoots", Error: "ServiceUnavailable", Times: 1})
	_, err = s3c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if st, _ := httpStatus(err); st != 503 || apiCode(t, err) != "ServiceUnavailable" {
		t.Errorf("S3 503: %v", err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if st, _ := httpStatus(err); st != 503 {
		t.Errorf("STS 503: %v", err)
	}
	_, err = organizations.NewFromConfig(cfg).ListRoots(ctx, &organizations.ListRootsInput{})
	if st, _ := httpStatus(err); st != 503 {
		t.Errorf("Organizations 503: %v", err)
	}
}

func TestDelayFault(t *testing.T) {
	srv, cfg := noRetries(t, small(t))
	srv.AddFault(awssim.Fault{Op: "ListBuckets", Delay: time.Minute, Times: 1})
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a call held back a minute with a 50 ms deadline: %v; want DeadlineExceeded", err)
	}
	// A delay without an error answers normally once it has passed.
	srv.AddFault(awssim.Fault{Op: "ListBuckets", Delay: time.Millisecond, Times: 1})
	if out, err := s3c.ListBuckets(context.Background(), &s3.ListBucketsInput{}); err != nil || len(out.Buckets) == 0 {
		t.Errorf("a late answer: %v", err)
	}
}

func TestRepeatedTokenInEveryListing(t *testing.T) {
	ctx := context.Background()
	srv, cfg := noRetries(t, small(t))
	srv.AddFault(awssim.Fault{Op: "ListBuckets", Error: "RepeatedToken"})
	srv.AddFault(awssim.Fault{Op: "ListAccounts", Error: "RepeatedToken"})
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	a, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1), ContinuationToken: a.ContinuationToken})
	if err != nil || a.ContinuationToken == nil || aws.ToString(b.ContinuationToken) != aws.ToString(a.ContinuationToken) {
		t.Errorf("ListBuckets: %v; tokens %v then %v, want the same", err, a.ContinuationToken, b.ContinuationToken)
	}
	orgs := organizations.NewFromConfig(cfg)
	c, err := orgs.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	d, err := orgs.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(2), NextToken: c.NextToken})
	if err != nil || c.NextToken == nil || aws.ToString(d.NextToken) != aws.ToString(c.NextToken) {
		t.Errorf("ListAccounts: %v; tokens %v then %v, want the same", err, c.NextToken, d.NextToken)
	}
}

func TestPartition(t *testing.T) {
	ctx := context.Background()
	for _, p := range []string{"aws", "aws-cn", "aws-us-gov", "aws-iso"} {
		fx := small(t)
		fx.Organization.Partition = p
		_, cfg := noRetries(t, fx)
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if a, err := arn.Parse(aws.ToString(id.Arn)); err != nil || a.Partition != p {
			t.Errorf("partition %s: caller ARN %s", p, aws.ToString(id.Arn))
		}
		for _, rp := range []string{"aws", p} {
			_, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:" + rp + ":iam::222222222222:role/InventoryScanner"),
				RoleSessionName: aws.String("partition"), ExternalId: aws.String("small-org-external-id")})
			if wantOK := rp == p; (err == nil) != wantOK {
				t.Errorf("partition %s, role ARN in %s: %v; want success %v", p, rp, err, wantOK)
			}
		}
	}
}

func TestFaultAndOptionValidation(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"nothing to do", "organization:\n  accounts: [{id: \"111111111111\"}]\nfaults: [{op: ListBuckets}]\n", "neither error nor delay"},
		{"bad partition", "organization:\n  partition: aws-mars\n  accounts: [{id: \"111111111111\"}]\n", `partition "aws-mars"`},
		{"delay", "organization:\n  accounts: [{id: \"111111111111\"}]\nfaults: [{op: ListBuckets, delay: 2s, error: ConnectionReset}]\n", ""},
	} {
		_, err := awssim.ParseFixture([]byte(tc.yaml))
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v; want %q", tc.name, err, tc.want)
		}
	}
	for _, o := range []awssim.Option{awssim.WithThrottle(1.5, 1), awssim.WithAccountRateLimit(10, 0), awssim.WithAccountRateLimit(-1, 5)} {
		if srv, err := awssim.New(small(t), o); err == nil {
			srv.Close()
			t.Errorf("New accepted a bad option")
		}
	}
}
