// Package lifecycle holds the parts of the findings lifecycle that
// report's two stores (report.Memory and the DynamoDB store, report/dynamo)
// apply alike and that need none of report's types: the precision of the
// times they keep (Timestamp), the time a closed account's findings are
// resolved at (ResolvedAt), what a store needs of a finding (Validate),
// and which stored findings a complete scan that did not produce them
// resolves (Resolver).
//
// It is internal to report. The parts on report's own types (Observe,
// Resolve, NewTransition, SortRecords, NewAccountScan) are report's,
// exported for the DynamoDB store; package report's documentation
// describes the lifecycle as a whole.
package lifecycle

import (
	"fmt"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// Timestamp is the precision stores keep: UTC, whole seconds. Times
// truncated this way sort as strings in RFC 3339 form.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Second)
}

// ResolvedAt is the time AccountDone resolves findings at: when the
// account's scan finished, or now when the result does not say.
func ResolvedAt(r inventory.AccountResult, now time.Time) time.Time {
	if !r.FinishedAt.IsZero() {
		return Timestamp(r.FinishedAt)
	}
	return Timestamp(now)
}

// Validate checks what a store needs of a finding: the identifying fields
// (they become keys, which may not be empty), a valid severity, and a
// status a scan can produce (OPEN or WAIVED).
func Validate(f rules.Finding) error {
	switch {
	case f.FindingID == "":
		return fmt.Errorf("finding of rule %q on account %q: empty finding_id", f.RuleID, f.AccountID)
	case f.AccountID == "":
		return fmt.Errorf("finding %s: empty account_id", f.FindingID)
	case f.RuleID == "":
		return fmt.Errorf("finding %s: empty rule_id", f.FindingID)
	case !f.Severity.Valid():
		return fmt.Errorf("finding %s: invalid severity %d", f.FindingID, int(f.Severity))
	case f.Status != rules.StatusOpen && f.Status != rules.StatusWaived:
		return fmt.Errorf("finding %s: status %q; want OPEN or WAIVED", f.FindingID, f.Status)
	}
	return nil
}

// Open reports whether a finding of status s is unresolved: OPEN or
// WAIVED (report.Record.Open).
func Open(s rules.Status) bool {
	return s == rules.StatusOpen || s == rules.StatusWaived
}

// Resolver decides, for one closed account, which stored records a scan
// that did not produce them resolves.
type Resolver struct {
	complete   bool
	account    string
	unreadable map[string]bool
	unverified map[string]bool
}

// NewResolver returns the resolver for the account result r. Only a
// COMPLETE result resolves anything.
func NewResolver(r inventory.AccountResult) Resolver {
	res := Resolver{complete: r.Status == inventory.AccountComplete, account: r.Account.ID}
	if len(r.Unreadable) > 0 {
		res.unreadable = make(map[string]bool, len(r.Unreadable))
		for _, b := range r.Unreadable {
			res.unreadable[b] = true
		}
	}
	if len(r.Unverified) > 0 {
		res.unverified = make(map[string]bool, len(r.Unverified))
		for _, b := range r.Unverified {
			res.unverified[b] = true
		}
	}
	return res
}

// Resolves reports whether the stored finding f (the finding of a
// report.Record; archived when the record is an earlier episode,
// Record.History), a finding of the account that this scan did not
// produce, is to be resolved: the scan is complete, f is OPEN or WAIVED
// and current, its bucket was readable in this scan, and, for a finding
// about the bucket's destinations (rules.AboutDestinations: INV-110 to
// INV-115 and the SCAN-006 finding that folds them), the bucket's
// destinations could all be verified.
func (res Resolver) Resolves(f rules.Finding, archived bool) bool {
	if f.Bucket != "" && res.unverified[f.Bucket] && rules.AboutDestinations(f) {
		return false
	}
	return res.complete && f.AccountID == res.account && Open(f.Status) && !archived &&
		(f.Bucket == "" || !res.unreadable[f.Bucket])
}
