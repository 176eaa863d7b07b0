package report_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// fanStore is a Fanout of a store and a stream, queried through the
// store: what the CLI builds (the table and the terminal).
type fanStore struct {
	report.Sink
	report.Querier
}

func (f fanStore) CloseOutOfScope(ctx context.Context, scanID string, scope report.Scope) (int, error) {
	c, ok := f.Sink.(report.ScopeCloser)
	if !ok {
		return 0, errors.New("Fanout's sink is not a report.ScopeCloser")
	}
	return c.CloseOutOfScope(ctx, scanID, scope)
}

func newFanStore(m *report.Memory) report.Store {
	return fanStore{Sink: report.Fanout(report.NewJSON(io.Discard), m), Querier: m}
}

func TestFanoutConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		return sinktest.Fixture{Sink: newFanStore(report.NewMemory(report.StoreOptions{}))}
	})
}

func TestFanoutStore(t *testing.T) {
	sinktest.RunStoreTests(t, func(t *testing.T, o report.StoreOptions) func() report.Store {
		m := report.NewMemory(o)
		first := true
		return func() report.Store {
			if first {
				first = false
				return newFanStore(m)
			}
			return newFanStore(m.Share())
		}
	})
}

// failing is a sink whose every call fails, counting the calls.
type failing struct{ calls int }

var errFailing = errors.New("failing sink")

func (f *failing) Begin(context.Context, report.Run) error { f.calls++; return errFailing }
func (f *failing) Put(context.Context, []rules.Finding) error {
	f.calls++
	return errFailing
}
func (f *failing) AccountDone(context.Context, string, inventory.AccountResult) error {
	f.calls++
	return errFailing
}
func (f *failing) End(context.Context, report.Run) error { f.calls++; return errFailing }
func (f *failing) CloseOutOfScope(context.Context, string, report.Scope) (int, error) {
	f.calls++
	return 2, errFailing
}

func TestFanoutCallsEverySinkAndJoinsErrors(t *testing.T) {
	ctx := context.Background()
	first, m := &failing{}, report.NewMemory(report.StoreOptions{})
	fan := report.Fanout(first, report.NewJSON(io.Discard), m)
	run := report.Run{ScanID: "s1", StartedAt: sinktest.T0}
	if err := fan.Begin(ctx, run); !errors.Is(err, errFailing) {
		t.Fatalf("Begin = %v; want the failing sink's error", err)
	}
	f := sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "b", Rule: "INV-001", Severity: rules.SeverityMedium}, "s1", sinktest.T0)
	if err := fan.Put(ctx, []rules.Finding{f}); !errors.Is(err, errFailing) {
		t.Errorf("Put = %v; want the failing sink's error", err)
	}
	closer, ok := fan.(report.ScopeCloser)
	if !ok {
		t.Fatal("Fanout of three sinks is not a report.ScopeCloser")
	}
	n, err := closer.CloseOutOfScope(ctx, "s1", report.Scope{InScope: map[string]bool{}, At: sinktest.T0})
	if !errors.Is(err, errFailing) || n != 3 {
		t.Errorf("CloseOutOfScope = %d, %v; want 3 (2 from the first sink, 1 from the store) and the failing sink's error", n, err)
	}
	run.FinishedAt = sinktest.T0.Add(time.Minute)
	if err := fan.End(ctx, run); !errors.Is(err, errFailing) {
		t.Errorf("End = %v; want the failing sink's error", err)
	}
	if first.calls != 4 {
		t.Errorf("failing sink called %d times; want 4", first.calls)
	}
	// The store behind the failing sink got everything.
	rs, err := m.Findings(ctx, sinktest.AccountA)
	if err != nil || len(rs) != 1 || rs[0].Resolution != "OUT_OF_SCOPE_REMOVED" {
		t.Errorf("store behind a failing sink holds %+v, %v; want the finding, closed as OUT_OF_SCOPE_REMOVED", rs, err)
	}
	runs, _ := m.Runs(ctx, 0)
	if len(runs) != 1 || runs[0].FinishedAt.IsZero() {
		t.Errorf("store behind a failing sink: runs %+v; want s1 ended", runs)
	}
}

func TestFanoutOfOneIsTheSink(t *testing.T) {
	m := report.NewMemory(report.StoreOptions{})
	if got := report.Fanout(m); got != report.Sink(m) {
		t.Errorf("Fanout(m) = %T; want m itself", got)
	}
}

func TestScopeOf(t *testing.T) {
	org := inventory.Org{
		FromOrganizations: true,
		Members:           map[string]bool{"111111111111": true, "222222222222": true, "333333333333": true},
		Targets:           []inventory.Account{{ID: "111111111111"}},
		OutOfScope:        map[string]string{"222222222222": "SUSPENDED", "333333333333": inventory.OutOfScopeExcluded},
	}
	s, err := report.ScopeOf(org, sinktest.T0)
	if err != nil {
		t.Fatal(err)
	}
	for acct, want := range map[string]string{
		"111111111111": "", "222222222222": "SUSPENDED", "333333333333": "EXCLUDED", "444444444444": "REMOVED",
	} {
		if got := s.Reason(acct); got != want {
			t.Errorf("Reason(%s) = %q; want %q", acct, got, want)
		}
	}
	org.OutOfScope["222222222222"] = "CLOSED"
	if s.Reason("222222222222") != "SUSPENDED" {
		t.Error("ScopeOf shares the Org's OutOfScope map; want a copy")
	}
	if _, err := report.ScopeOf(inventory.Org{Targets: org.Targets}, sinktest.T0); err == nil {
		t.Error("ScopeOf(a static account list) succeeded; want an error: nothing is known about the other accounts")
	}
	if _, err := report.ScopeOf(inventory.Org{FromOrganizations: true}, sinktest.T0); err == nil {
		t.Error("ScopeOf(an empty listing) succeeded; want an error")
	}
}

func TestWriteFailure(t *testing.T) {
	sup := &report.SupersededError{Account: "111111111111", ScanID: "s1", By: "s2"}
	if f := report.WriteFailure(sup); f.Code != report.FailureSuperseded || f.Message != sup.Error() {
		t.Errorf("WriteFailure(superseded) = %+v; want code %s", f, report.FailureSuperseded)
	}
	if f := report.WriteFailure(errors.New("throttled")); f.Code != report.FailureWriteFailed {
		t.Errorf("WriteFailure(other) = %+v; want code %s", f, report.FailureWriteFailed)
	}
}
