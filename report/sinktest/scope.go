package sinktest

import (
	"errors"
	"slices"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// testOutOfScope: after a complete discovery, the unresolved findings of
// accounts out of scope (suspended, excluded, gone from the organization)
// are closed with a resolution of their own; the accounts in scope, and
// records already resolved, are left alone; a second close closes
// nothing; an account back in scope reopens its findings.
func testOutOfScope(h *harness) {
	specs := []Spec{specMissing, specNoKMS, specNoAcct}
	_, s1 := h.scan("s1", at(0),
		acct{id: AccountA, specs: specs},
		acct{id: AccountB, specs: specs},
		acct{id: AccountC, specs: specs})
	// C: one finding resolved normally before its account leaves.
	h.scan("s2", at(1), acct{id: AccountC, specs: specs[:2]})

	closeAt := at(2).Add(5 * time.Minute)
	scope := report.Scope{
		InScope:    map[string]bool{AccountA: true},
		OutOfScope: map[string]string{AccountB: "SUSPENDED"},
		At:         closeAt,
	}
	h.setClock(at(2))
	run := report.Run{ScanID: "s3", Trigger: "schedule", StartedAt: at(2)}
	must(h.t, h.store.Begin(h.ctx, run))
	n, err := h.store.CloseOutOfScope(h.ctx, "s3", scope)
	if err != nil {
		h.t.Fatalf("CloseOutOfScope: %v", err)
	}
	// B: 2 open + 1 waived; C: 2 open (its waived one was resolved in s2).
	if n != 5 {
		h.t.Errorf("CloseOutOfScope closed %d findings; want 5 (B's three, C's two unresolved)", n)
	}
	if n, err := h.store.CloseOutOfScope(h.ctx, "s3", scope); err != nil || n != 0 {
		h.t.Errorf("second CloseOutOfScope = %d, %v; want 0, nil", n, err)
	}
	run.FinishedAt = at(2).Add(10 * time.Minute)
	must(h.t, h.store.End(h.ctx, run))

	recA, recB, recC := h.records(AccountA), h.records(AccountB), h.records(AccountC)
	for _, f := range s1[AccountA] {
		if r := recA[f.FindingID]; !r.Open() || r.Resolution != "" {
			h.t.Errorf("account in scope: %s %s status %s resolution %q; want it untouched", f.RuleID, f.Bucket, r.Status, r.Resolution)
		}
	}
	for i, f := range s1[AccountB] {
		h.check(recB, f, rules.StatusResolved, at(0), at(0), closeAt)
		if r := recB[f.FindingID]; r.Resolution != "OUT_OF_SCOPE_SUSPENDED" {
			h.t.Errorf("suspended account's finding %d: resolution %q; want OUT_OF_SCOPE_SUSPENDED", i, r.Resolution)
		}
	}
	if w := recB[s1[AccountB][2].FindingID].Waiver; w == nil {
		h.t.Error("closed waived finding lost its waiver")
	}
	h.check(recC, s1[AccountC][0], rules.StatusResolved, at(0), at(1), closeAt)
	if r := recC[s1[AccountC][0].FindingID]; r.Resolution != report.OutOfScopeResolution(inventory.OutOfScopeRemoved) {
		h.t.Errorf("removed account's finding: resolution %q; want OUT_OF_SCOPE_REMOVED", r.Resolution)
	}
	h.check(recC, s1[AccountC][2], rules.StatusResolved, at(0), at(0), done(at(1)))
	if r := recC[s1[AccountC][2].FindingID]; r.Resolution != report.ResolutionNotSeen {
		h.t.Errorf("finding resolved before its account left: resolution %q; want %s kept", r.Resolution, report.ResolutionNotSeen)
	}
	for _, acct := range []string{AccountB, AccountC} {
		open, err := h.store.OpenByAccount(h.ctx, acct)
		if err != nil || len(open) != 0 {
			h.t.Errorf("OpenByAccount(%s) after its account left = %d records, %v; want none", acct, len(open), err)
		}
	}
	byRule, err := h.store.OpenByRule(h.ctx, specNoKMS.Rule)
	if err != nil {
		h.t.Fatal(err)
	}
	if got, want := ids(byRule), sortedIDs(s1[AccountA][1]); !slices.Equal(got, want) {
		h.t.Errorf("OpenByRule(%s) after B and C left = %v; want A's only %v", specNoKMS.Rule, got, want)
	}

	// B is back in scope and its finding is seen again: reopened, and
	// the closed episode keeps its resolution in the bucket's history.
	h.scan("s4", at(3), acct{id: AccountB, specs: specs[1:2]})
	recB = h.records(AccountB)
	h.check(recB, s1[AccountB][1], rules.StatusOpen, at(3), at(3), time.Time{})
	hist, err := h.store.BucketHistory(h.ctx, AccountB, specNoKMS.Bucket)
	if err != nil {
		h.t.Fatal(err)
	}
	var episode *report.Record
	for i, r := range hist {
		if r.History && r.FindingID == s1[AccountB][1].FindingID {
			episode = &hist[i]
		}
	}
	if episode == nil || episode.Resolution != "OUT_OF_SCOPE_SUSPENDED" || !episode.ResolvedAt.Equal(closeAt) {
		h.t.Errorf("archived episode of the reopened finding = %+v; want it resolved at %s as OUT_OF_SCOPE_SUSPENDED", episode, closeAt)
	}
}

func testOutOfScopeOutsideRun(h *harness) {
	h.scan("s1", at(0), acct{id: AccountB, specs: []Spec{specMissing}})
	scope := report.Scope{InScope: map[string]bool{AccountA: true}}
	if n, err := h.store.CloseOutOfScope(h.ctx, "s2", scope); !errors.Is(err, report.ErrNoRun) || n != 0 {
		h.t.Errorf("CloseOutOfScope outside a run = %d, %v; want 0, ErrNoRun", n, err)
	}
	if open, _ := h.store.OpenByAccount(h.ctx, AccountB); len(open) != 1 {
		h.t.Errorf("after a refused CloseOutOfScope: %d open findings of B; want 1", len(open))
	}
}

// superseded asserts that err says scan `by` holds account.
func (h *harness) superseded(what string, err error, account, by string) {
	h.t.Helper()
	var se *report.SupersededError
	if !errors.Is(err, report.ErrSuperseded) || !errors.As(err, &se) || se.Account != account || se.By != by {
		h.t.Errorf("%s = %v; want ErrSuperseded naming account %s and the newer scan %s", what, err, account, by)
		return
	}
	if f := report.WriteFailure(err); f.Code != report.FailureSuperseded {
		h.t.Errorf("WriteFailure(%v).Code = %s; want %s", err, f.Code, report.FailureSuperseded)
	}
}

// testOverlapOlderLoses: a newer scan finishes account A while an older
// scan, started earlier on another store (another process), is still
// running. The older one's writes of A are refused, its AccountDone of A
// resolves nothing, and its other accounts and its run record are written.
func testOverlapOlderLoses(h *harness) {
	specs := []Spec{specMissing, specNoKMS, specNoAcct}
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: specs})
	older, newer := h.store, h.open()
	ctx := h.ctx

	h.setClock(at(1))
	runOld := report.Run{ScanID: "s2", Trigger: "schedule", StartedAt: at(1)}
	runNew := report.Run{ScanID: "s3", Trigger: "cli", StartedAt: at(1).Add(time.Minute)}
	must(h.t, older.Begin(ctx, runOld))
	must(h.t, newer.Begin(ctx, runNew))

	// The newer scan sees only INV-101 and completes A.
	tNew := at(1).Add(time.Minute)
	fNew := NewFinding(AccountA, specNoKMS, "s3", tNew)
	must(h.t, newer.Put(ctx, []rules.Finding{fNew}))
	resNew := complete(AccountA, tNew)
	must(h.t, newer.AccountDone(ctx, "s3", resNew))

	// The older scan sees INV-001 and INV-103, then a new one, and
	// would resolve INV-101.
	fOld := NewFinding(AccountA, specMissing, "s2", at(1))
	fOldNew := NewFinding(AccountA, specWeekly, "s2", at(1))
	h.superseded("older scan's Put of A", older.Put(ctx, []rules.Finding{fOld, fOldNew}), AccountA, "s3")
	h.superseded("older scan's AccountDone of A", older.AccountDone(ctx, "s2", complete(AccountA, at(1))), AccountA, "s3")
	// Its other account is not affected.
	fB := NewFinding(AccountB, specMissing, "s2", at(1))
	must(h.t, older.Put(ctx, []rules.Finding{fB}))
	must(h.t, older.AccountDone(ctx, "s2", complete(AccountB, at(1))))
	runOld.FinishedAt = at(1).Add(3 * time.Minute)
	runOld.AccountsComplete, runOld.AccountsIncomplete = 1, 1
	must(h.t, older.End(ctx, runOld))
	runNew.FinishedAt = at(1).Add(4 * time.Minute)
	must(h.t, newer.End(ctx, runNew))

	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), tNew, time.Time{})
	h.check(recs, s1[AccountA][0], rules.StatusResolved, at(0), at(0), done(tNew))
	h.check(recs, s1[AccountA][2], rules.StatusResolved, at(0), at(0), done(tNew))
	if _, ok := recs[fOldNew.FindingID]; ok {
		h.t.Error("the superseded scan stored a new finding of the account the newer scan holds")
	}
	if len(recs) != 3 {
		h.t.Errorf("account A: %d records; want 3", len(recs))
	}
	if b := h.records(AccountB); len(b) != 1 {
		h.t.Errorf("account B of the superseded run: %d records; want 1", len(b))
	}
	scans, err := h.store.AccountScans(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, s := range scans {
		if s.AccountID == AccountA && s.ScanID != "s3" {
			h.t.Errorf("last complete scan of A = %s; want s3 (the superseded s2 must not claim it)", s.ScanID)
		}
	}
	runs, err := h.store.Runs(ctx, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		if r.FinishedAt.IsZero() {
			h.t.Errorf("run %s has no finish time; want both runs' summaries written", r.ScanID)
		}
		got = append(got, r.ScanID)
	}
	if !slices.Equal(got, []string{"s3", "s2", "s1"}) {
		h.t.Errorf("Runs = %v; want [s3 s2 s1]", got)
	}
}

// testOverlapInterleaved: the older scan starts account A first, the newer
// one takes it over; the older one's completion must not resolve what
// the newer one produced, and out-of-scope closing skips it too.
func testOverlapInterleaved(h *harness) {
	_, s1 := h.scan("s1", at(0),
		acct{id: AccountA, specs: []Spec{specMissing, specNoKMS}},
		acct{id: AccountC, specs: []Spec{specMissing}})
	older, newer := h.store, h.open()
	ctx := h.ctx
	h.setClock(at(1))
	runOld := report.Run{ScanID: "s2", StartedAt: at(1)}
	runNew := report.Run{ScanID: "s3", StartedAt: at(1).Add(time.Minute)}
	must(h.t, older.Begin(ctx, runOld))
	must(h.t, older.Put(ctx, []rules.Finding{NewFinding(AccountA, specMissing, "s2", at(1))}))

	must(h.t, newer.Begin(ctx, runNew))
	tNew := at(1).Add(time.Minute)
	fNew := NewFinding(AccountA, specWeekly, "s3", tNew)
	must(h.t, newer.Put(ctx, []rules.Finding{fNew}))

	// The older scan completes A: superseded, nothing resolved.
	h.superseded("older scan's AccountDone of A after the newer scan took it", older.AccountDone(ctx, "s2", complete(AccountA, at(1))), AccountA, "s3")
	// (A store may hold the newer scan's writes until its AccountDone.)
	recs := h.records(AccountA)
	h.check(recs, s1[AccountA][1], rules.StatusOpen, at(0), at(0), time.Time{})

	// The newer scan claims C by closing it as out of scope; the older
	// scan's own close then skips C and says why.
	n, err := newer.CloseOutOfScope(ctx, "s3", report.Scope{InScope: map[string]bool{AccountA: true, AccountB: true}, At: tNew})
	if err != nil || n != 1 {
		h.t.Errorf("newer scan's CloseOutOfScope = %d, %v; want 1 (C's finding)", n, err)
	}
	must(h.t, newer.AccountDone(ctx, "s3", complete(AccountA, tNew)))
	n, err = older.CloseOutOfScope(ctx, "s2", report.Scope{InScope: map[string]bool{}, At: at(1)})
	h.superseded("older scan's CloseOutOfScope", err, AccountA, "s3")
	if n != 0 {
		h.t.Errorf("older scan's CloseOutOfScope closed %d; want 0 (every account with open findings is the newer scan's)", n)
	}
	must(h.t, older.End(ctx, report.Run{ScanID: "s2", StartedAt: at(1), FinishedAt: at(1).Add(time.Hour)}))
	must(h.t, newer.End(ctx, report.Run{ScanID: "s3", StartedAt: tNew, FinishedAt: tNew.Add(time.Hour)}))

	recs = h.records(AccountA)
	h.check(recs, fNew, rules.StatusOpen, tNew, tNew, time.Time{})
	h.check(recs, s1[AccountA][1], rules.StatusResolved, at(0), at(0), done(tNew))
	if r := h.records(AccountC)[s1[AccountC][0].FindingID]; r.Resolution != "OUT_OF_SCOPE_REMOVED" {
		h.t.Errorf("C after the newer scan closed it: resolution %q; want OUT_OF_SCOPE_REMOVED", r.Resolution)
	}
}
