package console

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Answers prints the answers of `scanner findings`: an aligned table for
// people, or one JSON object per line. A table leaves out the columns a
// query did not fill (an index that does not project them), rather than
// printing a column of dashes; JSON leaves out the empty fields.
type Answers struct {
	W    io.Writer
	JSON bool
	err  error
}

// Err is the first error writing the answers.
func (o *Answers) Err() error { return o.err }

func (o *Answers) encode(v any) {
	if o.err == nil {
		o.err = json.NewEncoder(o.W).Encode(v)
	}
}

// table prints rows under header (tab-separated), without the columns that
// are empty in every row; the empty cells left are shown as "-".
func (o *Answers) table(header string, rows [][]string, empty string) {
	if o.err != nil {
		return
	}
	if len(rows) == 0 {
		_, o.err = fmt.Fprintln(o.W, empty)
		return
	}
	cols := strings.Split(header, "\t")
	var keep []int
	for c := range cols {
		if slices.ContainsFunc(rows, func(r []string) bool { return r[c] != "" }) {
			keep = append(keep, c)
		}
	}
	tw := tabwriter.NewWriter(o.W, 0, 0, 2, ' ', 0)
	line := make([]string, len(keep))
	for i, c := range keep {
		line[i] = cols[c]
	}
	fmt.Fprintln(tw, strings.Join(line, "\t"))
	for _, r := range rows {
		for i, c := range keep {
			line[i] = cmp.Or(report.Printable(r[c]), "-")
		}
		fmt.Fprintln(tw, strings.Join(line, "\t"))
	}
	o.err = tw.Flush()
}

// Records prints findings; history adds when each was last seen and resolved.
func (o *Answers) Records(recs []report.Record, history bool) {
	if o.JSON {
		for _, r := range recs {
			o.encode(r)
		}
		return
	}
	rows := make([][]string, 0, len(recs))
	for _, r := range recs {
		status := string(r.Status)
		if r.History {
			status += " (earlier)"
		}
		msg := r.Message
		if r.Waiver != nil && r.Status == rules.StatusWaived {
			msg += fmt.Sprintf(" (waived until %s: %s)", r.Waiver.Expires, r.Waiver.Reason)
		}
		row := []string{r.Severity.String(), status, r.RuleID, r.AccountID, r.Bucket, r.ConfigID, day(r.FirstSeen)}
		if history {
			row = append(row, day(r.LastSeen), day(r.ResolvedAt))
		}
		rows = append(rows, append(row, msg))
	}
	header := "SEVERITY\tSTATUS\tRULE\tACCOUNT\tBUCKET\tCONFIG\tFIRST SEEN\tMESSAGE"
	if history {
		header = "SEVERITY\tSTATUS\tRULE\tACCOUNT\tBUCKET\tCONFIG\tFIRST SEEN\tLAST SEEN\tRESOLVED\tMESSAGE"
	}
	o.table(header, rows, "No findings.")
}

// Runs prints scan runs.
func (o *Answers) Runs(runs []report.Run) {
	if o.JSON {
		for _, r := range runs {
			o.encode(r)
		}
		return
	}
	rows := make([][]string, 0, len(runs))
	for _, r := range runs {
		n := 0
		for _, c := range r.BySeverity {
			n += c
		}
		finished := "running"
		if !r.FinishedAt.IsZero() {
			finished = r.Duration().String()
		}
		rows = append(rows, []string{r.ScanID, r.Trigger, day(r.StartedAt), finished,
			fmt.Sprint(r.AccountsComplete), fmt.Sprint(r.AccountsFailed), fmt.Sprint(r.AccountsIncomplete),
			fmt.Sprint(r.Buckets), fmt.Sprint(r.Configs), fmt.Sprint(n)})
	}
	o.table("SCAN\tTRIGGER\tSTARTED\tDURATION\tCOMPLETE\tFAILED\tINCOMPLETE\tBUCKETS\tCONFIGS\tFINDINGS", rows, "No scan runs.")
}

// AccountScans prints the last complete scan of each account.
func (o *Answers) AccountScans(scans []report.AccountScan) {
	if o.JSON {
		for _, s := range scans {
			o.encode(s)
		}
		return
	}
	rows := make([][]string, 0, len(scans))
	for _, s := range scans {
		rows = append(rows, []string{s.AccountID, s.AccountName, s.ScanID, day(s.FinishedAt),
			fmt.Sprint(s.Buckets), fmt.Sprint(s.Configs), fmt.Sprint(s.Unreadable), fmt.Sprint(s.Open), fmt.Sprint(s.Waived)})
	}
	o.table("ACCOUNT\tNAME\tSCAN\tFINISHED\tBUCKETS\tCONFIGS\tUNREADABLE\tOPEN\tWAIVED", rows, "No complete scans.")
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
