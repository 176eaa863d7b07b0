package report

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/s3inv/scanner/rules"
)

// tableHeader is the header row of the table sink.
var tableHeader = []string{"SEVERITY", "RULE", "ACCOUNT", "BUCKET", "CONFIG", "MESSAGE"}

// Table prints findings as an aligned table for people, most severe
// first, at End. It keeps six short strings per finding until then (use
// JSON for very large organizations). Control and format characters in
// names and messages, which account owners choose, are shown as \uXXXX
// (Printable) so that they cannot drive the terminal or hide text.
type Table struct {
	w     io.Writer
	paint func(rules.Severity, string) string
	rows  []tableRow
	guard
}

// TableOption configures a Table.
type TableOption func(*Table)

// WithPaint colours the severity column: paint wraps a cell in the colour
// of its severity (console.Painter gives it on a terminal, with NO_COLOR
// unset). The columns are aligned on the cells as printed before they are
// painted. A nil paint prints no colour.
func WithPaint(paint func(sev rules.Severity, cell string) string) TableOption {
	return func(t *Table) { t.paint = paint }
}

var _ Sink = (*Table)(nil)

// NewTable returns a sink that prints an aligned table to w.
func NewTable(w io.Writer, opts ...TableOption) *Table {
	t := &Table{w: w}
	for _, o := range opts {
		o(t)
	}
	return t
}

type tableRow struct {
	severity rules.Severity
	cells    [6]string
}

// Begin starts a run.
func (t *Table) Begin(context.Context, Run) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.begin()
	t.rows = nil
	return nil
}

// Put keeps the findings' rows until End.
func (t *Table) Put(_ context.Context, fs []rules.Finding) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.check(); err != nil {
		return err
	}
	for _, f := range fs {
		msg := f.Message
		if f.Status == rules.StatusWaived && f.Waiver != nil {
			msg += fmt.Sprintf(" (waived until %s: %s)", f.Waiver.Expires, f.Waiver.Reason)
		}
		t.rows = append(t.rows, tableRow{severity: f.Severity, cells: [6]string{
			f.Severity.String(), f.RuleID, f.AccountID, orDash(f.Bucket), orDash(f.ConfigID), msg,
		}})
	}
	return nil
}

// End prints the table, or "No findings." when there were none.
func (t *Table) End(context.Context, Run) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.end(); err != nil {
		return err
	}
	rows := t.rows
	t.rows = nil
	bw := bufio.NewWriter(t.w)
	if len(rows) == 0 {
		bw.WriteString("No findings.\n")
	} else {
		slices.SortFunc(rows, func(a, b tableRow) int {
			return cmp.Or(cmp.Compare(b.severity, a.severity),
				cmp.Compare(a.cells[2], b.cells[2]), cmp.Compare(a.cells[3], b.cells[3]),
				cmp.Compare(a.cells[4], b.cells[4]), cmp.Compare(a.cells[1], b.cells[1]),
				cmp.Compare(a.cells[5], b.cells[5]))
		})
		t.print(bw, rows)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write findings table: %w", err)
	}
	return nil
}

func (t *Table) print(w *bufio.Writer, rows []tableRow) {
	for i := range rows {
		for j := range rows[i].cells {
			rows[i].cells[j] = Printable(rows[i].cells[j])
		}
	}
	var width [6]int
	for j, h := range tableHeader {
		width[j] = len(h)
	}
	for _, r := range rows {
		for j, c := range r.cells {
			width[j] = max(width[j], utf8.RuneCountInString(c))
		}
	}
	line := func(cells [6]string, sev rules.Severity) {
		for j, c := range cells {
			if j == len(cells)-1 {
				w.WriteString(c)
				break
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c)+2)
			if j == 0 && t.paint != nil && sev != 0 {
				w.WriteString(t.paint(sev, c) + pad)
				continue
			}
			w.WriteString(c + pad)
		}
		w.WriteByte('\n')
	}
	line([6]string(tableHeader), 0)
	for _, r := range rows {
		line(r.cells, r.severity)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Printable is Visible(s, false): a string an account owner chose, on
// one line of a terminal or a table cell.
func Printable(s string) string { return Visible(s, false) }

// Visible writes each character of s that could drive a terminal, or
// hide, reorder or break what is shown around it, as \uXXXX: control
// characters (category Cc: escape sequences, bells), format characters
// (category Cf: zero-width spaces and joiners, soft hyphens,
// bidirectional overrides and isolates, tags), the line and paragraph
// separators (Zl, Zp), and invalid UTF-8 (as \uFFFD); past U+FFFF as
// \UXXXXXXXX. Line breaks and tabs become spaces, unless keepLines, which
// keeps '\n'. Every view of stored strings uses it: the terminal's
// tables and dashboard, and the web dashboard (internal/app/webui).
func Visible(s string, keepLines bool) string {
	if !strings.ContainsFunc(s, hidden) { // an invalid byte is a RuneError
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' && keepLines:
			b.WriteRune(r)
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case hidden(r) && r > 0xFFFF:
			fmt.Fprintf(&b, "\\U%08X", r)
		case hidden(r):
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hidden is a character Visible writes as \uXXXX. Line breaks and tabs
// are control characters.
func hidden(r rune) bool {
	return r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}
