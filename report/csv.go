package report

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/s3inv/scanner/rules"
)

// csvHeader is the header row the CSV sink writes, in column order.
var csvHeader = []string{
	"finding_id", "account_id", "account_name", "ou_id", "bucket", "region", "config_id",
	"rule_id", "severity", "status", "title", "message", "evidence",
	"waiver_reason", "waiver_expires", "scan_id", "observed_at",
}

// CSV writes one finding per row (RFC 4180), after a header row written
// once, at the first Begin; AccountDone and End write nothing. Evidence is
// a JSON object in one cell.
//
// A cell that a spreadsheet would run as a formula (one that begins with
// =, +, -, @, a tab or a carriage return; configuration IDs and prefixes
// are chosen by account owners) is prefixed with a single quote.
type CSV struct {
	w      *csv.Writer
	header bool
	guard
}

var _ Sink = (*CSV)(nil)

// NewCSV returns a sink that writes CSV to w.
func NewCSV(w io.Writer) *CSV { return &CSV{w: csv.NewWriter(w)} }

// Begin starts a run and writes the header the first time.
func (c *CSV) Begin(context.Context, Run) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.begin()
	if c.header {
		return nil
	}
	c.header = true
	if err := c.w.Write(csvHeader); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	return nil
}

// Put writes one row per finding.
func (c *CSV) Put(_ context.Context, fs []rules.Finding) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.check(); err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}
	for _, f := range fs {
		row, err := csvRow(f)
		if err != nil {
			return err
		}
		if err := c.w.Write(row); err != nil {
			return fmt.Errorf("write csv row %s: %w", f.FindingID, err)
		}
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return fmt.Errorf("write csv rows: %w", err)
	}
	return nil
}

func csvRow(f rules.Finding) ([]string, error) {
	evidence := ""
	if len(f.Evidence) > 0 {
		b, err := json.Marshal(f.Evidence) // map keys sorted
		if err != nil {
			return nil, fmt.Errorf("encode evidence of %s: %w", f.FindingID, err)
		}
		evidence = string(b)
	}
	var reason, expires string
	if f.Waiver != nil {
		reason, expires = f.Waiver.Reason, f.Waiver.Expires
	}
	observed := ""
	if !f.ObservedAt.IsZero() {
		observed = f.ObservedAt.UTC().Format(time.RFC3339)
	}
	row := []string{
		f.FindingID, f.AccountID, f.AccountName, f.OUID, f.Bucket, f.Region, f.ConfigID,
		f.RuleID, f.Severity.String(), string(f.Status), f.Title, f.Message, evidence,
		reason, expires, f.ScanID, observed,
	}
	for i, cell := range row {
		row[i] = defuseFormula(cell)
	}
	return row, nil
}

// defuseFormula prefixes a cell that a spreadsheet would evaluate.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
