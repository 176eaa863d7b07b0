package console

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// barWidth is the length of the longest bar of the dashboard's charts.
const barWidth = 32

// Dashboard prints a run's summary for people: coverage, findings by
// severity and by rule, the worst accounts and buckets, what could not be
// scanned, and how to dig further (Queries).
type Dashboard struct {
	Summary report.Summary
	Color   bool
	Queries []string // commands to suggest, one per line
}

// failureWidth is the room for why an account was not fully scanned.
const failureWidth = 104

// Write prints the dashboard to w.
func (d Dashboard) Write(w io.Writer) error {
	var b strings.Builder
	s := d.Summary
	accounts := s.AccountsComplete + s.AccountsFailed + s.AccountsIncomplete
	fmt.Fprintf(&b, "\n%s  scan %s · %s · %s\n\n", d.bold("S3 Inventory compliance"), s.ScanID, s.Trigger, s.Duration().Round(time.Millisecond))
	fmt.Fprintf(&b, "  Accounts  %s scanned: %d complete, %d failed, %d incomplete\n", Count(accounts, "account", ""), s.AccountsComplete, s.AccountsFailed, s.AccountsIncomplete)
	fmt.Fprintf(&b, "  Buckets   %d, with %s\n", s.Buckets, Count(s.Configs, "inventory configuration", ""))
	// The header and the bars count the same findings: open and waived.
	fmt.Fprintf(&b, "  Findings  %d: %d open, %d waived (%s)\n", s.Findings(), s.Open(), s.Waived, Count(s.Coverage(), "coverage gap", ""))

	d.section(&b, "Findings by severity (open and waived)")
	// Coloured cells are padded before they are painted: escape codes
	// have no width on a terminal, but tabwriter would count them.
	peak := slices.Max(append(slices.Collect(maps.Values(s.BySeverity)), 1))
	digits := len(fmt.Sprint(peak))
	for _, sev := range rules.Severities() {
		n := s.BySeverity[sev.String()]
		fmt.Fprintf(&b, "  %s  %*d  %s\n", d.paint(sev, fmt.Sprintf("%-8s", sev)), digits, n, d.paint(sev, bar(n, peak)))
	}

	d.section(&b, "Findings by rule")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	if len(s.ByRule) > 0 {
		fmt.Fprintln(tw, "  rule\tname\tfindings\tdefault severity")
	}
	for _, id := range slices.Sorted(maps.Keys(s.ByRule)) {
		r, _ := rules.Lookup(id)
		// The painted cell is last: tabwriter does not measure it.
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", id, r.Name, s.ByRule[id], d.paint(r.Severity, r.SeverityText()))
	}
	if len(s.ByRule) == 0 {
		fmt.Fprintln(tw, "  none: every bucket passes the policy")
	}
	tw.Flush()

	if len(s.WorstAccounts) > 0 {
		d.section(&b, "Worst accounts (open findings)")
		d.tallies(&b, s.WorstAccounts, func(t report.Tally) string { return t.AccountID + "  " + t.AccountName })
	}
	if len(s.WorstBuckets) > 0 {
		d.section(&b, "Worst buckets (open findings)")
		d.tallies(&b, s.WorstBuckets, func(t report.Tally) string { return t.AccountID + "  " + t.Bucket })
	}
	if len(s.Failed) > 0 {
		d.section(&b, "Not fully scanned")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, a := range s.Failed {
			why := ""
			if a.Failure != nil {
				why = a.Failure.Code + ": " + Shorten(a.Failure.Message, failureWidth-len(a.Failure.Code)-2)
			}
			// Account names and error messages are not ours: keep
			// them from driving the terminal.
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Account.ID, report.Printable(a.Account.Name), a.Status, report.Printable(why))
		}
		tw.Flush()
		if more := s.AccountsFailed + s.AccountsIncomplete - len(s.Failed); more > 0 {
			var ids []string
			for _, st := range []inventory.AccountStatus{inventory.AccountRoleUnavailable, inventory.AccountBucketsUnlisted, inventory.AccountIncomplete} {
				if r, ok := rules.AccountCoverage(st); ok {
					ids = append(ids, r.ID)
				}
			}
			fmt.Fprintf(&b, "  … and %d more: see their %s findings (scanner findings --rule ID)\n", more, strings.Join(ids, ", "))
		}
	}
	if len(d.Queries) > 0 {
		d.section(&b, "Query further")
		for _, q := range d.Queries {
			fmt.Fprintf(&b, "  %s\n", q)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// tallies prints ranked accounts or buckets with their open findings by
// severity.
func (d Dashboard) tallies(b *strings.Builder, ts []report.Tally, name func(report.Tally) string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	sevs := rules.Severities()
	fmt.Fprint(tw, "\t")
	for _, sev := range sevs {
		fmt.Fprintf(tw, "%s\t", abbrev(sev))
	}
	fmt.Fprint(tw, "open\t\n")
	for _, t := range ts {
		fmt.Fprint(tw, "\t")
		for _, sev := range sevs {
			fmt.Fprintf(tw, "%s\t", dashIfZero(t.BySeverity[sev.String()]))
		}
		fmt.Fprintf(tw, "%d\t  %s\n", t.Open, report.Printable(name(t)))
	}
	tw.Flush()
}

func (d Dashboard) section(b *strings.Builder, title string) {
	fmt.Fprintf(b, "\n%s\n", d.bold(title))
}

func (d Dashboard) bold(s string) string {
	if !d.Color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

func (d Dashboard) paint(sev rules.Severity, s string) string {
	if !d.Color {
		return s
	}
	return Paint(sev, s)
}

// bar is a horizontal bar of n against peak, in eighths of a cell.
func bar(n, peak int) string {
	if n <= 0 {
		return ""
	}
	eighths := max(1, n*barWidth*8/peak)
	return strings.Repeat("█", eighths/8) + []string{"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"}[eighths%8]
}

// abbrev is a severity's column heading: CRIT, HIGH, MED, LOW, INFO.
func abbrev(s rules.Severity) string {
	switch s {
	case rules.SeverityCritical:
		return "CRIT"
	case rules.SeverityMedium:
		return "MED"
	}
	return s.String()
}

func dashIfZero(n int) string {
	if n == 0 {
		return "·"
	}
	return fmt.Sprint(n)
}
