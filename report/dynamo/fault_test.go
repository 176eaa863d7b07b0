package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// faultyStore returns a store whose client goes through a fault proxy in
// front of the shared server (the table is created directly), and the
// proxy. Its retries and resends wait a few milliseconds.
func faultyStore(t *testing.T) (*Store, *testenv.FaultProxy) {
	t.Helper()
	direct := newTestStore(t, report.StoreOptions{}, nil)
	p := testenv.FaultProxyFor(t, server.Endpoint())
	// The SDK's standard retryer (3 attempts, retry quota) with short waits.
	fast := func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	}
	s, err := New(testenv.DynamoClient(p.Endpoint(), fast), direct.table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.retry = retryPolicy{attempts: 12, base: time.Millisecond, max: 8 * time.Millisecond}
	return s, p
}

// partition is the body fragment that marks an account's items.
func partition(account string) string { return `"` + accountPK(account) + `"` }

// findingsOf reads an account's current records by finding ID.
func findingsOf(t *testing.T, s *Store, account string) map[string]report.Record {
	t.Helper()
	rs, err := s.Findings(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]report.Record{}
	for _, r := range rs {
		out[r.FindingID] = r
	}
	return out
}

func TestThrottlingIsRetriedNothingLost(t *testing.T) {
	s, p := faultyStore(t)
	// More throttles in a row than the SDK's 3 attempts: the store's own
	// back-off carries the batch through; the reads are retried by the SDK.
	p.Add(testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultThrottle, Times: 5},
		testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultThrottling, Skip: 2, Times: 2},
		testenv.FaultRule{Op: "Query", Fault: testenv.FaultThrottle, Times: 2},
		testenv.FaultRule{Op: "UpdateItem", Fault: testenv.FaultThrottling, Times: 1},
		testenv.FaultRule{Op: "GetItem", Fault: testenv.FaultInternal, Times: 1},
		testenv.FaultRule{Op: "PutItem", Fault: testenv.FaultReset, Times: 1})
	fs := sinktest.Generate(sinktest.AccountA, 100, 5, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatalf("scan under throttling: %v", err)
	}
	if got := len(findingsOf(t, s, sinktest.AccountA)); got != 100 {
		t.Errorf("stored %d findings under throttling; want all 100", got)
	}
	if p.Injected("") != 12 {
		t.Errorf("faults injected %d; want every rule spent (12)", p.Injected(""))
	}
	if scans, err := s.AccountScans(context.Background()); err != nil || len(scans) != 1 {
		t.Errorf("AccountScans = %+v, %v; want the complete scan recorded", scans, err)
	}
}

func TestUnprocessedItemsResentUntilEmpty(t *testing.T) {
	s, p := faultyStore(t)
	p.Add(testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultUnprocessed, Times: 6},
		testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultUnprocessed, Keep: 0, Skip: 2, Times: 2})
	fs := sinktest.Generate(sinktest.AccountA, 80, 4, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	if got := len(findingsOf(t, s, sinktest.AccountA)); got != 80 {
		t.Errorf("stored %d findings; want all 80 after resending the unprocessed items", got)
	}
	st := s.Stats()
	if st.Resent == 0 || st.Items != 81 {
		t.Errorf("Stats() = %+v; want items resent and 81 items written (80 findings, the account's scan)", st)
	}
}

// TestFailedBatchOnlyItsAccount: one of account A's batches fails for
// good (a 500 on every attempt). A's other batches are still written (no
// batch is ever resent with the next: the old bug sent 26, 27, ... items),
// its stale findings are not resolved, AccountDone says so, account B is
// complete and resolved, and the run record is written.
func TestFailedBatchOnlyItsAccount(t *testing.T) {
	s, p := faultyStore(t)
	ctx := context.Background()
	a, b := sinktest.AccountA, sinktest.AccountB
	// Scan 1, no faults: A and B with a stale finding each.
	staleA := sinktest.NewFinding(a, sinktest.Spec{Bucket: "zz-old", Rule: "INV-001", Severity: rules.SeverityMedium}, "s1", sinktest.T0)
	staleB := sinktest.NewFinding(b, sinktest.Spec{Bucket: "zz-old", Rule: "INV-001", Severity: rules.SeverityMedium}, "s1", sinktest.T0)
	for _, acct := range []struct {
		id string
		f  rules.Finding
	}{{a, staleA}, {b, staleB}} {
		if err := scanOnce(t, s, "s1", sinktest.T0, acct.id, []rules.Finding{acct.f}, inventory.AccountComplete); err != nil {
			t.Fatal(err)
		}
	}

	// Scan 2: A's first batch fails on every attempt (its first finding
	// is in it and nowhere else).
	t1 := sinktest.T0.Add(24 * time.Hour)
	fsA := sinktest.Generate(a, 60, 5, "s2", t1)
	p.Add(testenv.FaultRule{Op: "BatchWriteItem", Match: fsA[0].FindingID, Fault: testenv.FaultInternal})
	run := report.Run{ScanID: "s2", StartedAt: t1}
	if err := s.Begin(ctx, run); err != nil {
		t.Fatal(err)
	}
	var putErrs []error
	for i := 0; i < len(fsA); i += 5 {
		if err := s.Put(ctx, fsA[i:i+5]); err != nil {
			putErrs = append(putErrs, err)
		}
	}
	if len(putErrs) != 1 || !strings.Contains(putErrs[0].Error(), "InternalServerError") {
		t.Errorf("Puts of A returned %d errors %v; want exactly one, the failed batch's", len(putErrs), putErrs)
	}
	doneA := inventory.AccountResult{Account: inventory.Account{ID: a}, Status: inventory.AccountComplete, FinishedAt: t1.Add(time.Minute)}
	err := s.AccountDone(ctx, "s2", doneA)
	if !errors.Is(err, report.ErrNotWritten) {
		t.Errorf("AccountDone(A) after a failed batch = %v; want report.ErrNotWritten", err)
	}
	if f := report.WriteFailure(err); f.Code != report.FailureWriteFailed {
		t.Errorf("WriteFailure = %+v; want code %s", f, report.FailureWriteFailed)
	}
	fsB := sinktest.Generate(b, 30, 5, "s2", t1)
	if err := s.Put(ctx, fsB); err != nil {
		t.Fatalf("Put of B: %v", err)
	}
	doneB := doneA
	doneB.Account.ID = b
	if err := s.AccountDone(ctx, "s2", doneB); err != nil {
		t.Fatalf("AccountDone(B): %v", err)
	}
	run.FinishedAt = t1.Add(2 * time.Minute)
	run.AccountsComplete, run.AccountsIncomplete = 1, 1
	if err := s.End(ctx, run); err != nil {
		t.Fatalf("End: %v", err)
	}

	recA := findingsOf(t, s, a)
	if r := recA[staleA.FindingID]; r.Status != rules.StatusOpen {
		t.Errorf("A's stale finding after a scan with a failed batch: %s; want OPEN (not resolved)", r.Status)
	}
	if got := len(recA); got != 1+60-BatchSize {
		t.Errorf("A holds %d records; want %d (the stale one, and all but the failed batch's %d)", got, 1+60-BatchSize, BatchSize)
	}
	recB := findingsOf(t, s, b)
	if r := recB[staleB.FindingID]; r.Status != rules.StatusResolved || r.Resolution != report.ResolutionNotSeen {
		t.Errorf("B's stale finding: %s (%s); want RESOLVED (NOT_SEEN)", r.Status, r.Resolution)
	}
	if got := len(recB); got != 31 {
		t.Errorf("B holds %d records; want 31", got)
	}
	runs, err := s.Runs(ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].ScanID != "s2" || runs[0].FinishedAt.IsZero() || runs[0].AccountsIncomplete != 1 {
		t.Errorf("Runs(1) = %+v, %v; want s2 ended, with one incomplete account", runs, err)
	}
	scans, err := s.AccountScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scans {
		if sc.AccountID == a && sc.ScanID != "s1" {
			t.Errorf("last complete scan of A = %s; want s1 (s2 did not write all of A)", sc.ScanID)
		}
	}
}

func TestPersistentFailureRunRecordStillWritten(t *testing.T) {
	s, p := faultyStore(t)
	// Every batch of A fails; B and the run record go through.
	p.Add(testenv.FaultRule{Op: "BatchWriteItem", Match: partition(sinktest.AccountA), Fault: testenv.FaultThrottle})
	ctx := context.Background()
	run := report.Run{ScanID: "s1", StartedAt: sinktest.T0}
	if err := s.Begin(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, append(sinktest.Generate(sinktest.AccountA, 3, 3, "s1", sinktest.T0), sinktest.Generate(sinktest.AccountB, 3, 3, "s1", sinktest.T0)...)); err != nil {
		t.Fatalf("Put below a batch: %v", err) // queued, nothing sent yet
	}
	for _, id := range []string{sinktest.AccountA, sinktest.AccountB} {
		err := s.AccountDone(ctx, "s1", inventory.AccountResult{Account: inventory.Account{ID: id}, Status: inventory.AccountComplete})
		if (err != nil) != (id == sinktest.AccountA) {
			t.Errorf("AccountDone(%s) = %v; want an error for A only", id, err)
		}
	}
	run.FinishedAt = sinktest.T0.Add(time.Minute)
	if err := s.End(ctx, run); err != nil {
		t.Fatalf("End: %v", err)
	}
	if got := len(findingsOf(t, s, sinktest.AccountB)); got != 3 {
		t.Errorf("B: %d findings; want 3", got)
	}
	if runs, err := s.Runs(ctx, 0); err != nil || len(runs) != 1 || runs[0].FinishedAt.IsZero() {
		t.Errorf("Runs = %+v, %v; want the run ended", runs, err)
	}
}

// TestFenceCallsPerBatch: the fence costs one UpdateItem per account and
// one GetItem per batch and per resolution, not one per item.
func TestFenceCallsPerBatch(t *testing.T) {
	s := newTestStore(t, report.StoreOptions{}, nil)
	fs := sinktest.Generate(sinktest.AccountA, 500, 5, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if want := 1 + st.BatchCalls + 1; st.Fences != want {
		t.Errorf("fence requests %d for %d batches; want %d (a claim, a check per batch, a check before resolving)", st.Fences, st.BatchCalls, want)
	}
}

// pages answers Query with the given LastEvaluatedKeys, one page each,
// then a last page without one.
type pages struct {
	API
	keys  []string
	calls int
}

func (p *pages) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.calls++
	out := &dynamodb.QueryOutput{Items: []map[string]types.AttributeValue{{"type": &types.AttributeValueMemberS{Value: "x"}}}}
	if p.calls <= len(p.keys) {
		out.LastEvaluatedKey = map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: "ACCOUNT#1"}, attrSK: &types.AttributeValueMemberS{Value: p.keys[p.calls-1]},
		}
	}
	return out, nil
}

// endless answers Query with a new LastEvaluatedKey every time.
type endless struct {
	API
	calls int
}

func (e *endless) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	e.calls++
	return &dynamodb.QueryOutput{LastEvaluatedKey: map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "ACCOUNT#1"}, attrSK: &types.AttributeValueMemberS{Value: fmt.Sprint("F#", e.calls)},
	}}, nil
}

func TestQueryGuardsAgainstBrokenPaging(t *testing.T) {
	ctx := context.Background()
	in, err := accountQuery("findings", "111111111111", findingPrefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(map[string]types.AttributeValue) error { return nil }

	ok := &pages{keys: []string{"F#a", "F#b"}}
	s, err := New(ok, "findings", report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.query(ctx, in, count); err != nil || ok.calls != 3 {
		t.Errorf("three good pages: %v after %d calls; want nil after 3", err, ok.calls)
	}
	if in.ExclusiveStartKey != nil {
		t.Error("query changed the caller's input")
	}

	repeat := &pages{keys: []string{"F#a", "F#b", "F#a", "F#c"}}
	s.api = repeat
	err = s.query(ctx, in, count)
	if err == nil || !strings.Contains(err.Error(), "again") || repeat.calls != 3 {
		t.Errorf("a repeated LastEvaluatedKey: %v after %d calls; want an error at the third page", err, repeat.calls)
	}

	e := &endless{}
	s.api, s.maxPages = e, 50
	err = s.query(ctx, in, count)
	if err == nil || !strings.Contains(err.Error(), "after 50") || e.calls != 50 {
		t.Errorf("endless pages: %v after %d calls; want an error after 50 pages", err, e.calls)
	}

	// The lifecycle read fails its account instead of resolving on a
	// partial listing.
	s2, err := New(&pagingStore{pages: &pages{keys: []string{"F#a", "F#a"}}}, "findings", report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Begin(ctx, report.Run{ScanID: "s1", StartedAt: sinktest.T0}); err != nil {
		t.Fatal(err)
	}
	err = s2.AccountDone(ctx, "s1", inventory.AccountResult{Account: inventory.Account{ID: "111111111111"}, Status: inventory.AccountComplete})
	if err == nil || !strings.Contains(err.Error(), "again") {
		t.Errorf("AccountDone over a broken listing = %v; want the paging error", err)
	}
}

// pagingStore is a client whose writes succeed and whose Query is pages'.
type pagingStore struct {
	API
	pages *pages
}

func (p *pagingStore) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return p.pages.Query(ctx, in, o...)
}

func (p *pagingStore) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

func (p *pagingStore) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

func TestLifecycleReadsAreConsistent(t *testing.T) {
	rec := &recorder{}
	s := newTestStore(t, report.StoreOptions{}, func(api API) API { rec.API = api; return rec })
	fs := sinktest.Generate(sinktest.AccountA, 30, 5, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	if rec.queries == 0 || rec.gets == 0 {
		t.Fatalf("lifecycle made %d queries and %d gets; want some of each", rec.queries, rec.gets)
	}
	if rec.eventual != 0 || rec.index != 0 {
		t.Errorf("lifecycle reads: %d eventually consistent, %d on an index; want none", rec.eventual, rec.index)
	}
}

// recorder counts the reads a store makes and how.
type recorder struct {
	API
	queries, gets, eventual, index int
}

func (r *recorder) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.queries++
	if !aws.ToBool(in.ConsistentRead) {
		r.eventual++
	}
	if in.IndexName != nil {
		r.index++
	}
	return r.API.Query(ctx, in, o...)
}

func (r *recorder) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.gets++
	if !aws.ToBool(in.ConsistentRead) {
		r.eventual++
	}
	return r.API.GetItem(ctx, in, o...)
}

// TestTransitionsOnlyOfWrittenItems: a batch written in part (the rest
// left in UnprocessedItems once the attempts are spent) reports the
// changes of the items written, and only those: what the listener hears
// is what the table holds.
func TestTransitionsOnlyOfWrittenItems(t *testing.T) {
	s, p := faultyStore(t)
	log := &report.TransitionLog{}
	s.opts.OnTransition = log.Record
	s.retry.attempts = 1
	p.Add(testenv.FaultRule{Op: "BatchWriteItem", Fault: testenv.FaultUnprocessed, Keep: 10})
	fs := sinktest.Generate(sinktest.AccountA, 25, 5, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err == nil {
		t.Fatal("a scan whose batch was written in part: no error")
	}
	ts, stale := log.Take("s1")
	stored := findingsOf(t, s, sinktest.AccountA)
	if stale != 0 || len(ts) != 10 || len(stored) != 10 {
		t.Fatalf("%d transitions (%d of other scans), %d records stored; want 10 of each", len(ts), stale, len(stored))
	}
	for _, tr := range ts {
		if _, ok := stored[tr.Record.FindingID]; !ok || tr.Kind != report.TransitionOpened {
			t.Errorf("reported %s of %s, which the table does not hold", tr.Kind, tr.Record.FindingID)
		}
	}
}

// TestKeyQueryRefusesABrokenBuilder: a key condition the expression
// builder cannot build is an error naming the table, never a panic.
func TestKeyQueryRefusesABrokenBuilder(t *testing.T) {
	in, err := keyQuery("findings", IndexRuns, expression.KeyConditionBuilder{}, nil)
	if err == nil || in != nil || !strings.Contains(err.Error(), "findings") {
		t.Fatalf("keyQuery of an unset key condition = %v, %v; want an error naming the table", in, err)
	}
}
