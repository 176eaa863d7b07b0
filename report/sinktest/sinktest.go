package sinktest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Fixture is one fresh, empty sink under test.
type Fixture struct {
	Sink report.Sink
	// Output decodes the findings a stream sink has written so far, in
	// any order. Leave it nil for a store: the suite reads the store back
	// through its report.Querier.
	Output func(t *testing.T) []rules.Finding
	// Keep returns the part of a finding that the output keeps (a table
	// has no room for evidence); nil means all of it.
	Keep func(rules.Finding) rules.Finding
}

// The accounts of the suite's data.
const (
	AccountA = "111111111111"
	AccountB = "222222222222"
	AccountC = "333333333333"
)

// T0 is the time of the suite's first scan.
var T0 = time.Date(2026, 11, 2, 3, 4, 5, 0, time.UTC)

// sample returns findings of three accounts with every kind of content:
// account-level (no bucket), bucket-level, configuration-level with
// evidence, waived.
func sample(scanID string, at time.Time, accounts ...string) map[string][]rules.Finding {
	out := map[string][]rules.Finding{}
	for _, a := range accounts {
		out[a] = []rules.Finding{
			NewFinding(a, Spec{Bucket: "logs-" + a, Rule: "INV-001", Severity: rules.SeverityMedium}, scanID, at),
			NewFinding(a, Spec{Bucket: "data-" + a, Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh}, scanID, at),
			NewFinding(a, Spec{Bucket: "data-" + a, Config: "daily", Rule: "INV-103", Severity: rules.SeverityHigh, Waived: true}, scanID, at),
			NewFinding(a, Spec{Bucket: "data-" + a, Config: "weekly", Rule: "INV-107", Severity: rules.SeverityLow}, scanID, at),
			NewFinding(a, Spec{Bucket: "gone-" + a, Rule: "SCAN-003", Severity: rules.SeverityMedium}, scanID, at),
		}
	}
	return out
}

// RunSinkTests runs the tests every sink passes. newFixture returns a new,
// empty sink for each subtest.
func RunSinkTests(t *testing.T, newFixture func(t *testing.T) Fixture) {
	t.Run("OutOfOrderCallsFail", func(t *testing.T) { testOrder(t, newFixture(t)) })
	t.Run("OneRunConcurrentAccounts", func(t *testing.T) { testOneRun(t, newFixture(t)) })
	t.Run("EmptyRun", func(t *testing.T) { testEmpty(t, newFixture(t)) })
	t.Run("ReusedAcrossRuns", func(t *testing.T) { testReuse(t, newFixture(t)) })
}

func testOrder(t *testing.T, fx Fixture) {
	ctx := context.Background()
	s := fx.Sink
	f := sample("s1", T0, AccountA)[AccountA][:1]
	res := complete(AccountA, T0)
	if err := s.Put(ctx, f); !errors.Is(err, report.ErrNoRun) {
		t.Errorf("Put before Begin = %v; want ErrNoRun", err)
	}
	if err := s.AccountDone(ctx, "s1", res); !errors.Is(err, report.ErrNoRun) {
		t.Errorf("AccountDone before Begin = %v; want ErrNoRun", err)
	}
	if err := s.End(ctx, report.Run{ScanID: "s1", StartedAt: T0}); !errors.Is(err, report.ErrNoRun) {
		t.Errorf("End before Begin = %v; want ErrNoRun", err)
	}
	run := report.Run{ScanID: "s1", Trigger: "manual", StartedAt: T0}
	must(t, s.Begin(ctx, run))
	run.FinishedAt = T0.Add(time.Minute)
	must(t, s.End(ctx, run))
	if err := s.Put(ctx, f); !errors.Is(err, report.ErrNoRun) {
		t.Errorf("Put after End = %v; want ErrNoRun", err)
	}
	if err := s.End(ctx, run); !errors.Is(err, report.ErrNoRun) {
		t.Errorf("second End = %v; want ErrNoRun", err)
	}
	if got := output(t, fx, AccountA); len(got) != 0 {
		t.Errorf("output after rejected calls holds %d findings; want none", len(got))
	}
}

func testOneRun(t *testing.T, fx Fixture) {
	data := sample("s1", T0, AccountA, AccountB, AccountC)
	runOnce(t, fx.Sink, "s1", T0, data)
	var want []rules.Finding
	for _, fs := range data {
		want = append(want, fs...)
	}
	same(t, fx, output(t, fx, AccountA, AccountB, AccountC), want)
}

func testEmpty(t *testing.T, fx Fixture) {
	ctx := context.Background()
	run := report.Run{ScanID: "s1", Trigger: "cli", StartedAt: T0}
	must(t, fx.Sink.Begin(ctx, run))
	must(t, fx.Sink.Put(ctx, nil))
	must(t, fx.Sink.Put(ctx, []rules.Finding{}))
	must(t, fx.Sink.AccountDone(ctx, "s1", complete(AccountA, T0)))
	run.FinishedAt = T0.Add(time.Minute)
	must(t, fx.Sink.End(ctx, run))
	if got := output(t, fx, AccountA); len(got) != 0 {
		t.Errorf("empty run wrote %d findings; want none", len(got))
	}
}

func testReuse(t *testing.T, fx Fixture) {
	first := sample("s1", T0, AccountA)
	second := sample("s2", T0.Add(24*time.Hour), AccountB)
	runOnce(t, fx.Sink, "s1", T0, first)
	runOnce(t, fx.Sink, "s2", T0.Add(24*time.Hour), second)
	want := append(slices.Clone(first[AccountA]), second[AccountB]...)
	same(t, fx, output(t, fx, AccountA, AccountB), want)
}

// runOnce runs one scan: the accounts concurrently, each putting its
// findings one bucket at a time and closing as COMPLETE.
func runOnce(t *testing.T, s report.Sink, scanID string, at time.Time, data map[string][]rules.Finding) {
	t.Helper()
	ctx := context.Background()
	run := report.Run{ScanID: scanID, Trigger: "manual", StartedAt: at}
	must(t, s.Begin(ctx, run))
	var wg sync.WaitGroup
	errs := make(chan error, len(data))
	for acct, fs := range data {
		wg.Go(func() {
			for _, group := range byBucket(fs) {
				if err := s.Put(ctx, group); err != nil {
					errs <- err
					return
				}
			}
			if err := s.AccountDone(ctx, scanID, complete(acct, at)); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("scan %s: %v", scanID, err)
	}
	run.FinishedAt = at.Add(2 * time.Minute)
	run.AccountsComplete = len(data)
	must(t, s.End(ctx, run))
}

// byBucket splits findings into one group per bucket, in order.
func byBucket(fs []rules.Finding) [][]rules.Finding {
	var out [][]rules.Finding
	for i, f := range fs {
		if i > 0 && fs[i-1].Bucket == f.Bucket {
			out[len(out)-1] = append(out[len(out)-1], f)
			continue
		}
		out = append(out, []rules.Finding{f})
	}
	return out
}

func complete(account string, at time.Time) inventory.AccountResult {
	return inventory.AccountResult{
		Account: inventory.Account{ID: account, Name: "acct-" + account[len(account)-4:]},
		Status:  inventory.AccountComplete, Buckets: 3, Visited: 3, Configs: 3,
		StartedAt: at, FinishedAt: at.Add(time.Minute),
	}
}

// output returns what the fixture's sink holds: a stream's decoded output,
// or the current records of the accounts in a store.
func output(t *testing.T, fx Fixture, accounts ...string) []rules.Finding {
	t.Helper()
	if fx.Output != nil {
		return fx.Output(t)
	}
	q, ok := fx.Sink.(report.Querier)
	if !ok {
		t.Fatalf("fixture of %T has no Output and the sink is not a report.Querier", fx.Sink)
	}
	var out []rules.Finding
	for _, a := range accounts {
		rs, err := q.Findings(context.Background(), a)
		if err != nil {
			t.Fatalf("Findings(%s): %v", a, err)
		}
		for _, r := range rs {
			out = append(out, r.Finding)
		}
	}
	return out
}

// same compares got with want as multisets, after Keep.
func same(t *testing.T, fx Fixture, got, want []rules.Finding) {
	t.Helper()
	keep := fx.Keep
	if keep == nil {
		keep = func(f rules.Finding) rules.Finding { return f }
	}
	canon := func(fs []rules.Finding, k func(rules.Finding) rules.Finding) []string {
		out := make([]string, len(fs))
		for i, f := range fs {
			b, err := json.Marshal(k(f))
			if err != nil {
				t.Fatalf("encode finding: %v", err)
			}
			out[i] = string(b)
		}
		slices.Sort(out)
		return out
	}
	g := canon(got, func(f rules.Finding) rules.Finding { return f })
	w := canon(want, keep)
	for _, s := range w {
		if i, ok := slices.BinarySearch(g, s); ok {
			g = slices.Delete(g, i, i+1)
			continue
		}
		t.Errorf("missing from the output: %s", s)
	}
	for _, s := range g {
		t.Errorf("unexpected in the output: %s", s)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
