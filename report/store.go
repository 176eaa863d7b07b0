package report

import (
	"context"
	"time"

	"github.com/s3inv/scanner/rules"
)

// Querier answers the questions people and dashboards ask of a findings
// store. Every answer leaves out records that have expired (past their
// retention) even if the store has not deleted them yet. Unresolved means
// OPEN or WAIVED.
//
// It is two interfaces, as its consumers ask: ListQuerier's whole answers
// (the command line's `scanner findings`) and PageQuerier's pages of a
// listing, one bounded read each (the web dashboard and the custom
// widgets, which see nothing else).
type Querier interface {
	ListQuerier
	PageQuerier
}

// ListQuerier answers a question with the whole answer in one call (see
// Querier).
type ListQuerier interface {
	// Findings returns the current record of every finding of one account,
	// whatever its status (the records the lifecycle works on), sorted
	// with SortRecords.
	Findings(ctx context.Context, accountID string) ([]Record, error)
	// OpenByAccount returns the unresolved findings of one account, sorted
	// with SortRecords.
	OpenByAccount(ctx context.Context, accountID string) ([]Record, error)
	// OpenByRule returns the unresolved findings of one rule across the
	// organization, sorted with SortRecords.
	OpenByRule(ctx context.Context, ruleID string) ([]Record, error)
	// OpenBySeverity returns the unresolved findings of one severity,
	// newest first (latest first_seen first); at most limit of them when
	// limit > 0.
	OpenBySeverity(ctx context.Context, sev rules.Severity, limit int) ([]Record, error)
	// BucketHistory returns the findings of one bucket of an account, any
	// status, with the archived episodes of findings that were resolved
	// and reappeared (Record.History), sorted with SortRecords. Bucket ""
	// names the account-level findings.
	BucketHistory(ctx context.Context, accountID, bucket string) ([]Record, error)
	// Runs returns the latest scan runs, newest first; at most limit when
	// limit > 0. A run that has not ended has a zero FinishedAt.
	Runs(ctx context.Context, limit int) ([]Run, error)
	// AccountScans returns the last complete scan of each account that has
	// one, by account ID.
	AccountScans(ctx context.Context) ([]AccountScan, error)
}

// PageQuerier answers the paged queries (see PageRequest and Querier):
// each call reads one page of a listing, and its token continues where
// the page ended. A store whose pages are bounded by what it reads
// (DynamoDB's Limit counts items before a filter) may return fewer than
// the limit, even none, with a Next token; a caller follows Next until it
// is "".
type PageQuerier interface {
	// OpenPage lists the unresolved findings that match sel, which needs
	// an account, a rule, a severity or coverage: an account's in key
	// order (bucket, finding ID), else a rule's by account, else a
	// severity's newest first (latest first_seen first), else the
	// coverage findings by account.
	OpenPage(ctx context.Context, sel Selection, req PageRequest) (Page[Record], error)
	// ChangesPage lists the findings scan scanID opened, reopened or
	// resolved (Record.ChangedIn), that match sel: most severe first,
	// within a severity those it opened or reopened before those it
	// resolved, then by finding ID.
	ChangesPage(ctx context.Context, scanID string, sel Selection, req PageRequest) (Page[Record], error)
	// WaiversPage lists the WAIVED findings whose waiver's last day
	// (YYYY-MM-DD) is on or before until, that match sel, the soonest
	// expiry first.
	WaiversPage(ctx context.Context, until string, sel Selection, req PageRequest) (Page[Record], error)
	// RunsPage lists the scan runs, newest first.
	RunsPage(ctx context.Context, req PageRequest) (Page[Run], error)
	// WorstAccountsPage lists the last complete scan of each account,
	// the most open findings first, matching sel's account and OU (its
	// rule and severity must be unset).
	WorstAccountsPage(ctx context.Context, sel Selection, req PageRequest) (Page[AccountScan], error)
}

// Store is a sink that keeps findings with their lifecycle, answers
// queries about them and closes the findings of accounts that left the
// scope: Memory and the DynamoDB store.
type Store interface {
	Sink
	Querier
	ScopeCloser
}

// StoreOptions configure a store.
type StoreOptions struct {
	// Retention is how long a resolved finding (and an archived episode)
	// is kept; DefaultRetention when zero.
	Retention time.Duration
	// Now is the clock, for expiry on read and for resolutions whose
	// account result has no finish time; time.Now when nil.
	Now func() time.Time
	// OnTransition, when set, is called once for each change of a
	// finding's state (Transition) after the store has written it: a
	// change whose write failed, or that a newer scan refused, is not
	// reported (the next scan decides it again). It may be called
	// concurrently (for different accounts), and must not call the store.
	OnTransition TransitionFunc
}

// WithDefaults returns o with its zero fields set to their defaults, as
// both stores take them (exported for report/dynamo).
func (o StoreOptions) WithDefaults() StoreOptions {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnTransition == nil {
		o.OnTransition = func(Transition) {}
	}
	return o
}
