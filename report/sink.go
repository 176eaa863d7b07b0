package report

import (
	"context"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// Sink receives the findings of a scan run. Every implementation passes the
// conformance suite in package report/sinktest.
//
// The scanner calls Begin once, then Put and AccountDone for each account,
// then End once. Put may be called concurrently for different accounts. All
// Put calls for an account happen before that account's AccountDone.
type Sink interface {
	// Begin records the start of a scan run.
	Begin(ctx context.Context, run Run) error
	// Put stores findings (typically those of one bucket or one account).
	Put(ctx context.Context, findings []rules.Finding) error
	// AccountDone closes an account. When r.Status is COMPLETE, the sink
	// resolves the account's open or waived findings that this scan did
	// not produce, except those of the buckets in r.Unreadable. For any
	// other status it changes nothing that earlier scans stored.
	AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error
	// End records the summary of the run.
	End(ctx context.Context, run Run) error
}

// Run is the record of one scan run.
type Run struct {
	ScanID     string    `json:"scan_id"`
	Trigger    string    `json:"trigger"` // schedule | manual | cli | demo
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"` // zero until End

	AccountsComplete   int `json:"accounts_complete"`
	AccountsFailed     int `json:"accounts_failed"`     // role unavailable or buckets unlisted
	AccountsIncomplete int `json:"accounts_incomplete"` // cut short by the deadline
	Buckets            int `json:"buckets"`
	Configs            int `json:"configs"`

	// Findings counts the findings this run produced (open and waived) by
	// severity name and by rule ID.
	BySeverity map[string]int `json:"by_severity,omitempty"`
	ByRule     map[string]int `json:"by_rule,omitempty"`
}

// Duration is how long the run took; zero until it has ended.
func (r Run) Duration() time.Duration {
	if r.FinishedAt.IsZero() {
		return 0
	}
	return r.FinishedAt.Sub(r.StartedAt)
}
