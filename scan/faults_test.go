package scan_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/scan"
)

const (
	acctA = "400000000001"
	acctB = "400000000002"
)

// matrixFixture is two accounts: A with ten buckets of one configuration
// and one whose listed region is stale, B with five of two.
func matrixFixture() *awssim.Fixture {
	a := buckets("a", 10, "us-east-1", 1)
	a = append(a, awssim.Bucket{Name: "a-moved", Region: "eu-central-1", ListedRegion: "us-east-1", Generated: 1})
	return &awssim.Fixture{Organization: awssim.Organization{
		Role: &awssim.Role{Name: roleName, ExternalID: extID},
		Accounts: []awssim.Account{
			{ID: acctA, Buckets: a},
			{ID: acctB, Buckets: buckets("b", 5, "eu-west-1", 2)},
		},
	}}
}

// outcome is what a fault case expects of an account.
type outcome struct {
	status inventory.AccountStatus
	code   string
}

// faultRun scans fx's accounts through the real SDK against the simulator
// and checks that nothing was lost: every account closed once with the
// expected status; every bucket of a COMPLETE account delivered exactly
// once, read in its real region or with the expected failure; no bucket
// of an unfinished account reported unreadable for want of being read.
func faultRun(t *testing.T, fx *awssim.Fixture, simOpts []awssim.Option, cfgOpts []func(*awsconfig.LoadOptions) error,
	opts scan.Options, ctx context.Context, want map[string]outcome, unreadable map[string]string) *awssim.Server {
	t.Helper()
	srv, err := awssim.New(fx, simOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(context.Background(), "us-east-1", append([]func(*awsconfig.LoadOptions) error{awssim.FastRetries}, cfgOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	conn := &scan.RoleConnector{STS: sts.NewFromConfig(cfg), Base: cfg,
		Role:      scan.Role{Name: roleName, ExternalID: extID, SessionName: "s3inv-faults", Partition: "aws"},
		S3Options: []func(*s3.Options){awsclient.S3PathStyle}}
	if opts.ThrottleBackoff == 0 {
		opts.ThrottleBackoff = 5 * time.Millisecond
	}
	s, err := scan.New(conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	var targets []inventory.Account
	for _, a := range fx.Organization.Accounts {
		targets = append(targets, inventory.Account{ID: a.ID})
	}
	got := newCollector()
	if err := s.Scan(ctx, targets, got); err != nil {
		t.Fatal(err)
	}
	if len(got.misorder) > 0 {
		t.Errorf("buckets delivered after their account closed: %v", got.misorder)
	}
	for _, a := range fx.Organization.Accounts {
		rs := got.accounts[a.ID]
		if len(rs) != 1 {
			t.Errorf("account %s closed %d times; want once", a.ID, len(rs))
			continue
		}
		r, w := rs[0], want[a.ID]
		if w.status == "" {
			w.status = inventory.AccountComplete
		}
		code := ""
		if r.Failure != nil {
			code = r.Failure.Code
		}
		if r.Status != w.status || code != w.code {
			t.Errorf("account %s: %s %q (%+v); want %s %q", a.ID, r.Status, code, r.Failure, w.status, w.code)
		}
		var wantUnreadable []string
		for _, b := range a.Buckets {
			k := a.ID + "/" + b.Name
			ds := got.buckets[k]
			if r.Status != inventory.AccountComplete {
				for _, d := range ds {
					if d.Failure != nil && unreadable[b.Name] == "" {
						t.Errorf("bucket %s of an unfinished account delivered as unreadable: %+v", k, d.Failure)
					}
				}
				continue
			}
			if len(ds) != 1 {
				t.Errorf("bucket %s delivered %d times; want once", k, len(ds))
				continue
			}
			d := ds[0]
			if wantCode, bad := unreadable[b.Name]; bad {
				wantUnreadable = append(wantUnreadable, b.Name)
				if d.Failure == nil || d.Failure.Code != wantCode {
					t.Errorf("bucket %s: failure %+v; want %s", k, d.Failure, wantCode)
				}
				continue
			}
			if d.Failure != nil || len(d.Configs) != b.Generated || d.Bucket.Region != b.Region {
				t.Errorf("bucket %s: %d configs in %s, failure %+v; want %d read in %s", k, len(d.Configs), d.Bucket.Region, d.Failure, b.Generated, b.Region)
			}
		}
		if r.Status == inventory.AccountComplete {
			if r.Buckets != len(a.Buckets) || r.Visited != r.Buckets {
				t.Errorf("account %s: visited %d of %d listed; want all %d", a.ID, r.Visited, r.Buckets, len(a.Buckets))
			}
			slices.Sort(wantUnreadable)
			if u := slices.Sorted(slices.Values(r.Unreadable)); !slices.Equal(u, wantUnreadable) {
				t.Errorf("account %s unreadable %v; want %v", a.ID, u, wantUnreadable)
			}
		}
	}
	return srv
}

// TestFaultMatrix injects one fault per case through the simulator and
// checks that the scan loses nothing: each read either succeeds or is a
// coverage result, and each account has the status the fault calls for.
func TestFaultMatrix(t *testing.T) {
	always := 0
	shortTimeout := awsconfig.WithHTTPClient(awsclient.NewHTTPClient(16, 200*time.Millisecond))
	tests := []struct {
		name       string
		faults     []awssim.Fault
		simOpts    []awssim.Option
		cfgOpts    []func(*awsconfig.LoadOptions) error
		opts       scan.Options
		timeout    time.Duration
		want       map[string]outcome
		unreadable map[string]string
		calls      map[string]int // op → calls for account A
	}{
		{name: "no fault", calls: map[string]int{"AssumeRole": 1, "ListBuckets": 1, "ListBucketInventoryConfigurations": 12}},
		{name: "AccessDenied at AssumeRole", faults: []awssim.Fault{{Op: "AssumeRole", Account: acctA, Error: "AccessDenied"}},
			want: map[string]outcome{acctA: {inventory.AccountRoleUnavailable, "AccessDenied"}}},
		{name: "AccessDenied at ListBuckets", faults: []awssim.Fault{{Op: "ListBuckets", Account: acctA, Error: "AccessDenied"}},
			want: map[string]outcome{acctA: {inventory.AccountBucketsUnlisted, "AccessDenied"}}},
		{name: "AccessDenied at ListBucketInventoryConfigurations", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-003", Error: "AccessDenied"}},
			unreadable: map[string]string{"a-003": "AccessDenied"}},
		{name: "NoSuchBucket mid-scan", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-004", Error: "NoSuchBucket"}},
			unreadable: map[string]string{"a-004": "NoSuchBucket"}},
		// a-moved is listed in us-east-1 and lives in eu-central-1: one
		// redirect, one retry there (12 inventory calls for 11 buckets).
		{name: "301 wrong Region", calls: map[string]int{"ListBucketInventoryConfigurations": 12}},
		// Bursts shorter than the SDK's 5 attempts, on every API of A.
		{name: "500 burst", faults: []awssim.Fault{{Account: acctA, Error: "InternalError", Times: 4}}},
		{name: "503 burst", faults: []awssim.Fault{{Account: acctA, Error: "ServiceUnavailable", Times: 4}}},
		// Longer bursts: another round after a back-off, like throttling.
		{name: "500 burst past the SDK's attempts at AssumeRole", faults: []awssim.Fault{{Op: "AssumeRole", Account: acctA, Error: "InternalError", Times: 7}},
			calls: map[string]int{"AssumeRole": 8}},
		{name: "503 burst past the SDK's attempts at a bucket", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-006", Error: "ServiceUnavailable", Times: 7}},
			calls: map[string]int{"ListBucketInventoryConfigurations": 12 + 7}},
		{name: "500s outlast the retries at AssumeRole", faults: []awssim.Fault{{Op: "AssumeRole", Account: acctA, Error: "InternalError"}},
			want: map[string]outcome{acctA: {inventory.AccountIncomplete, "InternalFailure"}}},
		{name: "503s outlast the retries at ListBuckets", faults: []awssim.Fault{{Op: "ListBuckets", Account: acctA, Error: "ServiceUnavailable"}},
			want: map[string]outcome{acctA: {inventory.AccountIncomplete, "ServiceUnavailable"}}},
		{name: "500s outlast the retries at a bucket", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-006", Error: "InternalError"}},
			unreadable: map[string]string{"a-006": "InternalError"}},
		{name: "connection resets", faults: []awssim.Fault{
			{Op: "AssumeRole", Account: acctA, Error: "ConnectionReset", Times: 1},
			{Op: "ListBuckets", Account: acctA, Error: "ConnectionReset", Times: 1},
			{Op: "ListBucketInventoryConfigurations", Account: acctA, Error: "ConnectionReset", Times: 4},
		}},
		{name: "slow responses", faults: []awssim.Fault{{Account: acctA, Delay: 30 * time.Millisecond, Times: 8}}},
		{name: "per-call timeout", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-001", Delay: time.Minute, Times: 2}},
			cfgOpts: []func(*awsconfig.LoadOptions) error{shortTimeout}, calls: map[string]int{"ListBucketInventoryConfigurations": 14}},
		{name: "random throttling", simOpts: []awssim.Option{awssim.WithThrottle(0.3, 12)}},
		// Re-queue rounds long enough for a 20/s limit to let calls through.
		{name: "per-account rate limit", simOpts: []awssim.Option{awssim.WithAccountRateLimit(20, 4)}, opts: scan.Options{ThrottleBackoff: 200 * time.Millisecond}},
		{name: "throttled bucket re-queued", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-002", Error: "SlowDown", Times: 7}},
			calls: map[string]int{"ListBucketInventoryConfigurations": 12 + 7}},
		{name: "throttled bucket beyond every round", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-002", Error: "SlowDown", Times: always}},
			unreadable: map[string]string{"a-002": "Throttled"},
			// 5 SDK attempts in each of 1 + 4 rounds.
			calls: map[string]int{"ListBucketInventoryConfigurations": 11 + 25}},
		{name: "throttled AssumeRole", faults: []awssim.Fault{{Op: "AssumeRole", Account: acctA, Error: "Throttling"}},
			want: map[string]outcome{acctA: {inventory.AccountIncomplete, "Throttled"}}, calls: map[string]int{"AssumeRole": 25, "ListBuckets": 0}},
		{name: "throttled ListBuckets", faults: []awssim.Fault{{Op: "ListBuckets", Account: acctA, Error: "SlowDown"}},
			want: map[string]outcome{acctA: {inventory.AccountIncomplete, "Throttled"}}, calls: map[string]int{"ListBuckets": 25}},
		{name: "repeated ListBuckets token", faults: []awssim.Fault{{Op: "ListBuckets", Account: acctA, Error: "RepeatedToken"}}, opts: scan.Options{PageSize: 4},
			want: map[string]outcome{acctA: {inventory.AccountBucketsUnlisted, "InvalidPagination"}}, calls: map[string]int{"ListBuckets": 2}},
		{name: "repeated inventory token", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-005", Error: "RepeatedToken"}},
			unreadable: map[string]string{"a-005": "InvalidPagination"}},
		{name: "deadline mid-account", faults: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "a-005", Delay: time.Minute}},
			timeout: 3 * time.Second, opts: scan.Options{DeadlineMargin: 100 * time.Millisecond},
			want: map[string]outcome{acctA: {inventory.AccountIncomplete, "Deadline"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := matrixFixture()
			fx.Faults = tt.faults
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			}
			srv := faultRun(t, fx, tt.simOpts, tt.cfgOpts, tt.opts, ctx, tt.want, tt.unreadable)
			for op, n := range tt.calls {
				if got := srv.CallsFor(op, acctA); got != n {
					t.Errorf("%s calls for A: %d; want %d", op, got, n)
				}
			}
		})
	}
}

// TestThrottlingLosesNothing scans a larger organization under 20%
// random throttling on every API, and under a per-account rate limit,
// and finds every bucket.
func TestThrottlingLosesNothing(t *testing.T) {
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}}}
	for i := range 4 {
		id := fmt.Sprintf("4100000000%02d", i)
		fx.Organization.Accounts = append(fx.Organization.Accounts, awssim.Account{ID: id, Buckets: buckets("t"+id, 10+8*i, "us-east-1", 1)})
	}
	for name, o := range map[string]awssim.Option{
		"random 20%":             awssim.WithThrottle(0.2, 42),
		"40 requests/s, burst 5": awssim.WithAccountRateLimit(40, 5),
	} {
		t.Run(name, func(t *testing.T) {
			// The test's SDK retries back off a few milliseconds only, so the
			// re-queue rounds are what outlasts the limit here.
			faultRun(t, fx, []awssim.Option{o}, nil, scan.Options{AccountConcurrency: 3, BucketConcurrency: 8, ThrottleBackoff: 200 * time.Millisecond},
				context.Background(), nil, nil)
		})
	}
}

// TestBrokenOrganizationsListings: a repeated token in any Organizations
// listing fails the discovery, never completes it.
func TestBrokenOrganizationsListings(t *testing.T) {
	for _, op := range []string{"ListAccounts", "ListAccountsForParent", "ListOrganizationalUnitsForParent"} {
		t.Run(op, func(t *testing.T) {
			fx := orgFixture()
			fx.Faults = []awssim.Fault{{Op: op, Error: "RepeatedToken"}}
			e := newEnv(t, fx)
			_, err := scan.OrganizationAccounts(context.Background(), organizations.NewFromConfig(e.cfg), scan.Filter{})
			if !errors.Is(err, scan.ErrPagination) {
				t.Fatalf("discovery with a repeated %s token: %v; want ErrPagination", op, err)
			}
			if n := e.srv.Calls(op); n > 4 {
				t.Errorf("%s calls %d; want the listing stopped at the first repeat", op, n)
			}
		})
	}
}

// TestPartitionFromTheCallerReachesTheRoles scans an organization of the
// aws-cn partition with role ARNs built in the partition of the caller's
// identity; the simulator refuses role ARNs of any other partition.
func TestPartitionFromTheCallerReachesTheRoles(t *testing.T) {
	fx := matrixFixture()
	fx.Organization.Partition = "aws-cn"
	e := newEnv(t, fx)
	p, err := awsclient.Partition(context.Background(), sts.NewFromConfig(e.cfg))
	if err != nil || p != "aws-cn" {
		t.Fatalf("partition %q, %v; want aws-cn", p, err)
	}
	e.conn.Role.Partition = p
	s, err := scan.New(e.conn, scan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := newCollector()
	if err := s.Scan(context.Background(), []inventory.Account{{ID: acctA}, {ID: acctB}}, got); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{acctA, acctB} {
		if rs := got.accounts[id]; len(rs) != 1 || rs[0].Status != inventory.AccountComplete {
			t.Errorf("account %s: %+v; want COMPLETE", id, rs)
		}
	}
	e.conn.Role.Partition = "aws"
	got = newCollector()
	_ = s.Scan(context.Background(), []inventory.Account{{ID: acctA}}, got)
	if rs := got.accounts[acctA]; len(rs) != 1 || rs[0].Status != inventory.AccountRoleUnavailable {
		t.Errorf("role ARN in the wrong partition: %+v; want ROLE_UNAVAILABLE", rs)
	}
}
