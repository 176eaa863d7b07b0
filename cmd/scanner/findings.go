//go:build !lambda

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/console"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

const findingsSynopsis = `Query the findings table. Choose one question:
  --account ID               open findings of one account
  --account ID --bucket NAME one bucket's findings, any status, with their history
  --rule ID                  open findings of one rule across the organization
  --severity SEV             open findings of one severity, newest first
  --scans                    the latest scan runs
  --accounts-scanned         the last complete scan of each account
The table is --table, or SCANNER_TABLE. AWS credentials, region and endpoint
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
		return errors.New("--bucket needs --account: the table keeps a bucket's findings under its account")
	case n == 0:
		return errors.New("no query; want one of --account, --rule, --severity, --scans, --accounts-scanned")
	case n > 1:
		return errors.New("more than one query; want one of --account, --rule, --severity, --scans, --accounts-scanned")
	case q.limit < 0:
		return fmt.Errorf("--limit %d: want 0 (no limit) or more", q.limit)
	case q.account != "" && !scan.ValidAccountID(q.account):
		return fmt.Errorf("--account %q: want a 12-digit account ID", q.account)
	}
	if _, ok := rules.Lookup(q.rule); q.rule != "" && !ok {
		return fmt.Errorf("--rule %q: no such rule; want an ID that scanner rules lists", q.rule)
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
	format := fs.String("format", "table", "output: table, json (one object per line) or ocsf (OCSF Compliance Findings, one per line)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if err := q.validate(); err != nil {
		return fail(exitUsage, err)
	}
	switch {
	case *format == "ocsf" && (q.scans || q.accounts):
		return fail(exitUsage, errors.New("--format ocsf: OCSF describes findings; --scans and --accounts-scanned answer in table or json"))
	case *format != "table" && *format != "json" && *format != "ocsf":
		return fail(exitUsage, fmt.Errorf("--format %q: want table, json or ocsf", *format))
	}
	store, code, err := openTable(ctx, fs, cfg)
	if err != nil {
		return fail(code, err)
	}
	if *format == "ocsf" {
		recs, err := q.records(ctx, store)
		if err == nil {
			err = report.WriteOCSF(stdout, recs, version)
		}
		if err != nil {
			return fail(exitError, err)
		}
		return exitOK
	}
	out := &console.Answers{W: stdout, JSON: *format == "json"}
	if err := q.run(ctx, store, out); err != nil {
		return fail(exitError, err)
	}
	if err := out.Err(); err != nil {
		return fail(exitError, fmt.Errorf("write output: %w", err))
	}
	return exitOK
}

// run asks the question and prints the answer.
func (q findingsQuery) run(ctx context.Context, s report.ListQuerier, out *console.Answers) error {
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
		out.Runs(runs)
		return nil
	case q.accounts:
		scans, err := s.AccountScans(ctx)
		if err != nil {
			return err
		}
		out.AccountScans(scans)
		return nil
	}
	recs, err := q.records(ctx, s)
	if err != nil {
		return err
	}
	out.Records(recs, q.bucket != "")
	return nil
}

// records answers a question about findings (not --scans nor
// --accounts-scanned), at most q.limit of them when it is set.
func (q findingsQuery) records(ctx context.Context, s report.ListQuerier) ([]report.Record, error) {
	var (
		recs []report.Record
		err  error
	)
	switch {
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
		return nil, err
	}
	if q.limit > 0 && len(recs) > q.limit {
		recs = recs[:q.limit]
	}
	return recs, nil
}
