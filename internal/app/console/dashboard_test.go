package console

import (
	"regexp"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestDashboardColourKeepsAlignment renders one summary with and without
// colour: without the escape codes, the two must be the same text, so
// colour never shifts a column.
func TestDashboardColourKeepsAlignment(t *testing.T) {
	sum := report.Summary{
		Run: report.Run{ScanID: "s", Trigger: "cli", AccountsComplete: 1, AccountsFailed: 1, Buckets: 3, Configs: 4,
			BySeverity: map[string]int{"CRITICAL": 2, "HIGH": 11, "LOW": 1},
			ByRule:     map[string]int{"INV-104": 2, "INV-101": 11, "INV-003": 1}},
		WorstAccounts: []report.Tally{{AccountID: "111111111111", Open: 3, BySeverity: map[string]int{"CRITICAL": 2, "LOW": 1}}},
		Failed:        []inventory.AccountResult{{Account: inventory.Account{ID: "222222222222"}, Status: inventory.AccountRoleUnavailable}},
	}
	var plain, coloured strings.Builder
	if err := (Dashboard{Summary: sum}).Write(&plain); err != nil {
		t.Fatal(err)
	}
	if err := (Dashboard{Summary: sum, Color: true}).Write(&coloured); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(coloured.String(), "\x1b[") {
		t.Fatal("no colour in the coloured dashboard")
	}
	if got := ansi.ReplaceAllString(coloured.String(), ""); got != plain.String() {
		t.Errorf("colour changes the layout:\n%s\nwant\n%s", got, plain.String())
	}
}

// TestDashboardNeutralisesNames prints names chosen by account owners
// and error texts with control and format characters: none reaches the
// terminal, each is shown as \uXXXX.
func TestDashboardNeutralisesNames(t *testing.T) {
	sum := report.Summary{
		Run:           report.Run{AccountsFailed: 1, AccountsComplete: 1},
		WorstAccounts: []report.Tally{{AccountID: "111111111111", AccountName: "evil\x1b[2J\u200b", Open: 1, BySeverity: map[string]int{"LOW": 1}}},
		Failed: []inventory.AccountResult{{Account: inventory.Account{ID: "222222222222", Name: "bad\x1b]0;title\x07\u202egnp.exe"},
			Status: inventory.AccountRoleUnavailable, Failure: &inventory.Failure{Code: "AccessDenied", Message: "no\x1b[31m"}}},
	}
	var out strings.Builder
	if err := (Dashboard{Summary: sum}).Write(&out); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\u200b\u202e") {
		t.Errorf("control or format characters reach the terminal: %q", out.String())
	}
	for _, want := range []string{`evil\u001B[2J\u200B`, `bad\u001B]0;title\u0007\u202Egnp.exe`, `no\u001B[31m`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dashboard lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDashboardHeaderAddsUp: the header's total is the sum of the
// severity bars (open and waived alike), and says how many are waived.
func TestDashboardHeaderAddsUp(t *testing.T) {
	sum := report.Summary{
		Run:    report.Run{AccountsComplete: 1, BySeverity: map[string]int{"CRITICAL": 2, "HIGH": 11, "LOW": 3}, ByRule: map[string]int{"INV-101": 11, "INV-104": 2, "INV-003": 3}},
		Waived: 2,
	}
	var out strings.Builder
	if err := (Dashboard{Summary: sum}).Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Findings  16: 14 open, 2 waived (0 coverage gaps)", "Findings by severity (open and waived)",
		"1 account scanned", "with 0 inventory configurations"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dashboard lacks %q:\n%s", want, out.String())
		}
	}
}
