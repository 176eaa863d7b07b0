package sinktest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// pageAll follows a paged listing from its first page to its last with
// pages of limit items, and returns every item. Each page holds at most
// limit items, no item comes twice, and the listing ends within
// 2×(items+1) pages (a store may return short or empty pages with a
// token, never endless ones). Every token is safe in a URL as it is.
func pageAll[T any](h *harness, name string, limit int, id func(T) string, read func(report.PageRequest) (report.Page[T], error)) []T {
	h.t.Helper()
	var all []T
	seen := map[string]bool{}
	token := ""
	for pages := 1; ; pages++ {
		p, err := read(report.PageRequest{Limit: limit, Token: token})
		if err != nil {
			h.t.Fatalf("%s: page %d: %v", name, pages, err)
		}
		if len(p.Items) > limit {
			h.t.Errorf("%s: page %d holds %d items; limit %d", name, pages, len(p.Items), limit)
		}
		for _, it := range p.Items {
			if seen[id(it)] {
				h.t.Errorf("%s: %s listed twice", name, id(it))
			}
			seen[id(it)] = true
			all = append(all, it)
		}
		if p.Next == "" {
			return all
		}
		if url.QueryEscape(p.Next) != p.Next || len(p.Next) > report.MaxTokenLength {
			h.t.Errorf("%s: token %q is not URL-safe as it is, or longer than %d", name, p.Next, report.MaxTokenLength)
		}
		if pages > 2*(len(all)+1) {
			h.t.Fatalf("%s: %d pages for %d items; want a listing that ends", name, pages, len(all))
		}
		token = p.Next
	}
}

func recordID(r report.Record) string { return r.FindingID }

// testPaged: every paged query lists exactly what it selects, in its
// order, across pages of 1, 2 and 50 items.
func testPaged(h *harness) {
	const payOU, otherOU = "ou-ab12-payments", "ou-zz99-otherou1"
	soon := at(10).Format(time.DateOnly) // within 30 days of at(1)
	later := at(45).Format(time.DateOnly)
	gone := Spec{Bucket: "b9", Config: "c", Rule: "INV-104", Severity: rules.SeverityCritical}
	goneLow := Spec{Bucket: "b9", Config: "d", Rule: "INV-106", Severity: rules.SeverityLow}
	specsA := []Spec{specMissing, specNoKMS, gone, goneLow,
		{Bucket: "b5", Config: "w1", Rule: "INV-101", Severity: rules.SeverityHigh, Waived: true, Expires: soon},
		{Bucket: "b6", Config: "w2", Rule: "INV-106", Severity: rules.SeverityLow, Waived: true, Expires: later},
		{Bucket: "b7", Config: "w3", Rule: "INV-107", Severity: rules.SeverityLow, Waived: true},
	}
	for i := range specsA {
		specsA[i].OU = payOU
	}
	gone.OU, goneLow.OU = payOU, payOU
	specsB := []Spec{
		{Bucket: "c1", Config: "x", Rule: "INV-101", Severity: rules.SeverityHigh, OU: otherOU},
		{Bucket: "c2", Config: "x", Rule: "INV-104", Severity: rules.SeverityCritical, OU: otherOU},
		{Bucket: "c3", Config: "y", Rule: "INV-101", Severity: rules.SeverityHigh, OU: otherOU, Waived: true, Expires: soon},
		{Bucket: "c4", Rule: "SCAN-003", Severity: rules.SeverityMedium, OU: otherOU},
	}
	_, s1 := h.scan("s1", at(0), acct{id: AccountA, specs: specsA}, acct{id: AccountB, specs: specsB})
	fresh := Spec{Bucket: "b8", Config: "n", Rule: "INV-104", Severity: rules.SeverityCritical, OU: payOU}
	specsA2 := append(slices.DeleteFunc(slices.Clone(specsA), func(s Spec) bool { return s == gone || s == goneLow }), fresh)
	_, s2 := h.scan("s2", at(1), acct{id: AccountA, specs: specsA2}, acct{id: AccountB, specs: specsB})
	h.scan("s3", at(2), acct{id: AccountC, status: inventory.AccountIncomplete})

	// What the store holds, by account.
	var current []report.Record
	for _, a := range []string{AccountA, AccountB, AccountC} {
		for _, r := range h.records(a) {
			current = append(current, r)
		}
	}
	want := func(keep func(report.Record) bool) []string {
		var out []string
		for _, r := range current {
			if keep(r) {
				out = append(out, r.FindingID)
			}
		}
		slices.Sort(out)
		return out
	}
	check := func(name string, got []report.Record, wantIDs []string) {
		h.t.Helper()
		if g := ids(got); !slices.Equal(g, wantIDs) {
			h.t.Errorf("%s = %v; want %v", name, g, wantIDs)
		}
	}

	open := func(sel report.Selection) func(report.Record) bool {
		return func(r report.Record) bool { return r.Open() && sel.Matches(r) }
	}
	for _, sel := range []report.Selection{
		{Account: AccountA}, {Account: AccountB, Severity: rules.SeverityHigh}, {Account: AccountA, OU: otherOU},
		{Rule: "INV-101"}, {Rule: "INV-101", OU: OUName(otherOU)}, {Rule: "INV-104", Severity: rules.SeverityCritical},
		{Severity: rules.SeverityHigh}, {Severity: rules.SeverityCritical}, {Severity: rules.SeverityLow, OU: OUName(payOU)},
		{Severity: rules.SeverityCritical, OU: otherOU}, {Severity: rules.SeverityInfo},
		{Coverage: true}, {Coverage: true, Severity: rules.SeverityMedium}, {Coverage: true, Severity: rules.SeverityHigh},
		{Coverage: true, Account: AccountB}, {Coverage: true, OU: otherOU}, {Coverage: true, Account: AccountA},
	} {
		wantIDs := want(open(sel))
		for _, limit := range []int{1, 2, 50} {
			name := fmt.Sprintf("OpenPage(%s, limit %d)", sel, limit)
			got := pageAll(h, name, limit, recordID, func(req report.PageRequest) (report.Page[report.Record], error) {
				return h.store.OpenPage(h.ctx, sel, req)
			})
			check(name, got, wantIDs)
			for i := 1; i < len(got); i++ {
				switch {
				case sel.Account == "" && (sel.Rule != "" || sel.Coverage) && got[i].AccountID < got[i-1].AccountID:
					h.t.Errorf("%s: %s after %s; want the rule's findings by account", name, got[i].AccountID, got[i-1].AccountID)
				case sel.Account == "" && sel.Rule == "" && !sel.Coverage && got[i].FirstSeen.After(got[i-1].FirstSeen):
					h.t.Errorf("%s: first seen %s after %s; want the newest first", name, got[i].FirstSeen, got[i-1].FirstSeen)
				}
			}
			for _, r := range got {
				if r.OUName == "" || r.Title == "" {
					h.t.Errorf("%s: record without what a dashboard shows (OU name, title): %+v", name, r)
					break
				}
			}
		}
	}
	if wantIDs := want(open(report.Selection{OU: otherOU})); len(wantIDs) != 4 {
		h.t.Errorf("OU %s: %d open findings; want the 4 of account B", otherOU, len(wantIDs))
	}
	if wantIDs := want(open(report.Selection{Coverage: true})); len(wantIDs) != 1 {
		h.t.Errorf("%d open coverage findings; want 1", len(wantIDs))
	}

	// What s2 changed: fresh opened, gone and goneLow resolved; what s1
	// changed and nothing changed since: the rest of its findings.
	changed := func(scanID string, sel report.Selection) []report.Record {
		return pageAll(h, "ChangesPage("+scanID+")", 2, recordID, func(req report.PageRequest) (report.Page[report.Record], error) {
			return h.store.ChangesPage(h.ctx, scanID, sel, req)
		})
	}
	got := changed("s2", report.Selection{})
	check("ChangesPage(s2)", got, sortedIDs(s2[AccountA][len(specsA2)-1], s1[AccountA][2], s1[AccountA][3]))
	if len(got) == 3 {
		if got[0].Status != rules.StatusOpen || got[0].FindingID != s2[AccountA][len(specsA2)-1].FindingID ||
			got[1].Status != rules.StatusResolved || got[1].Severity != rules.SeverityCritical || got[2].Severity != rules.SeverityLow {
			h.t.Errorf("ChangesPage(s2) in the order %s %s, %s %s, %s %s; want CRITICAL opened, CRITICAL resolved, LOW resolved",
				got[0].Severity, got[0].Status, got[1].Severity, got[1].Status, got[2].Severity, got[2].Status)
		}
		if got[1].ResolvedAt.IsZero() || got[1].ChangedIn != "s2" {
			h.t.Errorf("ChangesPage(s2): resolved record %+v; want its resolved_at and changed_in s2", got[1])
		}
	}
	check("ChangesPage(s2, LOW)", changed("s2", report.Selection{Severity: rules.SeverityLow}), sortedIDs(s1[AccountA][3]))
	check("ChangesPage(s2, account B)", changed("s2", report.Selection{Account: AccountB}), nil)
	check("ChangesPage(s1, OU)", changed("s1", report.Selection{OU: otherOU}), sortedIDs(s1[AccountB]...))
	check("ChangesPage(s1)", changed("s1", report.Selection{}), want(func(r report.Record) bool { return r.Open() && r.FirstSeen.Equal(at(0)) }))
	check("ChangesPage(s3)", changed("s3", report.Selection{}), nil)

	// Waivers ending within 30 days of at(1): the two "soon" ones.
	until := at(1).AddDate(0, 0, 30).Format(time.DateOnly)
	waivers := func(sel report.Selection, limit int) []report.Record {
		return pageAll(h, "WaiversPage("+until+")", limit, recordID, func(req report.PageRequest) (report.Page[report.Record], error) {
			return h.store.WaiversPage(h.ctx, until, sel, req)
		})
	}
	check("WaiversPage", waivers(report.Selection{}, 1), sortedIDs(s1[AccountA][4], s1[AccountB][2]))
	check("WaiversPage(OU)", waivers(report.Selection{OU: OUName(otherOU)}, 5), sortedIDs(s1[AccountB][2]))
	check("WaiversPage(account A, HIGH)", waivers(report.Selection{Account: AccountA, Severity: rules.SeverityHigh}, 5), sortedIDs(s1[AccountA][4]))
	for _, r := range waivers(report.Selection{}, 5) {
		if r.Status != rules.StatusWaived || r.Waiver == nil || r.Waiver.Expires != soon {
			h.t.Errorf("WaiversPage: %s %s waiver %+v; want WAIVED until %s", r.FindingID, r.Status, r.Waiver, soon)
		}
	}
	all := pageAll(h, "WaiversPage(2100-01-01)", 1, recordID, func(req report.PageRequest) (report.Page[report.Record], error) {
		return h.store.WaiversPage(h.ctx, "2100-01-01", report.Selection{}, req)
	})
	if len(all) != 4 || all[0].Waiver.Expires != soon || all[3].Waiver.Expires != "2099-12-31" {
		h.t.Errorf("WaiversPage(2100-01-01): %d waivers; want all 4, soonest first", len(all))
	}

	// Runs, newest first.
	runs := pageAll(h, "RunsPage", 1, func(r report.Run) string { return r.ScanID }, func(req report.PageRequest) (report.Page[report.Run], error) {
		return h.store.RunsPage(h.ctx, req)
	})
	var runIDs []string
	for _, r := range runs {
		runIDs = append(runIDs, r.ScanID)
	}
	if !slices.Equal(runIDs, []string{"s3", "s2", "s1"}) {
		h.t.Errorf("RunsPage: %v; want s3 s2 s1", runIDs)
	}

	// Worst accounts: A (3 open, 3 waived) before B (3 open, 1 waived),
	// by account ID.
	accounts := func(sel report.Selection) []string {
		got := pageAll(h, "WorstAccountsPage", 1, func(a report.AccountScan) string { return a.AccountID }, func(req report.PageRequest) (report.Page[report.AccountScan], error) {
			return h.store.WorstAccountsPage(h.ctx, sel, req)
		})
		var out []string
		for _, a := range got {
			out = append(out, fmt.Sprintf("%s:%d:%s", a.AccountID, a.Open, a.OUName))
		}
		return out
	}
	for sel, want := range map[report.Selection][]string{
		{}:                  {AccountA + ":3:" + OUName(payOU), AccountB + ":3:" + OUName(otherOU)},
		{OU: otherOU}:       {AccountB + ":3:" + OUName(otherOU)},
		{Account: AccountA}: {AccountA + ":3:" + OUName(payOU)},
		{Account: AccountC}: nil,
	} {
		if got := accounts(sel); !slices.Equal(got, want) {
			h.t.Errorf("WorstAccountsPage(%s) = %v; want %v", sel, got, want)
		}
	}
}

// testPageTokens: a bad token, a token of another listing and a bad limit
// are one-line errors naming what was wrong; nothing is read.
func testPageTokens(h *harness) {
	h.scan("s1", at(0), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	sel := report.Selection{Account: AccountA}
	p, err := h.store.OpenPage(h.ctx, sel, report.PageRequest{Limit: 1})
	if err != nil || p.Next == "" {
		h.t.Fatalf("OpenPage(limit 1): %v, next %q; want a next page", err, p.Next)
	}
	runs, err := h.store.RunsPage(h.ctx, report.PageRequest{Limit: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	h.scan("s2", at(1), acct{id: AccountA, specs: []Spec{specMissing, specNoKMS, specNoAcct}})
	runs, err = h.store.RunsPage(h.ctx, report.PageRequest{Limit: 1})
	if err != nil || runs.Next == "" {
		h.t.Fatalf("RunsPage(limit 1): %v, next %q; want a next page", err, runs.Next)
	}
	for name, c := range map[string]struct {
		read func() error
		want string
	}{
		"garbage": {func() error {
			_, err := h.store.OpenPage(h.ctx, sel, report.PageRequest{Limit: 5, Token: "<script>!!"})
			return err
		}, "not URL-safe base64"},
		"not JSON": {func() error {
			_, err := h.store.OpenPage(h.ctx, sel, report.PageRequest{Limit: 5, Token: "bm90IGpzb24"})
			return err
		}, "not a page token"},
		"another listing": {func() error {
			_, err := h.store.OpenPage(h.ctx, sel, report.PageRequest{Limit: 5, Token: runs.Next})
			return err
		}, "a token of another listing"},
		"another selection": {func() error {
			_, err := h.store.OpenPage(h.ctx, report.Selection{Account: AccountB}, report.PageRequest{Limit: 5, Token: p.Next})
			return err
		}, "a token of another listing"},
		"too long": {func() error {
			_, err := h.store.RunsPage(h.ctx, report.PageRequest{Limit: 5, Token: strings.Repeat("A", report.MaxTokenLength+1)})
			return err
		}, "more than 2048"},
		"limit 0": {func() error {
			_, err := h.store.RunsPage(h.ctx, report.PageRequest{Limit: 0})
			return err
		}, "page limit 0: want 1 to 1000"},
		"no key to read by": {func() error {
			_, err := h.store.OpenPage(h.ctx, report.Selection{OU: "x"}, report.PageRequest{Limit: 5})
			return err
		}, "want an account, a rule, a severity or coverage"},
		"bad date": {func() error {
			_, err := h.store.WaiversPage(h.ctx, "next month", report.Selection{}, report.PageRequest{Limit: 5})
			return err
		}, `until "next month": want a date YYYY-MM-DD`},
		"accounts by rule": {func() error {
			_, err := h.store.WorstAccountsPage(h.ctx, report.Selection{Rule: "INV-101"}, report.PageRequest{Limit: 5})
			return err
		}, "want an account or an OU only"},
	} {
		err := c.read()
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			h.t.Errorf("%s: %v; want a one-line error with %q", name, err, c.want)
		}
	}
	// The token still works for its own listing.
	if q, err := h.store.OpenPage(h.ctx, sel, report.PageRequest{Limit: 5, Token: p.Next}); err != nil || len(q.Items) == 0 {
		h.t.Errorf("OpenPage with its own token: %v, %d items; want the rest", err, len(q.Items))
	}
}
