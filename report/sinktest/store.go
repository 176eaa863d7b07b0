package sinktest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Retention is the retention RunStoreTests configures its stores with (not
// the default, to show that the option is honoured).
const Retention = 30 * 24 * time.Hour

// NewStore creates a new, empty backing (a table) for one subtest and
// returns open, which returns a store on it with the given options: each
// call a new store, as a second process on the same table would have, so
// that the suite can overlap runs.
type NewStore func(t *testing.T, opts report.StoreOptions) (open func() report.Store)

// RunStoreTests runs the lifecycle and query tests every store passes.
func RunStoreTests(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*harness)
	}{
		{"Lifecycle", testLifecycle},
		{"IncompleteScanResolvesNothing", testIncomplete},
		{"FailedRoleResolvesNothing", testFailedRole},
		{"UnreadableBucketsNotResolved", testUnreadable},
		{"UnverifiedDestinationsNotResolved", testUnverified},
		{"OtherAccountsUntouched", testOtherAccounts},
		{"IdempotentRerun", testIdempotent},
		{"DuplicatesInOnePut", testDuplicates},
		{"InvalidFindingsWriteNothing", testInvalid},
		{"ExpiredRecordsHiddenAndRenewed", testExpiry},
		{"Queries", testQueries},
		{"PagedQueries", testPaged},
		{"PageTokens", testPageTokens},
		{"OutOfScopeClosed", testOutOfScope},
		{"OutOfScopeOutsideRun", testOutOfScopeOutsideRun},
		{"OverlapOlderRunLoses", testOverlapOlderLoses},
		{"OverlapInterleaved", testOverlapInterleaved},
		{"Transitions", testTransitions},
		{"TransitionsOverlap", testTransitionsOverlap},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{t: t, ctx: context.Background(), log: &report.TransitionLog{}}
			h.now = T0
			h.open = newStore(t, report.StoreOptions{Retention: Retention, Now: h.clock, OnTransition: h.log.Record})
			h.store = h.open()
			tc.fn(h)
		})
	}
}

// harness drives a store through scans on a controlled clock.
type harness struct {
	t     *testing.T
	ctx   context.Context
	store report.Store
	open  func() report.Store
	log   *report.TransitionLog // what the store reports
	mu    sync.Mutex
	now   time.Time
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) setClock(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = t
}

// acct is one account in a scan: its outcome and the findings it produced.
type acct struct {
	id         string
	status     inventory.AccountStatus // COMPLETE when empty
	unreadable []string
	unverified []string
	specs      []Spec
}

// scan runs one scan at the given time and returns its run record and
// findings by account. Each account's result finishes a minute after at,
// and the run two minutes after.
func (h *harness) scan(id string, at time.Time, accts ...acct) (report.Run, map[string][]rules.Finding) {
	h.t.Helper()
	h.setClock(at)
	run := report.Run{ScanID: id, Trigger: "schedule", StartedAt: at, BySeverity: map[string]int{}, ByRule: map[string]int{}}
	must(h.t, h.store.Begin(h.ctx, run))
	out := map[string][]rules.Finding{}
	for _, a := range accts {
		var fs []rules.Finding
		for _, s := range a.specs {
			f := NewFinding(a.id, s, id, at)
			fs = append(fs, f)
			run.BySeverity[f.Severity.String()]++
			run.ByRule[f.RuleID]++
		}
		out[a.id] = fs
		for _, group := range byBucket(fs) {
			must(h.t, h.store.Put(h.ctx, group))
		}
		res := complete(a.id, at)
		res.Unreadable = a.unreadable
		res.Unverified = a.unverified
		if len(fs) > 0 && fs[0].OUName != "" {
			res.Account.OUID, res.Account.OUName = fs[0].OUID, fs[0].OUName
		}
		if a.status != "" {
			res.Status = a.status
		}
		switch res.Status {
		case inventory.AccountComplete:
			run.AccountsComplete++
		case inventory.AccountIncomplete:
			run.AccountsIncomplete++
		default:
			run.AccountsFailed++
		}
		must(h.t, h.store.AccountDone(h.ctx, id, res))
	}
	run.Buckets, run.Configs = 7, 5
	run.FinishedAt = at.Add(2 * time.Minute)
	must(h.t, h.store.End(h.ctx, run))
	return run, out
}

// records returns the current records of an account by finding ID.
func (h *harness) records(account string) map[string]report.Record {
	h.t.Helper()
	rs, err := h.store.Findings(h.ctx, account)
	if err != nil {
		h.t.Fatalf("Findings(%s): %v", account, err)
	}
	out := map[string]report.Record{}
	for _, r := range rs {
		if _, dup := out[r.FindingID]; dup {
			h.t.Errorf("Findings(%s) returns %s twice", account, r.FindingID)
		}
		if r.History {
			h.t.Errorf("Findings(%s) returns an archived episode of %s", account, r.FindingID)
		}
		out[r.FindingID] = r
	}
	return out
}

// check asserts the lifecycle fields of one record.
func (h *harness) check(recs map[string]report.Record, f rules.Finding, status rules.Status, first, last, resolved time.Time) {
	h.t.Helper()
	r, ok := recs[f.FindingID]
	if !ok {
		h.t.Errorf("%s %s/%s: no record; want %s", f.RuleID, f.Bucket, f.ConfigID, status)
		return
	}
	name := fmt.Sprintf("%s %s/%s", f.RuleID, f.Bucket, f.ConfigID)
	if r.Status != status {
		h.t.Errorf("%s: status %s; want %s", name, r.Status, status)
	}
	if !r.FirstSeen.Equal(first) || !r.LastSeen.Equal(last) {
		h.t.Errorf("%s: first_seen %s, last_seen %s; want %s, %s", name, r.FirstSeen, r.LastSeen, first, last)
	}
	if !r.ResolvedAt.Equal(resolved) {
		h.t.Errorf("%s: resolved_at %s; want %s", name, r.ResolvedAt, resolved)
	}
	if (status == rules.StatusResolved) != (r.Resolution != "") {
		h.t.Errorf("%s: status %s with resolution %q; want a resolution exactly when resolved", name, r.Status, r.Resolution)
	}
	var wantExpiry time.Time
	if !resolved.IsZero() {
		wantExpiry = resolved.Add(Retention)
	}
	if !r.ExpiresAt.Equal(wantExpiry) {
		h.t.Errorf("%s: expires_at %s; want %s", name, r.ExpiresAt, wantExpiry)
	}
}

// sameFinding asserts that a stored record holds the finding as put.
func (h *harness) sameFinding(recs map[string]report.Record, f rules.Finding) {
	h.t.Helper()
	r := recs[f.FindingID]
	got, want := r.Finding, f
	if !got.ObservedAt.Equal(want.ObservedAt) {
		h.t.Errorf("%s: observed_at %s; want %s", f.FindingID, got.ObservedAt, want.ObservedAt)
	}
	got.ObservedAt, want.ObservedAt = time.Time{}, time.Time{}
	gw, ww := got.Waiver, want.Waiver
	got.Waiver, want.Waiver = nil, nil
	gotEv, wantEv := got.Evidence, want.Evidence
	got.Evidence, want.Evidence = nil, nil
	if !reflect.DeepEqual(got, want) {
		h.t.Errorf("stored finding differs from the one put:\n got %+v\nwant %+v", got, want)
	}
	if !maps.Equal(gotEv, wantEv) {
		h.t.Errorf("%s: evidence %v; want %v", f.FindingID, gotEv, wantEv)
	}
	if (gw == nil) != (ww == nil) || (gw != nil && *gw != *ww) {
		h.t.Errorf("%s: waiver %+v; want %+v", f.FindingID, gw, ww)
	}
}

var (
	specMissing  = Spec{Bucket: "b1", Rule: "INV-001", Severity: rules.SeverityMedium}
	specNoKMS    = Spec{Bucket: "b2", Config: "cfg", Rule: "INV-101", Severity: rules.SeverityHigh}
	specNoAcct   = Spec{Bucket: "b2", Config: "cfg", Rule: "INV-103", Severity: rules.SeverityHigh, Waived: true}
	specWeekly   = Spec{Bucket: "b3", Config: "wk", Rule: "INV-107", Severity: rules.SeverityLow}
	specRole     = Spec{Rule: "SCAN-001", Severity: rules.SeverityHigh}
	specCutShort = Spec{Rule: "SCAN-004", Severity: rules.SeverityMedium}
	specB2Read   = Spec{Bucket: "b2", Rule: "SCAN-003", Severity: rules.SeverityMedium}
)

func at(d int) time.Time { return T0.Add(time.Duration(d) * 24 * time.Hour) }

// done is when the harness's account results finish for a scan at t.
func done(t time.Time) time.Time { return t.Add(time.Minute) }

func testLifecycle(h *harness) {
	t1, t2, t3 := at(0), at(1), at(2)
	_, s1 := h.scan("s1", t1, acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	fMissing, fNoKMS, fNoAcct := s1[AccountA][0], s1[AccountA][1], s1[AccountA][2]
	recs := h.records(AccountA)
	if len(recs) != 3 {
		h.t.Fatalf("after the first scan: %d records; want 3", len(recs))
	}
	h.check(recs, fMissing, rules.StatusOpen, t1, t1, time.Time{})
	h.check(recs, fNoAcct, rules.StatusWaived, t1, t1, time.Time{})
	for _, f := range s1[AccountA] {
		h.sameFinding(recs, f) // waiver, evidence, every field kept
	}

	// Second scan: the waived finding is no longer produced → resolved.
	_, s2 := h.scan("s2", t2, acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}})
	recs = h.records(AccountA)
	if len(recs) != 3 {
		h.t.Fatalf("after the second scan: %d records; want 3", len(recs))
	}
	h.check(recs, fMissing, rules.StatusOpen, t1, t2, time.Time{})
	h.check(recs, fNoKMS, rules.StatusOpen, t1, t2, time.Time{})
	h.check(recs, fNoAcct, rules.StatusResolved, t1, t1, done(t2))
	if got := recs[fNoAcct.FindingID].Resolution; got != report.ResolutionNotSeen {
		h.t.Errorf("finding a complete scan no longer produced: resolution %q; want %s", got, report.ResolutionNotSeen)
	}
	if w := recs[fNoAcct.FindingID].Waiver; w == nil || *w != *fNoAcct.Waiver {
		h.t.Errorf("resolved waived finding: waiver %+v; want it kept (%+v)", w, fNoAcct.Waiver)
	}
	h.sameFinding(recs, s2[AccountA][0])

	// Third scan: it reappears (no longer waived) → reopened, new episode;
	// INV-101 disappears → resolved.
	reopened := specNoAcct
	reopened.Waived = false
	_, s3 := h.scan("s3", t3, acct{id: AccountA, specs: []Spec{specMissing, reopened}})
	recs = h.records(AccountA)
	h.check(recs, fMissing, rules.StatusOpen, t1, t3, time.Time{})
	h.check(recs, fNoKMS, rules.StatusResolved, t1, t2, done(t3))
	h.check(recs, fNoAcct, rules.StatusOpen, t3, t3, time.Time{})
	h.sameFinding(recs, s3[AccountA][1])

	hist, err := h.store.BucketHistory(h.ctx, AccountA, "b2")
	if err != nil {
		h.t.Fatalf("BucketHistory: %v", err)
	}
	var current, archived int
	for _, r := range hist {
		switch {
		case r.FindingID == fNoAcct.FindingID && r.History:
			archived++
			if r.Status != rules.StatusResolved || !r.FirstSeen.Equal(t1) || !r.LastSeen.Equal(t1) ||
				!r.ResolvedAt.Equal(done(t2)) || r.Waiver == nil {
				h.t.Errorf("archived episode = %+v; want the resolved, waived episode first seen %s, resolved %s", r, t1, done(t2))
			}
		case r.Bucket == "b2" && !r.History:
			current++
		default:
			h.t.Errorf("BucketHistory(b2) returns %s %s/%s (history %v)", r.RuleID, r.Bucket, r.ConfigID, r.History)
		}
	}
	if current != 2 || archived != 1 {
		h.t.Errorf("BucketHistory(b2): %d current records and %d archived episodes; want 2 and 1", current, archived)
	}
	open, err := h.store.OpenByAccount(h.ctx, AccountA)
	if err != nil {
		h.t.Fatalf("OpenByAccount: %v", err)
	}
	if got := ids(open); !slices.Equal(got, sortedIDs(fMissing, fNoAcct)) {
		h.t.Errorf("OpenByAccount after three scans = %v; want %v", got, sortedIDs(fMissing, fNoAcct))
	}
}

func testIncomplete(h *harness) {
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	_, s2 := h.scan("s2", at(1), acct{id: AccountA, status: inventory.AccountIncomplete, specs: []Spec{specMissing, specCutShort}})
	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusOpen, at(0), at(1), time.Time{})
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), at(0), time.Time{})
	h.check(recs, s1[AccountA][2], rules.StatusWaived, at(0), at(0), time.Time{})
	h.check(recs, s2[AccountA][1], rules.StatusOpen, at(1), at(1), time.Time{})
	scans, err := h.store.AccountScans(h.ctx)
	if err != nil {
		h.t.Fatalf("AccountScans: %v", err)
	}
	if len(scans) != 1 || scans[0].ScanID != "s1" {
		h.t.Errorf("AccountScans after an incomplete scan = %+v; want the complete scan s1 only", scans)
	}
}

func testFailedRole(h *harness) {
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}})
	_, s2 := h.scan("s2", at(1), acct{id: AccountA, status: inventory.AccountRoleUnavailable, specs: []Spec{specRole}})
	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusOpen, at(0), at(0), time.Time{})
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), at(0), time.Time{})
	h.check(recs, s2[AccountA][0], rules.StatusOpen, at(1), at(1), time.Time{})
	_, _ = h.scan("s3", at(2), acct{id: AccountA, status: inventory.AccountBucketsUnlisted, specs: []Spec{{Rule: "SCAN-002", Severity: rules.SeverityHigh}}})
	recs = h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusOpen, at(0), at(0), time.Time{})
	h.check(recs, s2[AccountA][0], rules.StatusOpen, at(1), at(1), time.Time{})
	// The role works again: the coverage findings are resolved.
	_, _ = h.scan("s4", at(3), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}})
	recs = h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusOpen, at(0), at(3), time.Time{})
	h.check(recs, s2[AccountA][0], rules.StatusResolved, at(1), at(1), done(at(3)))
}

func testUnreadable(h *harness) {
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	_, s2 := h.scan("s2", at(1), acct{id: AccountA, unreadable: []string{"b2"}, specs: []Spec{specB2Read}})
	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusResolved, at(0), at(0), done(at(1))) // b1 was read: resolved
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), at(0), time.Time{})     // b2 unreadable: kept
	h.check(recs, s1[AccountA][2], rules.StatusWaived, at(0), at(0), time.Time{})
	h.check(recs, s2[AccountA][0], rules.StatusOpen, at(1), at(1), time.Time{})
}

// testUnverified: a bucket whose destinations could not be verified
// keeps its destination findings (INV-110 to INV-115), not the others.
func testUnverified(h *harness) {
	stale := Spec{Bucket: "b2", Config: "cfg", Rule: "INV-114", Severity: rules.SeverityMedium}
	blocked := Spec{Bucket: "b1", Config: "cfg", Rule: "INV-111", Severity: rules.SeverityHigh}
	gap := Spec{Bucket: "central", Config: "", Rule: "SCAN-005", Severity: rules.SeverityLow}
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specNoKMS, stale, blocked}})
	_, s2 := h.scan("s2", at(1), acct{id: AccountA, unverified: []string{"b2"}, specs: []Spec{gap}})
	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][0], rules.StatusResolved, at(0), at(0), done(at(1))) // not a destination rule
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), at(0), time.Time{})     // b2 unverified: kept
	h.check(recs, s1[AccountA][2], rules.StatusResolved, at(0), at(0), done(at(1))) // b1 verified: resolved
	h.check(recs, s2[AccountA][0], rules.StatusOpen, at(1), at(1), time.Time{})
}

func testOtherAccounts(h *harness) {
	_, s1 := h.scan("s1", at(0),
		acct{id: AccountA, specs: []Spec{specMissing}},
		acct{id: AccountB, specs: []Spec{specMissing, specNoKMS}})
	h.scan("s2", at(1), acct{id: AccountA})
	recA, recB := h.records(AccountA), h.records(AccountB)
	h.check(recA, s1[AccountA][0], rules.StatusResolved, at(0), at(0), done(at(1)))
	h.check(recB, s1[AccountB][0], rules.StatusOpen, at(0), at(0), time.Time{})
	h.check(recB, s1[AccountB][1], rules.StatusOpen, at(0), at(0), time.Time{})
}

func testIdempotent(h *harness) {
	a := acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct, specWeekly}}
	h.scan("s1", at(0), a)
	first := h.records(AccountA)
	h.scan("s1", at(0), a) // the same scan again, same times
	again := h.records(AccountA)
	if len(first) != 4 || len(again) != 4 {
		h.t.Fatalf("records after a scan and its re-run: %d and %d; want 4 and 4", len(first), len(again))
	}
	for id, r := range first {
		g := again[id]
		if g.Status != r.Status || !g.FirstSeen.Equal(r.FirstSeen) || !g.LastSeen.Equal(r.LastSeen) || g.ScanID != r.ScanID {
			h.t.Errorf("%s changed on re-run: %+v → %+v", id, r, g)
		}
	}
	hist, err := h.store.BucketHistory(h.ctx, AccountA, "b2")
	if err != nil {
		h.t.Fatal(err)
	}
	if len(hist) != 2 {
		h.t.Errorf("BucketHistory(b2) after a re-run: %d records; want 2 (no duplicates)", len(hist))
	}
	runs, err := h.store.Runs(h.ctx, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(runs) != 1 {
		h.t.Errorf("Runs after re-running s1: %d; want 1", len(runs))
	}
}

func testDuplicates(h *harness) {
	f := NewFinding(AccountA, specNoKMS, "s1", at(0))
	run := report.Run{ScanID: "s1", StartedAt: at(0)}
	must(h.t, h.store.Begin(h.ctx, run))
	must(h.t, h.store.Put(h.ctx, []rules.Finding{f, f, f}))
	must(h.t, h.store.Put(h.ctx, []rules.Finding{f}))
	must(h.t, h.store.AccountDone(h.ctx, "s1", complete(AccountA, at(0))))
	run.FinishedAt = at(0).Add(time.Minute)
	must(h.t, h.store.End(h.ctx, run))
	recs := h.records(AccountA)
	if len(recs) != 1 {
		h.t.Fatalf("one finding put four times: %d records; want 1", len(recs))
	}
	h.check(recs, f, rules.StatusOpen, at(0), at(0), time.Time{})
	h.expectTransitions("s1", "opened INV-101 b2/cfg →OPEN ")

	// In the next run the finding comes in two Puts, waived the second
	// time: the record keeps its first scan, and the run's one change is
	// the waiver. A store that forgets a finding once written (the
	// DynamoDB store keeps only what a second Put needs) must still see
	// the first Put's record.
	waived := specNoKMS
	waived.Waived = true
	run = report.Run{ScanID: "s2", StartedAt: at(1)}
	must(h.t, h.store.Begin(h.ctx, run))
	must(h.t, h.store.Put(h.ctx, []rules.Finding{NewFinding(AccountA, specNoKMS, "s2", at(1))}))
	must(h.t, h.store.Put(h.ctx, []rules.Finding{NewFinding(AccountA, waived, "s2", at(1))}))
	must(h.t, h.store.AccountDone(h.ctx, "s2", complete(AccountA, at(1))))
	run.FinishedAt = at(1).Add(time.Minute)
	must(h.t, h.store.End(h.ctx, run))
	recs = h.records(AccountA)
	h.check(recs, f, rules.StatusWaived, at(0), at(1), time.Time{})
	h.expectTransitions("s2", "waived INV-101 b2/cfg OPEN→WAIVED ")
}

func testInvalid(h *harness) {
	good := NewFinding(AccountA, specMissing, "s1", at(0))
	cases := map[string]func(*rules.Finding){
		"empty finding_id": func(f *rules.Finding) { f.FindingID = "" },
		"empty account_id": func(f *rules.Finding) { f.AccountID = "" },
		"empty rule_id":    func(f *rules.Finding) { f.RuleID = "" },
		"bad severity":     func(f *rules.Finding) { f.Severity = 42 },
		"resolved status":  func(f *rules.Finding) { f.Status = rules.StatusResolved },
	}
	must(h.t, h.store.Begin(h.ctx, report.Run{ScanID: "s1", StartedAt: at(0)}))
	for name, mutate := range cases {
		bad := good
		bad.FindingID = "f" + name // distinct from good's
		mutate(&bad)
		if err := h.store.Put(h.ctx, []rules.Finding{good, bad}); err == nil {
			h.t.Errorf("Put with %s: no error", name)
		} else if errors.Is(err, report.ErrNoRun) {
			h.t.Errorf("Put with %s: %v; want a validation error", name, err)
		}
	}
	must(h.t, h.store.End(h.ctx, report.Run{ScanID: "s1", StartedAt: at(0), FinishedAt: at(0).Add(time.Minute)}))
	if recs := h.records(AccountA); len(recs) != 0 {
		h.t.Errorf("rejected Puts stored %d records; want none", len(recs))
	}
}

func testExpiry(h *harness) {
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}})
	h.scan("s2", at(1), acct{id: AccountA, specs: []Spec{specMissing}})
	fNoKMS := s1[AccountA][1]
	expiry := done(at(1)).Add(Retention)

	h.setClock(expiry.Add(-time.Second))
	if _, ok := h.records(AccountA)[fNoKMS.FindingID]; !ok {
		h.t.Fatal("resolved record gone before its expiry")
	}
	h.setClock(expiry)
	recs := h.records(AccountA)
	if _, ok := recs[fNoKMS.FindingID]; ok {
		h.t.Error("Findings returns a record past its expiry")
	}
	if len(recs) != 1 {
		h.t.Errorf("after expiry: %d records; want 1 (the open one)", len(recs))
	}
	hist, err := h.store.BucketHistory(h.ctx, AccountA, "b2")
	if err != nil {
		h.t.Fatal(err)
	}
	if len(hist) != 0 {
		h.t.Errorf("BucketHistory(b2) after expiry: %d records; want none", len(hist))
	}
	// Seen again after its record expired: a new finding, no archived
	// episode of the forgotten one.
	later := expiry.Add(time.Hour).Truncate(time.Second)
	h.scan("s3", later, acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}})
	recs = h.records(AccountA)
	h.check(recs, fNoKMS, rules.StatusOpen, later, later, time.Time{})
	hist, err = h.store.BucketHistory(h.ctx, AccountA, "b2")
	if err != nil {
		h.t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].History {
		h.t.Errorf("BucketHistory(b2) after the finding came back = %+v; want the current record only", hist)
	}
}

func testQueries(h *harness) {
	newKMS := Spec{Bucket: "b4", Config: "cfg", Rule: "INV-101", Severity: rules.SeverityHigh}
	lowB := Spec{Bucket: "c1", Config: "x", Rule: "INV-106", Severity: rules.SeverityLow}
	kmsB := Spec{Bucket: "c1", Config: "x", Rule: "INV-101", Severity: rules.SeverityHigh, Waived: true}
	run1, s1 := h.scan("s1", at(0),
		acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}},
		acct{id: AccountB, specs: []Spec{kmsB, lowB}})
	run2, s2 := h.scan("s2", at(1),
		acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, newKMS}},
		acct{id: AccountB, status: inventory.AccountIncomplete, specs: []Spec{specCutShort}})
	aMissing, aKMS, aNoAcct := s1[AccountA][0], s1[AccountA][1], s1[AccountA][2]
	aNew := s2[AccountA][2]
	bKMS, bLow, bCut := s1[AccountB][0], s1[AccountB][1], s2[AccountB][0]

	expect := func(name string, got []report.Record, err error, want ...rules.Finding) {
		h.t.Helper()
		if err != nil {
			h.t.Errorf("%s: %v", name, err)
			return
		}
		if g, w := ids(got), sortedIDs(want...); !slices.Equal(g, w) {
			h.t.Errorf("%s = %v; want %v", name, g, w)
		}
		for _, r := range got {
			if !r.Open() || r.History {
				h.t.Errorf("%s returns %s with status %s (history %v); want unresolved current records", name, r.FindingID, r.Status, r.History)
			}
		}
	}
	rs, err := h.store.OpenByAccount(h.ctx, AccountA)
	expect("OpenByAccount(A)", rs, err, aMissing, aKMS, aNew)
	rs, err = h.store.OpenByAccount(h.ctx, AccountB)
	expect("OpenByAccount(B)", rs, err, bKMS, bLow, bCut)
	rs, err = h.store.OpenByRule(h.ctx, "INV-101")
	expect("OpenByRule(INV-101)", rs, err, aKMS, aNew, bKMS)
	for i, r := range rs {
		if i > 0 && r.AccountID < rs[i-1].AccountID {
			h.t.Errorf("OpenByRule(INV-101) not sorted by account: %s after %s", r.AccountID, rs[i-1].AccountID)
		}
	}
	rs, err = h.store.OpenByRule(h.ctx, "INV-103")
	expect("OpenByRule(INV-103) after it was resolved", rs, err)

	rs, err = h.store.OpenBySeverity(h.ctx, rules.SeverityHigh, 0)
	expect("OpenBySeverity(HIGH)", rs, err, aKMS, aNew, bKMS)
	if err == nil && len(rs) == 3 {
		if rs[0].FindingID != aNew.FindingID || !rs[0].FirstSeen.Equal(at(1)) {
			h.t.Errorf("OpenBySeverity(HIGH)[0] = %s first seen %s; want the newest, %s first seen %s", rs[0].FindingID, rs[0].FirstSeen, aNew.FindingID, at(1))
		}
		for _, r := range rs[1:] {
			if !r.FirstSeen.Equal(at(0)) {
				h.t.Errorf("OpenBySeverity(HIGH): %s first seen %s; want %s", r.FindingID, r.FirstSeen, at(0))
			}
		}
		for _, r := range rs {
			if r.Severity != rules.SeverityHigh || r.RuleID == "" || r.AccountID == "" || r.Title == "" {
				h.t.Errorf("OpenBySeverity(HIGH) record lacks what a dashboard shows: %+v", r)
			}
		}
	}
	rs, err = h.store.OpenBySeverity(h.ctx, rules.SeverityHigh, 1)
	expect("OpenBySeverity(HIGH, limit 1)", rs, err, aNew)
	rs, err = h.store.OpenBySeverity(h.ctx, rules.SeverityCritical, 0)
	expect("OpenBySeverity(CRITICAL)", rs, err)

	hist, err := h.store.BucketHistory(h.ctx, AccountA, "b2")
	if err != nil {
		h.t.Fatalf("BucketHistory: %v", err)
	}
	if g, w := ids(hist), sortedIDs(aKMS, aNoAcct); !slices.Equal(g, w) {
		h.t.Errorf("BucketHistory(A, b2) = %v; want %v (open and resolved)", g, w)
	}
	hist, err = h.store.BucketHistory(h.ctx, AccountB, "")
	if err != nil {
		h.t.Fatalf("BucketHistory: %v", err)
	}
	if g, w := ids(hist), sortedIDs(bCut); !slices.Equal(g, w) {
		h.t.Errorf("BucketHistory(B, \"\") (account-level findings) = %v; want %v", g, w)
	}

	runs, err := h.store.Runs(h.ctx, 0)
	if err != nil {
		h.t.Fatalf("Runs: %v", err)
	}
	if len(runs) != 2 {
		h.t.Fatalf("Runs = %d runs; want 2", len(runs))
	}
	sameRun(h.t, runs[0], run2)
	sameRun(h.t, runs[1], run1)
	runs, err = h.store.Runs(h.ctx, 1)
	if err != nil || len(runs) != 1 || runs[0].ScanID != "s2" {
		h.t.Errorf("Runs(limit 1) = %+v, %v; want s2 only", runs, err)
	}

	scans, err := h.store.AccountScans(h.ctx)
	if err != nil {
		h.t.Fatalf("AccountScans: %v", err)
	}
	if len(scans) != 2 {
		h.t.Fatalf("AccountScans = %+v; want one per account", scans)
	}
	wantA := report.AccountScan{AccountID: AccountA, AccountName: "acct-1111", ScanID: "s2", StartedAt: at(1), FinishedAt: done(at(1)),
		Buckets: 3, Configs: 3, Open: 3}
	wantB := report.AccountScan{AccountID: AccountB, AccountName: "acct-2222", ScanID: "s1", StartedAt: at(0), FinishedAt: done(at(0)),
		Buckets: 3, Configs: 3, Open: 1, Waived: 1}
	for i, want := range []report.AccountScan{wantA, wantB} {
		got := scans[i]
		if !got.StartedAt.Equal(want.StartedAt) || !got.FinishedAt.Equal(want.FinishedAt) {
			h.t.Errorf("AccountScans[%d] times %s–%s; want %s–%s", i, got.StartedAt, got.FinishedAt, want.StartedAt, want.FinishedAt)
		}
		got.StartedAt, got.FinishedAt, want.StartedAt, want.FinishedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if got != want {
			h.t.Errorf("AccountScans[%d] = %+v; want %+v", i, got, want)
		}
	}
}

func sameRun(t *testing.T, got, want report.Run) {
	t.Helper()
	if got.ScanID != want.ScanID || got.Trigger != want.Trigger || !got.StartedAt.Equal(want.StartedAt) ||
		!got.FinishedAt.Equal(want.FinishedAt) || got.AccountsComplete != want.AccountsComplete ||
		got.AccountsFailed != want.AccountsFailed || got.AccountsIncomplete != want.AccountsIncomplete ||
		got.Buckets != want.Buckets || got.Configs != want.Configs ||
		!maps.Equal(got.BySeverity, want.BySeverity) || !maps.Equal(got.ByRule, want.ByRule) {
		t.Errorf("run %s read back as\n %+v\nwant\n %+v", want.ScanID, got, want)
	}
	if got.Duration() != want.Duration() {
		t.Errorf("run %s: duration %s; want %s", want.ScanID, got.Duration(), want.Duration())
	}
}

func ids(rs []report.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.FindingID
	}
	slices.Sort(out)
	return out
}

func sortedIDs(fs ...rules.Finding) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.FindingID
	}
	slices.Sort(out)
	return out
}
