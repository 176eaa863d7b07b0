package report

import (
	"fmt"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// TestSummaryStaysSmall closes more failed accounts than a summary lists:
// every one is counted, the lowest account IDs are listed, and no list of
// unreadable buckets is carried.
func TestSummaryStaysSmall(t *testing.T) {
	eval := rules.NewEvaluator(rules.DefaultPolicy(), inventory.Org{})
	h := NewSummaryCounter(0, nil)
	const n = maxFailed + 50
	for i := range n {
		id := fmt.Sprintf("%012d", n-i) // closed in descending order
		status := inventory.AccountIncomplete
		if i%2 == 0 {
			status = inventory.AccountRoleUnavailable
		}
		r := inventory.AccountResult{
			Account: inventory.Account{ID: id}, Status: status,
			Failure:    &inventory.Failure{Code: "Deadline", Message: "cut short"},
			Unreadable: []string{"a-bucket"},
		}
		h.Account(r, eval.Account(r, "scan", time.Now()))
	}
	sum := h.Summary(Run{ScanID: "scan"})
	if sum.AccountsFailed+sum.AccountsIncomplete != n {
		t.Errorf("%d failed + %d incomplete accounts counted; want %d", sum.AccountsFailed, sum.AccountsIncomplete, n)
	}
	if len(sum.Failed) != maxFailed || sum.Failed[0].Account.ID != "000000000001" || sum.Failed[maxFailed-1].Account.ID != fmt.Sprintf("%012d", maxFailed) {
		t.Fatalf("%d accounts listed, from %s; want the %d lowest IDs", len(sum.Failed), sum.Failed[0].Account.ID, maxFailed)
	}
	for _, a := range sum.Failed {
		if a.Unreadable != nil {
			t.Fatalf("account %s carries its unreadable buckets into the summary", a.Account.ID)
		}
	}
	if got := sum.Coverage(); got != n {
		t.Errorf("%d coverage findings; want %d (one SCAN-001 or SCAN-004 per account)", got, n)
	}
}

// TestMergeAddsUpTheParts: the counts of a fan-out run's parts add up,
// Security Hub's only when a part exported (nil stays nil: the export
// was off).
func TestMergeAddsUpTheParts(t *testing.T) {
	run := Run{ScanID: "s1"}
	a := Summary{Run: Run{AccountsComplete: 1, Buckets: 3, BySeverity: map[string]int{"HIGH": 2}}, EventsFailed: 1,
		SecurityHub: &SecurityHubCounts{Imported: 4, Failed: 1, NotEnabled: 1, Skipped: 2}}
	a.Changes.Opened = 2
	b := Summary{Run: Run{AccountsIncomplete: 1, Buckets: 2, BySeverity: map[string]int{"HIGH": 1, "LOW": 1}},
		SecurityHub: &SecurityHubCounts{Imported: 1}}
	b.Changes.Resolved = 1
	got := MergeSummaries(run, a, b)
	if got.ScanID != "s1" || got.AccountsComplete != 1 || got.AccountsIncomplete != 1 || got.Buckets != 5 ||
		got.BySeverity["HIGH"] != 3 || got.BySeverity["LOW"] != 1 || got.EventsFailed != 1 ||
		got.Changes.Opened != 2 || got.Changes.Resolved != 1 {
		t.Errorf("Merge = %+v; want the parts added up under scan s1", got)
	}
	if want := (SecurityHubCounts{Imported: 5, Failed: 1, NotEnabled: 1, Skipped: 2}); got.SecurityHub == nil || *got.SecurityHub != want {
		t.Errorf("Merge: security hub %+v; want %+v", got.SecurityHub, want)
	}
	if off := MergeSummaries(run, Summary{}, Summary{}); off.SecurityHub != nil {
		t.Errorf("Merge of parts without an export: security hub %+v; want nil", off.SecurityHub)
	}
}
