package report

import (
	"cmp"
	"errors"
	"slices"
	"time"

	"github.com/s3inv/scanner/report/internal/lifecycle"
	"github.com/s3inv/scanner/rules"
)

// ErrNoRun is returned by Put, AccountDone and End when no scan run has
// begun: the caller broke the Begin → Put/AccountDone → End order.
var ErrNoRun = errors.New("no scan run has begun")

// DefaultRetention is how long a resolved finding is kept when a store is
// not told otherwise.
const DefaultRetention = 90 * 24 * time.Hour

// Record is a finding as a store keeps it: the finding last seen, with its
// lifecycle. Status is OPEN or WAIVED while the problem is seen, RESOLVED
// once a complete scan of the account no longer sees it.
type Record struct {
	rules.Finding
	// FirstSeen is when the current episode began: the first scan that
	// saw the finding, or the scan that saw it again after it had been
	// resolved (a reappearance starts a new episode; see History).
	FirstSeen time.Time `json:"first_seen,omitzero"`
	// LastSeen is the last scan that saw it (ObservedAt of that scan).
	LastSeen time.Time `json:"last_seen,omitzero"`
	// ResolvedAt is set when Status is RESOLVED.
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	// Resolution says why a RESOLVED record was resolved:
	// ResolutionNotSeen, or OutOfScopeResolution(reason) when its account
	// left the scope (ScopeCloser). Empty while unresolved.
	Resolution string `json:"resolution,omitempty"`
	// ExpiresAt is when the store forgets the record (resolved records
	// and archived episodes only).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// History is true for an earlier, resolved episode of a finding that
	// was archived when the finding reappeared.
	History bool `json:"history,omitempty"`
	// ChangedIn is the scan that last opened, reopened or resolved the
	// finding (Querier.ChangesPage lists a scan's).
	ChangedIn string `json:"changed_in,omitempty"`
}

// Expired reports whether the record is past its expiry at now. Stores
// whose deletion is lazy (DynamoDB TTL) filter expired records on read.
func (r Record) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// Open reports whether the record is unresolved (OPEN or WAIVED).
func (r Record) Open() bool { return lifecycle.Open(r.Status) }

// Observe is the lifecycle rule for a finding a scan produced. Given the
// record stored before (nil when there is none, or it has expired), it
// returns the record to store now, and reopened when the finding had been
// resolved:
//
//   - new: first_seen = last_seen = the finding's ObservedAt, changed in
//     the finding's scan;
//   - seen again while open or waived: first_seen kept, last_seen updated,
//     status and waiver as the finding says (a waiver may start or end);
//   - seen again after it was resolved: reopened, resolved_at and expiry
//     removed, and a new episode begins (first_seen = the finding's
//     ObservedAt), changed in the finding's scan, and reopened is true.
//     The caller keeps the resolved episode as history if it wants one.
//
// Every sink that keeps state (Memory, DynamoDB) applies exactly this
// rule, so the conformance suite checks them alike; it is exported for
// the DynamoDB store (report/dynamo), and for tests that build records.
func Observe(prev *Record, f rules.Finding) (next Record, reopened bool) {
	at := lifecycle.Timestamp(f.ObservedAt)
	f.ObservedAt = at
	next = Record{Finding: f, FirstSeen: at, LastSeen: at, ChangedIn: f.ScanID}
	switch {
	case prev == nil:
		return next, false
	case prev.Status == rules.StatusResolved:
		return next, true
	default:
		next.FirstSeen, next.ChangedIn = prev.FirstSeen, prev.ChangedIn
		if next.FirstSeen.IsZero() || next.FirstSeen.After(at) {
			next.FirstSeen = at
		}
		return next, false
	}
}

// Resolve returns prev resolved by scan scanID at the given time for the
// given reason (ResolutionNotSeen, or OutOfScopeResolution), to expire
// retention later. Everything else (last_seen, the finding as last seen,
// its waiver) is kept. Both stores resolve with it (exported for
// report/dynamo, and for tests that build records).
func Resolve(prev Record, scanID string, at time.Time, retention time.Duration, resolution string) Record {
	at = lifecycle.Timestamp(at)
	prev.ChangedIn = scanID
	prev.Status = rules.StatusResolved
	prev.ResolvedAt = at
	prev.Resolution = resolution
	prev.ExpiresAt = at.Add(retention)
	prev.History = false
	return prev
}

// AccountScan is the last complete scan of one account.
type AccountScan struct {
	AccountID   string    `json:"account_id"`
	AccountName string    `json:"account_name,omitempty"`
	OUID        string    `json:"ou_id,omitempty"`
	OUName      string    `json:"ou_name,omitempty"`
	ScanID      string    `json:"scan_id"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	Buckets     int       `json:"buckets"`
	Configs     int       `json:"configs"`
	// Unreadable counts the buckets whose configurations could not be
	// read in that scan.
	Unreadable int `json:"unreadable"`
	// Open and Waived count the findings that scan produced.
	Open   int `json:"open"`
	Waived int `json:"waived"`
}

// SortRecords orders records most severe first, then by account, bucket,
// configuration and rule, with an archived episode after the current
// record, newest episode first: the order of the Querier's answers
// (exported for report/dynamo, which sorts its answers with it).
func SortRecords(rs []Record) {
	slices.SortFunc(rs, func(a, b Record) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.AccountID, b.AccountID),
			cmp.Compare(a.Bucket, b.Bucket),
			cmp.Compare(a.ConfigID, b.ConfigID),
			cmp.Compare(a.RuleID, b.RuleID),
			boolCompare(a.History, b.History),
			b.FirstSeen.Compare(a.FirstSeen),
		)
	})
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
