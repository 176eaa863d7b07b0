package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

const findingsSynopsis = `Query the findings table. Choose one question:
  -account ID              open findings of one account
  -account ID -bucket NAME one bucket's findings, any status, with their history
  -rule ID                 open findings of one rule across the organization
  -severity SEV            open findings of one severity, newest first
  -scans                   the latest scan runs
  -accounts-scanned        the last complete scan of each account
The table is -table, or SCANNER_TABLE. AWS credentials, region and endpoint
(AWS_ENDPOINT_URL_DYNAMODB) come from the SDK's standard configuration.`

// findingsQuery is the question asked of the table.
type findingsQuery struct {
	account, bucket, rule string
	severity              rules.Severity
	scans, accounts       bool
	limit                 int
}

// validate checks that exactly one question is asked.
func (q findingsQuery) validate() error {
	n := 0
	for _, set := range []bool{q.account != "", q.rule != "", q.severity != 0, q.scans, q.accounts} {
		if set {
			n++
		}
	}
	switch {
	case q.bucket != "" && q.account == "":
		return errors.New("-bucket needs -account: the table keeps a bucket's findings under its account")
	case n == 0:
		return errors.New("no query; want one of -account, -rule, -severity, -scans, -accounts-scanned")
	case n > 1:
		return errors.New("more than one query; want one of -account, -rule, -severity, -scans, -accounts-scanned")
	case q.limit < 0:
		return fmt.Errorf("-limit %d: want 0 (no limit) or more", q.limit)
	}
	return nil
}

func runFindings(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "scanner findings: %v\n", err)
		return code
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fail(exitUsage, err)
	}
	fs := newFlagSet("findings", findingsSynopsis)
	var q findingsQuery
	fs.StringVar(&cfg.Table, "table", cfg.Table, "DynamoDB findings table (default: $SCANNER_TABLE)")
	fs.StringVar(&q.account, "account", "", "open findings of this account ID")
	fs.StringVar(&q.bucket, "bucket", "", "with -account: this bucket's findings and their history")
	fs.StringVar(&q.rule, "rule", "", "open findings of this rule ID (such as INV-101)")
	fs.Var(severityFlag{&q.severity}, "severity", "open findings of this severity (CRITICAL, HIGH, MEDIUM, LOW, INFO), newest first")
	fs.BoolVar(&q.scans, "scans", false, "the latest scan runs, newest first")
	fs.BoolVar(&q.accounts, "accounts-scanned", false, "the last complete scan of each account")
	fs.IntVar(&q.limit, "limit", 0, "at most this many findings or runs (default: all findings, 20 runs)")
	format := fs.String("format", "table", "output: table or json (one object per line)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if err := q.validate(); err != nil {
		return fail(exitUsage, err)
	}
	if *format != "table" && *format != "json" {
		return fail(exitUsage, fmt.Errorf("-format %q: want table or json", *format))
	}
	if cfg.Table == "" {
		return fail(exitUsage, errors.New("no table; set -table or SCANNER_TABLE"))
	}
	if err := cfg.Validate(); err != nil {
		return fail(exitUsage, err)
	}
	awsCfg, err := pipeline.LoadAWS(ctx, cfg)
	if err != nil {
		return fail(exitError, err)
	}
	store, err := newStore(awsCfg, cfg)
	if err != nil {
		return fail(exitUsage, err)
	}
	out := &findingsOutput{w: stdout, json: *format == "json"}
	if err := q.run(ctx, store, out); err != nil {
		return fail(exitError, err)
	}
	if err := out.err; err != nil {
		return fail(exitError, fmt.Errorf("write output: %w", err))
	}
	return exitOK
}

// run asks the question and prints the answer.
func (q findingsQuery) run(ctx context.Context, s report.Querier, out *findingsOutput) error {
	var (
		recs []report.Record
		err  error
	)
	switch {
	case q.scans:
		limit := q.limit
		if limit == 0 {
			limit = 20
		}
		runs, err := s.Runs(ctx, limit)
		if err != nil {
			return err
		}
		out.runs(runs)
		return nil
	case q.accounts:
		scans, err := s.AccountScans(ctx)
		if err != nil {
			return err
		}
		out.accountScans(scans)
		return nil
	case q.bucket != "":
		recs, err = s.BucketHistory(ctx, q.account, q.bucket)
	case q.account != "":
		recs, err = s.OpenByAccount(ctx, q.account)
	case q.rule != "":
		recs, err = s.OpenByRule(ctx, q.rule)
	case q.severity != 0:
		recs, err = s.OpenBySeverity(ctx, q.severity, q.limit)
	}
	if err != nil {
		return err
	}
	if q.limit > 0 && len(recs) > q.limit {
		recs = recs[:q.limit]
	}
	out.records(recs, q.bucket != "")
	return nil
}

// findingsOutput prints answers as an aligned table or JSON lines.
type findingsOutput struct {
	w    io.Writer
	json bool
	err  error
}

func (o *findingsOutput) encode(v any) {
	if o.err == nil {
		o.err = json.NewEncoder(o.w).Encode(v)
	}
}

func (o *findingsOutput) table(header string, rows [][]string, empty string) {
	if o.err != nil {
		return
	}
	if len(rows) == 0 {
		_, o.err = fmt.Fprintln(o.w, empty)
		return
	}
	tw := tabwriter.NewWriter(o.w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		for i := range r {
			r[i] = report.Printable(r[i])
		}
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	o.err = tw.Flush()
}

func (o *findingsOutput) records(recs []report.Record, history bool) {
	if o.json {
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
		row := []string{r.Severity.String(), status, r.RuleID, r.AccountID, dash(r.Bucket), dash(r.ConfigID), day(r.FirstSeen)}
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

func (o *findingsOutput) runs(runs []report.Run) {
	if o.json {
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
		rows = append(rows, []string{r.ScanID, r.Trigger, r.StartedAt.Format(time.RFC3339), finished,
			fmt.Sprint(r.AccountsComplete), fmt.Sprint(r.AccountsFailed), fmt.Sprint(r.AccountsIncomplete),
			fmt.Sprint(r.Buckets), fmt.Sprint(r.Configs), fmt.Sprint(n)})
	}
	o.table("SCAN\tTRIGGER\tSTARTED\tDURATION\tCOMPLETE\tFAILED\tINCOMPLETE\tBUCKETS\tCONFIGS\tFINDINGS", rows, "No scan runs.")
}

func (o *findingsOutput) accountScans(scans []report.AccountScan) {
	if o.json {
		for _, s := range scans {
			o.encode(s)
		}
		return
	}
	rows := make([][]string, 0, len(scans))
	for _, s := range scans {
		rows = append(rows, []string{s.AccountID, dash(s.AccountName), s.ScanID, s.FinishedAt.Format(time.RFC3339),
			fmt.Sprint(s.Buckets), fmt.Sprint(s.Configs), fmt.Sprint(s.Unreadable), fmt.Sprint(s.Open), fmt.Sprint(s.Waived)})
	}
	o.table("ACCOUNT\tNAME\tSCAN\tFINISHED\tBUCKETS\tCONFIGS\tUNREADABLE\tOPEN\tWAIVED", rows, "No complete scans.")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
