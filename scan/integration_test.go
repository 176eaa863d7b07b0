package scan_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/scan"
)

// collector is a Handler that records everything and checks the order
// contract: no Bucket of an account after its Account.
type collector struct {
	mu       sync.Mutex
	buckets  map[string][]inventory.BucketResult // "account/bucket" → every delivery
	accounts map[string][]inventory.AccountResult
	misorder []string
}

func newCollector() *collector {
	return &collector{buckets: map[string][]inventory.BucketResult{}, accounts: map[string][]inventory.AccountResult{}}
}

func (c *collector) Bucket(_ context.Context, r inventory.BucketResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.accounts[r.Account.ID]) > 0 {
		c.misorder = append(c.misorder, r.Account.ID+"/"+r.Bucket.Name)
	}
	k := r.Account.ID + "/" + r.Bucket.Name
	c.buckets[k] = append(c.buckets[k], r)
	return nil
}

func (c *collector) Account(_ context.Context, r inventory.AccountResult) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.accounts[r.Account.ID] = append(c.accounts[r.Account.ID], r)
	return nil
}

const (
	extID    = "integration-external-id"
	roleName = "InventoryScanner"
)

type env struct {
	srv  *awssim.Server
	cfg  aws.Config
	conn *scan.RoleConnector
}

func newEnv(t *testing.T, fx *awssim.Fixture, opts ...awssim.Option) env {
	t.Helper()
	srv, cfg := testenv.Sim(t, fx, opts...)
	return env{srv: srv, cfg: cfg, conn: &scan.RoleConnector{
		STS:       sts.NewFromConfig(cfg),
		Base:      cfg,
		Role:      scan.Role{Name: roleName, ExternalID: extID, SessionName: "s3inv-integration", Partition: "aws"},
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }},
	}}
}

func (e env) run(t *testing.T, f scan.Filter, opts scan.Options) (inventory.Org, *collector) {
	t.Helper()
	ctx := context.Background()
	org, err := scan.OrganizationAccounts(ctx, organizations.NewFromConfig(e.cfg), f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := scan.New(e.conn, opts)
	if err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	if err := s.Scan(ctx, org.Targets, c); err != nil {
		t.Fatal(err)
	}
	if len(c.misorder) > 0 {
		t.Errorf("buckets delivered after their account was closed: %v", c.misorder)
	}
	return org, c
}

func buckets(prefix string, n int, region string, generated int) []awssim.Bucket {
	out := make([]awssim.Bucket, n)
	for i := range out {
		out[i] = awssim.Bucket{Name: fmt.Sprintf("%s-%03d", prefix, i), Region: region, Generated: generated}
	}
	return out
}

const (
	ouProd     = "ou-it01-prod0001"
	ouPayments = "ou-it01-payments1"
	ouSandbox  = "ou-it01-sandbox1"
	ouExcluded = "ou-it01-excluded1"
)

// orgFixture is an organization with every kind of trouble.
func orgFixture() *awssim.Fixture {
	kms := awssim.InventoryConfig{ID: "daily", Enabled: true, Destination: awssim.Destination{
		AccountID: "100000000001", Bucket: "arn:aws:s3:::central-inventory", Format: "Parquet", Encryption: "SSE-KMS", KMSKeyID: "alias/inventory"},
		Frequency: "Daily", Versions: "All", OptionalFields: []string{"Size", "EncryptionStatus"}}
	return &awssim.Fixture{
		Organization: awssim.Organization{
			Root:       "r-it01",
			EmptyPages: true,
			Role:       &awssim.Role{Name: roleName, ExternalID: extID},
			OUs: []awssim.OU{
				{ID: ouProd, Name: "Production", OUs: []awssim.OU{{ID: ouPayments, Name: "Payments"}}},
				{ID: ouSandbox, Name: "Sandbox"},
				{ID: ouExcluded, Name: "Excluded"},
			},
			Accounts: []awssim.Account{
				{ID: "100000000001", Name: "management", Buckets: []awssim.Bucket{
					{Name: "central-inventory", Region: "us-east-1"},
					{Name: "mgmt-eu", Region: "eu-west-1", Inventory: []awssim.InventoryConfig{kms}},
				}},
				{ID: "100000000002", Name: "prod", Parent: ouProd, Buckets: []awssim.Bucket{
					{Name: "prod-many", Region: "eu-central-1", Inventory: []awssim.InventoryConfig{kms}, Generated: 249}, // 250: 3 pages
					{Name: "prod-throttled", Region: "us-west-2", Inventory: []awssim.InventoryConfig{kms}},
					{Name: "prod-denied", Region: "us-east-1"},
					{Name: "prod-gone", Region: "eu-west-1"},
					{Name: "prod-moved", Region: "ap-southeast-2", ListedRegion: "us-east-1", Inventory: []awssim.InventoryConfig{kms}},
					{Name: "prod-plain", Region: "us-east-1"},
				}},
				{ID: "100000000003", Name: "payments", Parent: ouPayments, Buckets: buckets("pay", 30, "eu-west-1", 1)},
				{ID: "100000000004", Name: "sandbox", Parent: ouSandbox, Role: &awssim.Role{Missing: true}, Buckets: buckets("sandbox", 2, "us-east-1", 0)},
				{ID: "100000000005", Name: "suspended", Parent: ouSandbox, State: "SUSPENDED", Buckets: buckets("suspended", 2, "us-east-1", 0)},
				{ID: "100000000006", Name: "excluded", Parent: ouExcluded, Buckets: buckets("excluded", 2, "us-east-1", 0)},
				{ID: "100000000007", Name: "unlisted", Parent: ouProd, Buckets: buckets("unlisted", 3, "us-east-1", 0)},
				{ID: "100000000008", Name: "paging", Parent: ouPayments, Buckets: []awssim.Bucket{
					{Name: "paging-truncated", Region: "us-east-1"},
					{Name: "paging-repeated", Region: "us-east-1", Generated: 120},
					{Name: "paging-fine", Region: "us-east-1", Generated: 100},
				}},
				{ID: "100000000009", Name: "other-external-id", Parent: ouProd, Role: &awssim.Role{Name: roleName, ExternalID: "a-different-id"}},
				{ID: "100000000010", Name: "throttled-role", Parent: ouSandbox, Buckets: buckets("throttled-role", 2, "sa-east-1", 0)},
			},
		},
		Faults: []awssim.Fault{
			{Op: "ListAccounts", Error: "TooManyRequestsException", Times: 1},
			{Op: "AssumeRole", Account: "100000000010", Error: "Throttling", Times: 2},
			{Op: "ListBuckets", Account: "100000000007", Error: "AccessDenied"},
			{Op: "ListBucketInventoryConfigurations", Bucket: "prod-throttled", Error: "SlowDown", Times: 2},
			{Op: "ListBucketInventoryConfigurations", Bucket: "prod-denied", Error: "AccessDenied"},
			{Op: "ListBucketInventoryConfigurations", Bucket: "prod-gone", Error: "NoSuchBucket"},
			{Op: "ListBucketInventoryConfigurations", Bucket: "paging-truncated", Error: "TruncatedWithoutToken"},
			{Op: "ListBucketInventoryConfigurations", Bucket: "paging-repeated", Error: "RepeatedToken"},
		},
	}
}

// TestScanOrganization runs the whole engine through the real SDK against
// the simulator: discovery with filters, roles, buckets, configurations,
// every fault, and the number of calls each step made.
func TestScanOrganization(t *testing.T) {
	e := newEnv(t, orgFixture())
	org, got := e.run(t, scan.Filter{ExcludeOUs: []string{ouExcluded}}, scan.Options{PageSize: 7, AccountConcurrency: 3, BucketConcurrency: 4})

	// Discovery: every account is a member; ACTIVE ones outside the
	// excluded OU are targets, with their direct parent.
	if len(org.Members) != 10 || !org.FromOrganizations {
		t.Errorf("members: %d; want all 10 accounts", len(org.Members))
	}
	var ids []string
	for _, a := range org.Targets {
		ids = append(ids, a.ID)
	}
	want := []string{"100000000001", "100000000002", "100000000003", "100000000004", "100000000007", "100000000008", "100000000009", "100000000010"}
	if !slices.Equal(ids, want) {
		t.Fatalf("targets %v; want %v", ids, want)
	}
	wantOut := map[string]string{"100000000005": "SUSPENDED", "100000000006": inventory.OutOfScopeExcluded}
	if fmt.Sprint(org.OutOfScope) != fmt.Sprint(wantOut) {
		t.Errorf("out of scope %v; want %v", org.OutOfScope, wantOut)
	}
	if org.Targets[2].OUID != ouPayments || org.Targets[0].OUID != "r-it01" || org.Targets[2].Name != "payments" {
		t.Errorf("payments account %+v; want OU %s", org.Targets[2], ouPayments)
	}
	// The OU's name comes with the OU listing (no call of its own).
	if org.Targets[2].OUName != "Payments" || org.Targets[0].OUName != "Root" {
		t.Errorf("OU names %q, %q; want Payments (ListOrganizationalUnitsForParent) and Root (ListRoots)", org.Targets[2].OUName, org.Targets[0].OUName)
	}

	// Every target closed exactly once with the right status.
	status := map[string]struct {
		st   inventory.AccountStatus
		code string
	}{
		"100000000001": {inventory.AccountComplete, ""},
		"100000000002": {inventory.AccountComplete, ""},
		"100000000003": {inventory.AccountComplete, ""},
		"100000000004": {inventory.AccountRoleUnavailable, "AccessDenied"},
		"100000000007": {inventory.AccountBucketsUnlisted, "AccessDenied"},
		"100000000008": {inventory.AccountComplete, ""},
		"100000000009": {inventory.AccountRoleUnavailable, "AccessDenied"},
		"100000000010": {inventory.AccountComplete, ""},
	}
	if len(got.accounts) != len(status) {
		t.Errorf("accounts closed: %d; want %d", len(got.accounts), len(status))
	}
	for id, w := range status {
		rs := got.accounts[id]
		if len(rs) != 1 {
			t.Errorf("account %s closed %d times; want once", id, len(rs))
			continue
		}
		r := rs[0]
		code := ""
		if r.Failure != nil {
			code = r.Failure.Code
		}
		if r.Status != w.st || code != w.code {
			t.Errorf("account %s: %s %q (%+v); want %s %q", id, r.Status, code, r.Failure, w.st, w.code)
		}
		if r.Status == inventory.AccountComplete && r.Visited != r.Buckets {
			t.Errorf("account %s: visited %d of %d buckets", id, r.Visited, r.Buckets)
		}
	}

	// Every bucket of a listed account delivered exactly once; nothing else.
	wantBuckets := map[string]int{} // account/bucket → configurations (-1: unreadable)
	for _, a := range orgFixture().Organization.Accounts {
		if st, ok := status[a.ID]; !ok || st.st != inventory.AccountComplete {
			continue
		}
		for _, b := range a.Buckets {
			wantBuckets[a.ID+"/"+b.Name] = len(b.Inventory) + b.Generated
		}
	}
	unreadable := map[string]string{
		"100000000002/prod-denied":      "AccessDenied",
		"100000000002/prod-gone":        "NoSuchBucket",
		"100000000008/paging-truncated": "InvalidPagination",
		"100000000008/paging-repeated":  "InvalidPagination",
	}
	if len(got.buckets) != len(wantBuckets) {
		t.Errorf("buckets delivered: %d; want %d", len(got.buckets), len(wantBuckets))
	}
	for k, n := range wantBuckets {
		rs := got.buckets[k]
		if len(rs) != 1 {
			t.Errorf("bucket %s delivered %d times; want once", k, len(rs))
			continue
		}
		r := rs[0]
		if code, bad := unreadable[k]; bad {
			if r.Failure == nil || r.Failure.Code != code || len(r.Configs) != 0 {
				t.Errorf("bucket %s: failure %+v with %d configs; want %s and none", k, r.Failure, len(r.Configs), code)
			}
			continue
		}
		if r.Failure != nil || len(r.Configs) != n {
			t.Errorf("bucket %s: %d configs, failure %+v; want %d", k, len(r.Configs), r.Failure, n)
		}
	}
	if r := got.buckets["100000000002/prod-moved"]; len(r) == 1 && r[0].Bucket.Region != "ap-southeast-2" {
		t.Errorf("moved bucket region %q; want the region S3 named, ap-southeast-2", r[0].Bucket.Region)
	}
	if c := got.buckets["100000000002/prod-many"]; len(c) == 1 && len(c[0].Configs) == 250 {
		kms := c[0].Configs[0]
		if kms.ID != "daily" || kms.Destination.Encryption != inventory.EncryptionSSEKMS || kms.Destination.KMSKeyID != "alias/inventory" ||
			kms.Destination.AccountID != "100000000001" || kms.IncludedVersions != "All" || !slices.Equal(kms.OptionalFields, []string{"Size", "EncryptionStatus"}) {
			t.Errorf("configuration read: %+v", kms)
		}
	}
	for id, want := range map[string][]string{
		"100000000002": {"prod-denied", "prod-gone"},
		"100000000008": {"paging-repeated", "paging-truncated"},
	} {
		if rs := got.accounts[id]; len(rs) == 1 {
			u := slices.Sorted(slices.Values(rs[0].Unreadable))
			if !slices.Equal(u, want) {
				t.Errorf("account %s unreadable %v; want %v", id, u, want)
			}
		}
	}

	// Calls: the minimum, plus exactly the retries the faults cause.
	for _, c := range []struct {
		op      string
		account string
		want    int
	}{
		{"AssumeRole", "100000000001", 1},
		{"AssumeRole", "100000000004", 1},
		{"AssumeRole", "100000000010", 3}, // 2 throttled + 1
		{"ListBuckets", "100000000001", 1},
		{"ListBuckets", "100000000002", 1},
		{"ListBuckets", "100000000003", 5}, // 30 buckets at 7 a page
		{"ListBuckets", "100000000007", 1}, // AccessDenied is not retried
		{"ListBuckets", "100000000004", 0},
		{"ListBuckets", "100000000009", 0},
		// prod: many 3 pages, throttled 1+2, denied 1, gone 1, moved 2 (redirect + retry), plain 1
		{"ListBucketInventoryConfigurations", "100000000002", 3 + 3 + 1 + 1 + 2 + 1},
		{"ListBucketInventoryConfigurations", "100000000003", 30},
		// paging: truncated 1, repeated 2 (the second page repeats the token), fine 1
		{"ListBucketInventoryConfigurations", "100000000008", 1 + 2 + 1},
	} {
		if n := e.srv.CallsFor(c.op, c.account); n != c.want {
			t.Errorf("%s calls for %s: %d; want %d", c.op, c.account, n, c.want)
		}
	}
	// ListAccounts: 1 throttled + empty page + real page; ListRoots once.
	for op, want := range map[string]int{
		"ListAccounts": 3, "ListRoots": 1, "AssumeRole": 8 + 2,
		"GetBucketLocation": 0, "HeadBucket": 0,
		// root, 4 OUs: one call each + one empty page each
		"ListOrganizationalUnitsForParent": 2 * 5, "ListAccountsForParent": 2 * 5,
	} {
		if n := e.srv.Calls(op); n != want {
			t.Errorf("%s calls: %d; want %d", op, n, want)
		}
	}
}

// TestScanIncludeOUs selects a subtree: its nested OUs come with it.
func TestScanIncludeOUs(t *testing.T) {
	e := newEnv(t, orgFixture())
	org, got := e.run(t, scan.Filter{IncludeOUs: []string{ouProd}, ExcludeAccounts: []string{"100000000007"}, IncludeAccounts: []string{"100000000010"}}, scan.Options{})
	var ids []string
	for _, a := range org.Targets {
		ids = append(ids, a.ID)
	}
	want := []string{"100000000002", "100000000003", "100000000008", "100000000009", "100000000010"}
	if !slices.Equal(ids, want) {
		t.Errorf("targets %v; want %v", ids, want)
	}
	if len(got.accounts) != len(want) || e.srv.CallsFor("AssumeRole", "100000000001") != 0 || e.srv.CallsFor("AssumeRole", "100000000007") != 0 {
		t.Errorf("accounts scanned %d; want %d, and no call for the others", len(got.accounts), len(want))
	}
}

// TestScanWrongRegion400 checks the other wrong-region answer
// (400 AuthorizationHeaderMalformed) is followed too.
func TestScanWrongRegion400(t *testing.T) {
	fx := &awssim.Fixture{
		WrongRegion: "AuthorizationHeaderMalformed",
		Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}, Accounts: []awssim.Account{
			{ID: "200000000001", Buckets: []awssim.Bucket{
				{Name: "stale-region", Region: "eu-north-1", ListedRegion: "us-east-1", Generated: 2},
				{Name: "right-region", Region: "eu-north-1", Generated: 1},
			}},
		}},
	}
	e := newEnv(t, fx)
	_, got := e.run(t, scan.Filter{}, scan.Options{})
	r := got.buckets["200000000001/stale-region"]
	if len(r) != 1 || r[0].Failure != nil || len(r[0].Configs) != 2 || r[0].Bucket.Region != "eu-north-1" {
		t.Fatalf("stale-region bucket: %+v; want 2 configs read in eu-north-1", r)
	}
	if n := e.srv.Calls("ListBucketInventoryConfigurations"); n != 3 {
		t.Errorf("inventory calls %d; want 3 (1 redirected + 1 retry + 1)", n)
	}
}

// TestScanDeadline cuts a slow scan short: every account is still closed
// once, the ones not finished are INCOMPLETE (Deadline), and no bucket is
// reported unreadable because of the deadline.
func TestScanDeadline(t *testing.T) {
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}}}
	for i := range 12 {
		id := fmt.Sprintf("3000000000%02d", i)
		fx.Organization.Accounts = append(fx.Organization.Accounts, awssim.Account{ID: id, Buckets: buckets("dl"+id, 15, "us-east-1", 1)})
	}
	e := newEnv(t, fx, awssim.WithLatency(20*time.Millisecond, 0))
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	org, err := scan.OrganizationAccounts(ctx, organizations.NewFromConfig(e.cfg), scan.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scan.New(e.conn, scan.Options{AccountConcurrency: 2, BucketConcurrency: 2, DeadlineMargin: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	got := newCollector()
	if err := s.Scan(ctx, org.Targets, got); err != nil {
		t.Fatal(err)
	}
	incomplete := 0
	for _, a := range org.Targets {
		rs := got.accounts[a.ID]
		if len(rs) != 1 {
			t.Fatalf("account %s closed %d times; want once", a.ID, len(rs))
		}
		r := rs[0]
		switch r.Status {
		case inventory.AccountIncomplete:
			incomplete++
			if r.Failure == nil || r.Failure.Code != "Deadline" || r.Visited > r.Buckets {
				t.Errorf("account %s: %+v; want a Deadline failure", a.ID, r)
			}
		case inventory.AccountComplete:
			if r.Visited != 15 || r.Buckets != 15 {
				t.Errorf("complete account %s visited %d of %d", a.ID, r.Visited, r.Buckets)
			}
		default:
			t.Errorf("account %s: %s %+v; want COMPLETE or INCOMPLETE", a.ID, r.Status, r.Failure)
		}
		if len(r.Unreadable) != 0 {
			t.Errorf("account %s: unreadable %v; the deadline must not make buckets unreadable", a.ID, r.Unreadable)
		}
	}
	for k, rs := range got.buckets {
		if len(rs) != 1 || rs[0].Failure != nil {
			t.Errorf("bucket %s: %d deliveries, failure %+v; want one clean delivery", k, len(rs), rs[0].Failure)
		}
	}
	// 12 accounts × 15 buckets at 2×2 in flight and 20 ms a call need ~1.5 s.
	if incomplete == 0 {
		t.Errorf("no account cut short by a 400 ms deadline")
	}
}
