package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// barWidth is the length of the longest bar of the dashboard's charts.
const barWidth = 32

// dashboard prints a run's summary for people: coverage, findings by
// severity and by rule, the worst accounts and buckets, what could not be
// scanned, and how to dig further (queries).
type dashboard struct {
	sum     pipeline.Summary
	color   bool
	queries []string // commands to suggest, one per line
}

func (d dashboard) write(w io.Writer) error {
	var b strings.Builder
	s := d.sum
	accounts := s.AccountsComplete + s.AccountsFailed + s.AccountsIncomplete
	fmt.Fprintf(&b, "\n%s  scan %s · %s · %s\n\n", d.bold("S3 Inventory compliance"), s.ScanID, s.Trigger, s.Duration().Round(time.Millisecond))
	fmt.Fprintf(&b, "  Accounts  %d scanned: %d complete, %d failed, %d incomplete\n", accounts, s.AccountsComplete, s.AccountsFailed, s.AccountsIncomplete)
	fmt.Fprintf(&b, "  Buckets   %d, with %d inventory configurations\n", s.Buckets, s.Configs)
	fmt.Fprintf(&b, "  Findings  %d open, %d waived (%d coverage gaps)\n", s.Open(), s.Waived, s.Coverage())

	d.section(&b, "Findings by severity")
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
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\n", id, r.Name, s.ByRule[id], d.paint(r.Severity, r.Severity.String()))
	}
	if len(s.ByRule) == 0 {
		fmt.Fprintln(tw, "  none: every bucket passes the policy")
	}
	tw.Flush()

	if len(s.WorstAccounts) > 0 {
		d.section(&b, "Worst accounts (open findings)")
		d.tallies(&b, s.WorstAccounts, func(t pipeline.Tally) string { return t.AccountID + "  " + t.AccountName })
	}
	if len(s.WorstBuckets) > 0 {
		d.section(&b, "Worst buckets (open findings)")
		d.tallies(&b, s.WorstBuckets, func(t pipeline.Tally) string { return t.AccountID + "  " + t.Bucket })
	}
	if len(s.Failed) > 0 {
		d.section(&b, "Not fully scanned")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, a := range s.Failed {
			why := ""
			if a.Failure != nil {
				why = a.Failure.Code + ": " + a.Failure.Message
			}
			// Account names and error messages are not ours: keep
			// them from driving the terminal.
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.Account.ID, report.Printable(a.Account.Name), a.Status, report.Printable(oneLine(why, 90)))
		}
		tw.Flush()
		if more := s.AccountsFailed + s.AccountsIncomplete - len(s.Failed); more > 0 {
			fmt.Fprintf(&b, "  … and %d more: see the SCAN-001, SCAN-002 and SCAN-004 findings (scanner findings -rule SCAN-004)\n", more)
		}
	}
	if len(d.queries) > 0 {
		d.section(&b, "Query further")
		for _, q := range d.queries {
			fmt.Fprintf(&b, "  %s\n", q)
		}
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// tallies prints ranked accounts or buckets with their open findings by
// severity.
func (d dashboard) tallies(b *strings.Builder, ts []pipeline.Tally, name func(pipeline.Tally) string) {
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

func (d dashboard) section(b *strings.Builder, title string) {
	fmt.Fprintf(b, "\n%s\n", d.bold(title))
}

func (d dashboard) bold(s string) string {
	if !d.color {
		return s
	}
	return "\x1b[1m" + s + "\x1b[0m"
}

func (d dashboard) paint(sev rules.Severity, s string) string {
	if !d.color {
		return s
	}
	return report.Paint(sev, s)
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

// oneLine shortens s to at most n runes on one line.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
