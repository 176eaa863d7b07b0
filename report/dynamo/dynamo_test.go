package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// flaky passes BatchWriteItem to the real client but, for its first
// `times` calls, sends only the first half of the items and returns the
// rest as UnprocessedItems, as DynamoDB does under load (dynalite never
// does). With times < 0 it never processes anything.
type flaky struct {
	API
	times   int64
	calls   atomic.Int64
	dropped atomic.Int64
}

func (f *flaky) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	n := f.calls.Add(1)
	if f.times >= 0 && n > f.times {
		return f.API.BatchWriteItem(ctx, in, opts...)
	}
	var table string
	for t := range in.RequestItems {
		table = t
	}
	reqs := in.RequestItems[table]
	keep := len(reqs) / 2
	if f.times < 0 {
		keep = 0
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: reqs[keep:]}}
	f.dropped.Add(int64(len(reqs) - keep))
	if keep > 0 {
		if _, err := f.API.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems: map[string][]types.WriteRequest{table: reqs[:keep]},
		}, opts...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanOnce runs one scan of one account with the given findings.
func scanOnce(t testing.TB, s *Store, scanID string, at time.Time, account string, fs []rules.Finding, status inventory.AccountStatus) error {
	t.Helper()
	ctx := context.Background()
	run := report.Run{ScanID: scanID, Trigger: "manual", StartedAt: at}
	if err := s.Begin(ctx, run); err != nil {
		return err
	}
	for i := 0; i < len(fs); {
		j := i + 1
		for j < len(fs) && fs[j].Bucket == fs[i].Bucket {
			j++
		}
		if err := s.Put(ctx, fs[i:j]); err != nil {
			return err
		}
		i = j
	}
	res := inventory.AccountResult{Account: inventory.Account{ID: account}, Status: status, StartedAt: at, FinishedAt: at.Add(time.Minute)}
	if err := s.AccountDone(ctx, scanID, res); err != nil {
		return err
	}
	run.FinishedAt = at.Add(2 * time.Minute)
	run.AccountsComplete = 1
	return s.End(ctx, run)
}

func TestUnprocessedItemsAreResent(t *testing.T) {
	f := &flaky{times: 3}
	s := newTestStore(t, report.StoreOptions{}, func(api API) API { f.API = api; return f })
	s.retry.base = time.Millisecond
	fs := sinktest.Generate(sinktest.AccountA, 60, 5, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Findings(context.Background(), sinktest.AccountA)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 60 {
		t.Errorf("stored %d findings; want all 60 after resending unprocessed items", len(recs))
	}
	st := s.Stats()
	if st.Resent != f.dropped.Load() || st.Resent == 0 {
		t.Errorf("Stats().Resent = %d; want the %d items returned unprocessed", st.Resent, f.dropped.Load())
	}
	// 61 items (60 findings, the account's scan record) in 3 batches, the
	// first three calls each leaving half behind: 3 more calls at least.
	if st.BatchCalls < 6 || st.Items != 61 {
		t.Errorf("Stats() = %+v; want >= 6 batch calls and 61 items written", st)
	}
}

func TestUnprocessedItemsGiveUp(t *testing.T) {
	f := &flaky{times: -1}
	s := newTestStore(t, report.StoreOptions{}, func(api API) API { f.API = api; return f })
	s.retry = retryPolicy{attempts: 4, base: time.Millisecond, max: 4 * time.Millisecond}
	fs := sinktest.Generate(sinktest.AccountA, 3, 3, "s1", sinktest.T0)
	err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete)
	if err == nil || !strings.Contains(err.Error(), "unprocessed after 4 attempts") {
		t.Fatalf("scan against a table that never processes = %v; want an error after 4 attempts", err)
	}
	if got := f.calls.Load(); got != 4 {
		t.Errorf("BatchWriteItem calls = %d; want 4", got)
	}
}

func TestUnprocessedBackoffHonoursContext(t *testing.T) {
	f := &flaky{times: -1}
	s := newTestStore(t, report.StoreOptions{}, func(api API) API { f.API = api; return f })
	s.retry = retryPolicy{attempts: 100, base: time.Hour, max: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	item, err := encodeRecord(report.Record{Finding: sinktest.Generate(sinktest.AccountA, 1, 1, "s1", sinktest.T0)[0]})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.writeBatch(ctx, []map[string]types.AttributeValue{item})
		done <- err
	}()
	for f.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("writeBatch cancelled during back-off = %v; want context.Canceled", err)
	}
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	p := retryPolicy{attempts: 10, base: 100 * time.Millisecond, max: time.Second}
	for attempt := 1; attempt <= 40; attempt++ {
		ceil := min(p.base<<min(attempt-1, 20), p.max)
		for range 20 {
			d := p.backoff(attempt)
			if d < ceil/2 || d > ceil {
				t.Fatalf("backoff(%d) = %s; want within [%s, %s]", attempt, d, ceil/2, ceil)
			}
		}
	}
}

// items reads the raw items of an account's partition.
func items(t *testing.T, s *Store, account string) []map[string]types.AttributeValue {
	t.Helper()
	var out []map[string]types.AttributeValue
	in, err := accountQuery(s.table, account, findingPrefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.query(context.Background(), in, func(av map[string]types.AttributeValue) error {
		out = append(out, av)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestStoredItems(t *testing.T) {
	const retention = 7 * 24 * time.Hour
	s := newTestStore(t, report.StoreOptions{Retention: retention}, nil)
	acct := sinktest.AccountA
	all := []rules.Finding{
		sinktest.NewFinding(acct, sinktest.Spec{Rule: "SCAN-004", Severity: rules.SeverityMedium}, "s1", sinktest.T0),
		sinktest.NewFinding(acct, sinktest.Spec{Bucket: "b1", Config: "c", Rule: "INV-103", Severity: rules.SeverityHigh, Waived: true}, "s1", sinktest.T0),
		sinktest.NewFinding(acct, sinktest.Spec{Bucket: "b2", Rule: "INV-001", Severity: rules.SeverityMedium}, "s1", sinktest.T0),
	}
	if err := scanOnce(t, s, "s1", sinktest.T0, acct, all, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	t1 := sinktest.T0.Add(24 * time.Hour)
	if err := scanOnce(t, s, "s2", t1, acct, all[1:], inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	byID := map[string]map[string]types.AttributeValue{}
	for _, it := range items(t, s, acct) {
		for name, v := range it {
			if sv, ok := v.(*types.AttributeValueMemberS); ok && sv.Value == "" {
				t.Errorf("item %s: attribute %s is an empty string; want it omitted", str(it[attrSK]), name)
			}
		}
		if isType(it, typeFinding) {
			byID[str(it["finding_id"])] = it
		}
	}
	resolved, waived, open := byID[all[0].FindingID], byID[all[1].FindingID], byID[all[2].FindingID]
	if resolved == nil || waived == nil || open == nil {
		t.Fatalf("stored findings %d; want 3", len(byID))
	}
	ttl, ok := resolved[TTLAttribute].(*types.AttributeValueMemberN)
	wantTTL := fmt.Sprint(t1.Add(time.Minute).Add(retention).Unix())
	if !ok || ttl.Value != wantTTL {
		t.Errorf("resolved item %s = %#v; want the Number %s (resolved_at + retention, epoch seconds)", TTLAttribute, resolved[TTLAttribute], wantTTL)
	}
	for _, name := range []string{attrOpenRule, attrOpenSeverity} {
		if _, ok := resolved[name]; ok {
			t.Errorf("resolved item carries %s; want it out of the open-findings indexes", name)
		}
		if _, ok := open[name]; !ok {
			t.Errorf("open item lacks %s; want it in the open-findings indexes", name)
		}
	}
	if _, ok := open[TTLAttribute]; ok {
		t.Errorf("open item carries %s; want no expiry while open", TTLAttribute)
	}
	if str(waived["waiver_reason"]) != "migration ticket OPS-42" || str(waived["waiver_expires"]) != "2099-12-31" || str(waived["status"]) != "WAIVED" {
		t.Errorf("waived item = status %q, waiver %q until %q; want WAIVED with its waiver", str(waived["status"]), str(waived["waiver_reason"]), str(waived["waiver_expires"]))
	}
	if got := str(open[attrSK]); got != "F#b2#"+all[2].FindingID {
		t.Errorf("sk = %q; want F#b2#<finding_id>", got)
	}
	if got := str(resolved[attrSK]); got != "F##"+all[0].FindingID {
		t.Errorf("account-level sk = %q; want F##<finding_id>", got)
	}
}

func TestTenThousandFindingsInOneScan(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 10,000 findings take a few seconds")
	}
	const n = 10000
	s := newTestStore(t, report.StoreOptions{}, nil)
	fs := sinktest.Generate(sinktest.AccountA, n, 7, "s1", sinktest.T0)
	if err := scanOnce(t, s, "s1", sinktest.T0, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	// Every finding written once, plus the account's scan record, in full
	// batches; the run record at Begin and End.
	if st.Items != n+1 || st.BatchCalls != (n+1+BatchSize-1)/BatchSize || st.PutItems != 2 || st.Resent != 0 {
		t.Errorf("first scan Stats() = %+v; want %d items in %d batch calls and 2 PutItems", st, n+1, (n+1+BatchSize-1)/BatchSize)
	}
	t.Logf("first scan of %d findings: %+v", n, st)
	recs, err := s.Findings(context.Background(), sinktest.AccountA)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("stored %d findings; want %d", len(recs), n)
	}
	// The same scan again a day later: same items, last_seen moved.
	t1 := sinktest.T0.Add(24 * time.Hour)
	fs = sinktest.Generate(sinktest.AccountA, n, 7, "s2", t1)
	if err := scanOnce(t, s, "s2", t1, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
		t.Fatal(err)
	}
	st = s.Stats()
	if st.Items != n+1 {
		t.Errorf("second scan wrote %d items; want %d (nothing resolved, no duplicates)", st.Items, n+1)
	}
	t.Logf("second scan of %d findings: %+v", n, st)
	recs, err = s.Findings(context.Background(), sinktest.AccountA)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n {
		t.Fatalf("after a second scan: %d findings; want %d", len(recs), n)
	}
	for _, r := range recs {
		if !r.FirstSeen.Equal(sinktest.T0) || !r.LastSeen.Equal(t1) {
			t.Fatalf("%s: first_seen %s, last_seen %s; want %s, %s", r.FindingID, r.FirstSeen, r.LastSeen, sinktest.T0, t1)
		}
	}
	runs, err := s.Runs(context.Background(), 1)
	if err != nil || len(runs) != 1 || runs[0].ScanID != "s2" {
		t.Fatalf("Runs(1) = %+v, %v; want s2", runs, err)
	}
}

func TestConcurrentPutsOfOneAccount(t *testing.T) {
	s := newTestStore(t, report.StoreOptions{}, nil)
	ctx := context.Background()
	fs := sinktest.Generate(sinktest.AccountA, 500, 5, "s1", sinktest.T0)
	if err := s.Begin(ctx, report.Run{ScanID: "s1", StartedAt: sinktest.T0}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < len(fs); i += 5 {
		wg.Go(func() {
			// Each bucket twice: duplicates across concurrent Puts.
			for range 2 {
				if err := s.Put(ctx, fs[i:i+5]); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	res := inventory.AccountResult{Account: inventory.Account{ID: sinktest.AccountA}, Status: inventory.AccountComplete}
	if err := s.AccountDone(ctx, "s1", res); err != nil {
		t.Fatal(err)
	}
	if err := s.End(ctx, report.Run{ScanID: "s1", StartedAt: sinktest.T0, FinishedAt: sinktest.T0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Findings(ctx, sinktest.AccountA)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(fs) {
		t.Errorf("stored %d findings; want %d", len(recs), len(fs))
	}
}

func TestEndWritesAccountsNeverClosed(t *testing.T) {
	s := newTestStore(t, report.StoreOptions{}, nil)
	ctx := context.Background()
	fs := sinktest.Generate(sinktest.AccountB, 3, 3, "s1", sinktest.T0)
	if err := s.Begin(ctx, report.Run{ScanID: "s1", StartedAt: sinktest.T0}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, fs); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().BatchCalls; got != 0 {
		t.Fatalf("3 findings sent in %d batch calls before AccountDone; want them queued", got)
	}
	if err := s.End(ctx, report.Run{ScanID: "s1", StartedAt: sinktest.T0, FinishedAt: sinktest.T0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Findings(ctx, sinktest.AccountB)
	if err != nil || len(recs) != 3 {
		t.Fatalf("after End without AccountDone: %d findings, %v; want 3", len(recs), err)
	}
	if scans, _ := s.AccountScans(ctx); len(scans) != 0 {
		t.Errorf("AccountScans = %+v; want none (the account was never closed)", scans)
	}
}

func TestRunRecordWrittenAtBeginAndCompletedAtEnd(t *testing.T) {
	s := newTestStore(t, report.StoreOptions{}, nil)
	ctx := context.Background()
	if err := s.Begin(ctx, report.Run{ScanID: "s1", Trigger: "schedule", StartedAt: sinktest.T0}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.Runs(ctx, 0)
	if err != nil || len(runs) != 1 || !runs[0].FinishedAt.IsZero() {
		t.Fatalf("Runs during a run = %+v, %v; want s1 with no finish time", runs, err)
	}
	if err := s.End(ctx, report.Run{ScanID: "s1", Trigger: "schedule", StartedAt: sinktest.T0, FinishedAt: sinktest.T0.Add(90 * time.Second),
		AccountsComplete: 2, AccountsFailed: 1, Buckets: 10, Configs: 4, BySeverity: map[string]int{"HIGH": 3}, ByRule: map[string]int{"INV-101": 3}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.api.Query(ctx, keyQueryRun(s.table, "s1"))
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("read run item: %v", err)
	}
	it := out.Items[0]
	for name, want := range map[string]string{"duration_ms": "90000", "accounts_complete": "2", "accounts_failed": "1", "writes": "2"} {
		if n, ok := it[name].(*types.AttributeValueMemberN); !ok || n.Value != want {
			t.Errorf("run item %s = %#v; want %s", name, it[name], want)
		}
	}
}

func keyQueryRun(table, scanID string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: runPrefix + scanID}},
	}
}

func TestTableDefinition(t *testing.T) {
	def := TableDefinition("findings")
	if def.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode %s; want PAY_PER_REQUEST", def.BillingMode)
	}
	defined := map[string]bool{}
	for _, a := range def.AttributeDefinitions {
		defined[aws.ToString(a.AttributeName)] = true
	}
	used := map[string]bool{}
	for _, k := range def.KeySchema {
		used[aws.ToString(k.AttributeName)] = true
	}
	for _, g := range def.GlobalSecondaryIndexes {
		name := aws.ToString(g.IndexName)
		if len(name) < 3 {
			t.Errorf("index %q: names need 3 characters at least", name)
		}
		for _, k := range g.KeySchema {
			used[aws.ToString(k.AttributeName)] = true
			if slices.Contains(g.Projection.NonKeyAttributes, aws.ToString(k.AttributeName)) {
				t.Errorf("index %s projects its own key %s as a non-key attribute", name, aws.ToString(k.AttributeName))
			}
		}
	}
	for a := range defined {
		if !used[a] {
			t.Errorf("attribute %s is defined but keys nothing (CreateTable rejects that)", a)
		}
	}
	for a := range used {
		if !defined[a] {
			t.Errorf("key attribute %s is not defined", a)
		}
	}
	if slices.Contains(findingProjection, "last_seen") || slices.Contains(findingProjection, "scan_id") {
		t.Error("the finding indexes project an attribute that changes every scan; each scan would cost index writes")
	}
}

func TestEnsureTable(t *testing.T) {
	s := newTestStore(t, report.StoreOptions{}, nil) // creates it
	ctx := context.Background()
	if err := s.EnsureTable(ctx); err != nil {
		t.Fatalf("EnsureTable on an existing table: %v", err)
	}
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		names = append(names, aws.ToString(g.IndexName))
	}
	slices.Sort(names)
	want := []string{IndexAccountsScanned, IndexChanges, IndexOpenByRule, IndexOpenBySeverity, IndexOpenCoverage, IndexRuns, IndexWaivers, IndexWorstAccounts}
	if !slices.Equal(names, want) {
		t.Errorf("created indexes %v; want %v", names, want)
	}

	other := TableDefinition("other-table")
	other.KeySchema = other.KeySchema[:1]
	other.AttributeDefinitions = other.AttributeDefinitions[:1]
	other.GlobalSecondaryIndexes = nil
	if _, err := s.api.CreateTable(ctx, other); err != nil {
		t.Fatal(err)
	}
	wrong, err := New(s.api, "other-table", report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.EnsureTable(ctx); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Errorf("EnsureTable on a table with another key schema = %v; want a key schema error", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	if _, err := New(nil, "findings", report.StoreOptions{}); err == nil {
		t.Error("New(nil client) succeeded")
	}
	if _, err := New(&flaky{}, "ab", report.StoreOptions{}); err == nil || !strings.Contains(err.Error(), `"ab"`) {
		t.Errorf("New with table \"ab\" = %v; want an error naming it", err)
	}
}
