package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// faultCase is one row of the fault matrix (docs/reliability.md): a
// clean scan of the golden organization, then a scan under the fault, on
// the same findings table.
type faultCase struct {
	name string
	// sim are the simulator's options for both scans (throttling, rate
	// limits); aws is injected before the second scan only.
	sim []awssim.Option
	aws []awssim.Fault
	// db is injected in front of dynalite before the second scan; with
	// db set the table is DynamoDB (dynalite), otherwise report.Memory.
	db []testenv.FaultRule
	// deadline, when set, is the second scan's time to run (its margin
	// is one second).
	deadline time.Duration
	// unreadable are the buckets the second scan must report SCAN-003;
	// notComplete the accounts it must not close COMPLETE.
	unreadable  []string
	notComplete []string
	// unverified are the destination buckets the second scan must report
	// SCAN-005 on (their destination checks not made).
	unverified []string
}

// TestFaultMatrixLosesNothing injects each fault through the simulated
// organization or in front of dynalite and checks that nothing was lost:
// no finding of the clean scan is resolved by the faulty one (the
// organization did not change), every account not scanned completely and
// every bucket not read has its coverage finding, and the run record is
// written.
func TestFaultMatrixLosesNothing(t *testing.T) {
	const payments, alice = "222222222222", "555555555555"
	const archive, central = "111111111111", "acme-inventory-us-east-1"
	ddbThrottle := testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultThrottle, Times: 6}
	for _, tc := range []faultCase{
		{name: "AccessDenied at AssumeRole", aws: []awssim.Fault{{Op: "AssumeRole", Account: payments, Error: "AccessDenied"}}, notComplete: []string{payments}},
		{name: "AccessDenied at ListBuckets", aws: []awssim.Fault{{Op: "ListBuckets", Account: payments, Error: "AccessDenied"}}, notComplete: []string{payments}},
		{name: "AccessDenied at ListBucketInventoryConfigurations", aws: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "inv101-sse-s3", Error: "AccessDenied"}}, unreadable: []string{"inv101-sse-s3"}},
		{name: "NoSuchBucket mid-scan", aws: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "inv003-partial", Error: "NoSuchBucket"}}, unreadable: []string{"inv003-partial"}},
		// Bursts the SDK's five attempts absorb, at the account's first
		// calls (AssumeRole, ListBuckets); longer ones are in scan's
		// TestFaultMatrix (the account is INCOMPLETE, not failed).
		{name: "500 burst", aws: []awssim.Fault{{Account: payments, Error: "InternalError", Times: 4}}},
		{name: "503 burst", aws: []awssim.Fault{{Account: payments, Error: "ServiceUnavailable", Times: 4}}},
		{name: "connection resets", aws: []awssim.Fault{{Account: payments, Error: "ConnectionReset", Times: 4}}},
		{name: "slow responses", aws: []awssim.Fault{{Account: payments, Delay: 40 * time.Millisecond, Times: 10}}},
		{name: "throttled AssumeRole", aws: []awssim.Fault{{Op: "AssumeRole", Account: payments, Error: "Throttle", Times: 3}}},
		{name: "random throttling", sim: []awssim.Option{awssim.WithThrottle(0.15, 7)}},
		{name: "per-account rate limit", sim: []awssim.Option{awssim.WithAccountRateLimit(50, 20)}},
		{name: "deadline mid-account", aws: []awssim.Fault{{Op: "ListBucketInventoryConfigurations", Bucket: "inv101-sse-s3", Delay: time.Minute}},
			deadline: 3 * time.Second, notComplete: []string{payments}},
		// Destination reads (the log archive 111111111111 owns the
		// destinations): a read that fails is SCAN-005, and the
		// destination findings of the configurations it affects stay open.
		{name: "AccessDenied at GetBucketPolicy", aws: []awssim.Fault{{Op: "GetBucketPolicy", Bucket: central, Error: "AccessDenied"}}, unverified: []string{central}},
		{name: "AccessDenied at ListObjectsV2", aws: []awssim.Fault{{Op: "ListObjectsV2", Bucket: central, Error: "AccessDenied"}}, unverified: []string{central}},
		{name: "AccessDenied at DescribeKey", aws: []awssim.Fault{{Op: "DescribeKey", Account: archive, Error: "AccessDenied"}}, unverified: []string{central}},
		{name: "AccessDenied at GetKeyPolicy", aws: []awssim.Fault{{Op: "GetKeyPolicy", Account: archive, Error: "AccessDenied"}}, unverified: []string{central}},
		{name: "500 at GetBucketPolicy", aws: []awssim.Fault{{Op: "GetBucketPolicy", Bucket: central, Error: "InternalError", Times: 3}}},
		{name: "throttled destination reads", aws: []awssim.Fault{{Op: "ListObjectsV2", Error: "Throttle", Times: 6}, {Op: "DescribeKey", Error: "Throttle", Times: 2}}},
		{name: "DynamoDB throttling", db: []testenv.FaultRule{ddbThrottle, {Op: "Query", Fault: testenv.FaultThrottling, Times: 3}}},
		{name: "DynamoDB UnprocessedItems", db: []testenv.FaultRule{{Op: "BatchWriteItem", Fault: testenv.FaultUnprocessed, Times: 6}}},
		{name: "DynamoDB 500s and resets", db: []testenv.FaultRule{{Op: "BatchWriteItem", Fault: testenv.FaultInternal, Times: 2}, {Fault: testenv.FaultReset, Times: 1}}},
		{name: "DynamoDB write failing for one account", db: []testenv.FaultRule{{Op: "BatchWriteItem", Match: "ACCOUNT#" + alice, Fault: testenv.FaultInternal}},
			notComplete: []string{alice}},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

func (tc faultCase) run(t *testing.T) {
	ctx := context.Background()
	srv, settings := golden(t, tc.sim...)
	var (
		store report.Store
		proxy *testenv.FaultProxy
	)
	if tc.db != nil {
		endpoint := testenv.Dynalite(t)
		proxy = testenv.FaultProxyFor(t, endpoint)
		table := "faults-" + strings.NewReplacer(" ", "-", "/", "-").Replace(strings.ToLower(tc.name))
		ds, err := dynamo.New(testenv.DynamoClient(proxy.Endpoint()), table, report.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.EnsureTable(ctx); err != nil {
			t.Fatal(err)
		}
		store = ds
	} else {
		store = report.NewMemory(report.StoreOptions{})
	}
	settings.Sink, settings.Config.DeadlineMargin = store, time.Second
	scanWith := func(ctx context.Context) (report.Summary, error) { return pipeline.Run(ctx, settings) }

	clean, err := scanWith(ctx)
	if err != nil {
		t.Fatalf("clean scan: %v", err)
	}
	before := openFindings(t, store, clean)

	for _, f := range tc.aws {
		srv.AddFault(f)
	}
	if proxy != nil {
		proxy.Add(tc.db...)
	}
	faultCtx := ctx
	if tc.deadline > 0 {
		var cancel context.CancelFunc
		faultCtx, cancel = context.WithTimeout(ctx, tc.deadline)
		defer cancel()
	}
	sum, err := scanWith(faultCtx)
	if err != nil {
		t.Fatalf("scan under the fault: %v", err)
	}
	if proxy != nil {
		proxy.Clear() // read the outcome without the fault
	}

	// The run record is written.
	runs, err := store.Runs(ctx, 0)
	if err != nil || len(runs) != 2 || runs[0].ScanID != sum.ScanID || runs[0].FinishedAt.IsZero() {
		t.Fatalf("runs %+v (%v); want the faulty scan's finished run record first", runs, err)
	}
	// Nothing the clean scan found is resolved by the faulty one.
	after := openFindings(t, store, clean)
	for id, f := range before {
		if _, ok := after[id]; !ok {
			t.Errorf("%s %s %s/%s: open after the clean scan, resolved by the scan under the fault", f.RuleID, f.FindingID, f.AccountID, f.Bucket)
		}
	}
	// Every account not scanned completely has its coverage finding from
	// this scan, and the accounts the case names are among them.
	failed := map[string]bool{}
	for _, a := range sum.Failed {
		failed[a.Account.ID] = true
		r, ok := rules.AccountCoverage(a.Status)
		if !ok {
			t.Fatalf("account %s: status %s has no coverage rule", a.Account.ID, a.Status)
		}
		if a.Failure != nil && a.Failure.Code == "WriteFailed" {
			// Its findings could not be written, its coverage finding
			// neither: the run record counts it.
			if runs[0].AccountsIncomplete == 0 {
				t.Errorf("account %s: writes failed, and the run record counts no incomplete account", a.Account.ID)
			}
			continue
		}
		if !hasFinding(after, a.Account.ID, "", r.ID, sum.ScanID) {
			t.Errorf("account %s %s (%v): no open %s of this scan", a.Account.ID, a.Status, a.Failure, r.ID)
		}
	}
	for _, id := range tc.notComplete {
		if !failed[id] {
			t.Errorf("account %s: closed COMPLETE under the fault; want it not complete", id)
		}
	}
	// Outside the cases that cut accounts short, only the golden
	// organization's own two failures (no role, no ListBuckets) remain.
	if want := 2 + len(tc.notComplete); len(sum.Failed) != want {
		t.Errorf("%d accounts not fully scanned (%v); want %d", len(sum.Failed), accountIDs(sum.Failed), want)
	}
	for _, b := range tc.unverified {
		if !hasFinding(after, "", b, "SCAN-005", sum.ScanID) {
			t.Errorf("destination %s: no open SCAN-005 of this scan", b)
		}
	}
	unreadable, _ := rules.BucketCoverage()
	for _, b := range tc.unreadable {
		if !hasFinding(after, "", b, unreadable.ID, sum.ScanID) {
			t.Errorf("bucket %s: no open %s of this scan", b, unreadable.ID)
		}
	}
}

// openFindings returns the open and waived findings of the accounts of a
// scan, by finding ID.
func openFindings(t *testing.T, q report.Querier, sum report.Summary) map[string]report.Record {
	t.Helper()
	out := map[string]report.Record{}
	for _, id := range []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "777777777777"} {
		recs, err := q.OpenByAccount(context.Background(), id)
		if err != nil {
			t.Fatalf("open findings of %s: %v", id, err)
		}
		for _, r := range recs {
			out[r.FindingID] = r
		}
	}
	if len(out) == 0 {
		t.Fatalf("scan %s: no open finding at all", sum.ScanID)
	}
	return out
}

func hasFinding(open map[string]report.Record, account, bucket, rule, scanID string) bool {
	for _, r := range open {
		if r.RuleID == rule && r.ScanID == scanID && (account == "" || r.AccountID == account) && (bucket == "" || r.Bucket == bucket) {
			return true
		}
	}
	return false
}

func accountIDs(rs []inventory.AccountResult) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, fmt.Sprintf("%s:%s", r.Account.ID, r.Status))
	}
	slices.Sort(ids)
	return ids
}

// TestOutOfScopeAccountsClosed scans the golden organization, then scans
// it again with one account excluded by the filters: that account's open
// findings are resolved as OUT_OF_SCOPE_EXCLUDED, and nothing else. A run
// of selected accounts, or of a static list, closes nothing.
func TestOutOfScopeAccountsClosed(t *testing.T) {
	ctx := context.Background()
	_, base := golden(t)
	store := report.NewMemory(report.StoreOptions{})
	base.Sink = store
	cfg := base.Config
	settings := func(c config.Config, only ...string) pipeline.Settings {
		s := base
		s.Config, s.OnlyAccounts = c, only
		return s
	}
	const payments = "222222222222"
	if _, err := pipeline.Run(ctx, settings(cfg)); err != nil {
		t.Fatal(err)
	}
	open := func(account string) int {
		recs, err := store.OpenByAccount(ctx, account)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	n := open(payments)
	if n == 0 {
		t.Fatal("the golden organization's payments account has no open finding")
	}
	others := map[string]int{}
	for _, id := range []string{"111111111111", "333333333333", "444444444444", "555555555555", "777777777777"} {
		others[id] = open(id)
	}

	excluded := cfg
	excluded.Filter.ExcludeAccounts = []string{payments}
	// Neither a run of selected accounts nor a static list says anything
	// about the accounts it does not scan.
	static := excluded
	static.AccountSource, static.Accounts, static.Filter = config.SourceStatic, []string{"111111111111"}, scan.Filter{}
	for _, s := range []pipeline.Settings{settings(excluded, "111111111111"), settings(static)} {
		sum, err := pipeline.Run(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if sum.OutOfScopeClosed != 0 || open(payments) != n {
			t.Fatalf("a partial run closed %d findings; %d of %d of the excluded account's are open", sum.OutOfScopeClosed, open(payments), n)
		}
	}

	sum, err := pipeline.Run(ctx, settings(excluded))
	if err != nil {
		t.Fatal(err)
	}
	if sum.OutOfScopeClosed != n || open(payments) != 0 {
		t.Errorf("%d findings closed, %d of %d still open; want all %d of the excluded account closed", sum.OutOfScopeClosed, open(payments), n, n)
	}
	recs, err := store.Findings(ctx, payments)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Status == rules.StatusResolved && r.Resolution != report.OutOfScopeResolution(inventory.OutOfScopeExcluded) {
			t.Errorf("%s %s: resolution %q; want %q", r.RuleID, r.Bucket, r.Resolution, report.OutOfScopeResolution(inventory.OutOfScopeExcluded))
		}
	}
	for id, want := range others {
		if got := open(id); got != want {
			t.Errorf("account %s in scope: %d open findings after the run that excluded another; want %d", id, got, want)
		}
	}
}
