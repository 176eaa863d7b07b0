package sinktest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// transitions takes the transitions the store reported for scan scanID
// and returns them in a canonical form, sorted: "kind rule bucket/config
// from→status resolution". It fails the test when the store reported
// transitions of another scan.
func (h *harness) transitions(scanID string) []string {
	h.t.Helper()
	ts, stale := h.log.Take(scanID)
	if stale > 0 {
		h.t.Errorf("after scan %s: %d transitions reported for other scans", scanID, stale)
	}
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		r := t.Record
		if r.ScanID == "" || r.FindingID == "" || r.AccountID == "" {
			h.t.Errorf("%s transition of %s: record without its finding's identity: %+v", t.Kind, r.FindingID, r)
		}
		out = append(out, fmt.Sprintf("%s %s %s/%s %s→%s %s", t.Kind, r.RuleID, r.Bucket, r.ConfigID, t.From, r.Status, r.Resolution))
	}
	slices.Sort(out)
	return out
}

// expectTransitions checks the transitions of one scan.
func (h *harness) expectTransitions(scanID string, want ...string) {
	h.t.Helper()
	got := h.transitions(scanID)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		h.t.Errorf("transitions of scan %s:\n got %s\nwant %s", scanID, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// testTransitions: a store reports each change of a finding's state that
// a scan decided, exactly once, and nothing for a scan that changes
// nothing: opened (open or waived from the start), waived, waiver
// expired, resolved (not seen, out of scope), reopened.
func testTransitions(h *harness) {
	waivedKMS := specNoKMS
	waivedKMS.Waived = true
	openAcct := specNoAcct
	openAcct.Waived = false

	h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	h.expectTransitions("s1",
		"opened INV-001 b1/ →OPEN ",
		"opened INV-101 b2/cfg →OPEN ",
		"opened INV-103 b2/cfg →WAIVED ")

	// The same findings again, and the same scan re-run: no change.
	h.scan("s2", at(1), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	h.expectTransitions("s2")
	h.scan("s2", at(1), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	h.expectTransitions("s2")

	h.scan("s3", at(2), acct{id: AccountA, specs: []Spec{specMissing, waivedKMS, openAcct}})
	h.expectTransitions("s3",
		"waived INV-101 b2/cfg OPEN→WAIVED ",
		"waiver_expired INV-103 b2/cfg WAIVED→OPEN ")

	// An incomplete scan that no longer produces them resolves nothing.
	h.scan("s4", at(3), acct{id: AccountA, status: inventory.AccountIncomplete, specs: []Spec{specCutShort}})
	h.expectTransitions("s4", "opened SCAN-004 / →OPEN ")

	h.scan("s5", at(4), acct{id: AccountA, specs: []Spec{specMissing}})
	h.expectTransitions("s5",
		"resolved INV-101 b2/cfg WAIVED→RESOLVED NOT_SEEN",
		"resolved INV-103 b2/cfg OPEN→RESOLVED NOT_SEEN",
		"resolved SCAN-004 / OPEN→RESOLVED NOT_SEEN")

	h.scan("s6", at(5), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}}, acct{id: AccountB, specs: []Spec{specWeekly}})
	h.expectTransitions("s6",
		"reopened INV-101 b2/cfg RESOLVED→OPEN ",
		"opened INV-107 b3/wk →OPEN ")

	// A resolved finding that stays away is not resolved again.
	h.scan("s7", at(6), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}}, acct{id: AccountB, specs: []Spec{specWeekly}})
	h.expectTransitions("s7")

	// Account B leaves the organization.
	h.setClock(at(7))
	run := report.Run{ScanID: "s8", Trigger: "schedule", StartedAt: at(7)}
	must(h.t, h.store.Begin(h.ctx, run))
	scope := report.Scope{InScope: map[string]bool{AccountA: true}, OutOfScope: map[string]string{AccountB: "SUSPENDED"}, At: at(7)}
	if _, err := h.store.CloseOutOfScope(h.ctx, "s8", scope); err != nil {
		h.t.Fatalf("CloseOutOfScope: %v", err)
	}
	run.FinishedAt = at(7).Add(time.Minute)
	must(h.t, h.store.End(h.ctx, run))
	h.expectTransitions("s8", "resolved INV-107 b3/wk OPEN→RESOLVED OUT_OF_SCOPE_SUSPENDED")

	// The reported record is the record stored.
	h.scan("s9", at(8), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specWeekly}})
	ts, _ := h.log.Take("s9")
	recs := h.records(AccountA)
	if len(ts) != 1 {
		h.t.Fatalf("scan s9: %d transitions; want 1 (INV-107 opened)", len(ts))
	}
	got, want := ts[0].Record, recs[ts[0].Record.FindingID]
	if got.Status != rules.StatusOpen || !got.FirstSeen.Equal(want.FirstSeen) || !got.LastSeen.Equal(want.LastSeen) ||
		got.Severity != want.Severity || got.Message != want.Message || got.Region != want.Region {
		h.t.Errorf("reported record %+v; want the stored one %+v", got, want)
	}
}

// testTransitionsOverlap: the writes a newer scan refuses are not
// reported.
func testTransitionsOverlap(h *harness) {
	older := h.open()
	newer := h.open()
	ctx := h.ctx
	h.setClock(at(1))
	must(h.t, older.Begin(ctx, report.Run{ScanID: "s1", StartedAt: at(1)}))
	must(h.t, newer.Begin(ctx, report.Run{ScanID: "s2", StartedAt: at(1)}))
	fNew := NewFinding(AccountA, specMissing, "s2", at(1))
	must(h.t, newer.Put(ctx, []rules.Finding{fNew}))
	must(h.t, newer.AccountDone(ctx, "s2", complete(AccountA, at(1))))
	fOld := NewFinding(AccountA, specNoKMS, "s1", at(1))
	_ = older.Put(ctx, []rules.Finding{fOld}) // refused, or written and then refused at AccountDone
	_ = older.AccountDone(ctx, "s1", complete(AccountA, at(1)))
	must(h.t, newer.End(ctx, report.Run{ScanID: "s2", StartedAt: at(1), FinishedAt: at(1).Add(time.Minute)}))
	_ = older.End(ctx, report.Run{ScanID: "s1", StartedAt: at(1), FinishedAt: at(1).Add(time.Minute)})
	all, stale := h.log.Take("s2")
	if stale != 0 {
		h.t.Errorf("the older run, whose writes were refused, reported %d transitions; want none", stale)
	}
	var got []string
	for _, t := range all {
		got = append(got, t.ScanID+" "+t.Kind.String()+" "+t.Record.RuleID)
	}
	if want := []string{"s2 opened INV-001"}; !slices.Equal(got, want) {
		h.t.Errorf("overlapping runs reported %v; want %v (the older run's refused writes reported nothing)", got, want)
	}
}
