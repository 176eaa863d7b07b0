package report

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/s3inv/scanner/internal/inventory"
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
func (r Record) Open() bool {
	return r.Status == rules.StatusOpen || r.Status == rules.StatusWaived
}

// Change says what storing a finding did to its record.
type Change int

// The changes Observe reports.
const (
	// ChangeNew: the finding had no record (or only an expired one).
	ChangeNew Change = iota + 1
	// ChangeSeen: the finding was open or waived and is seen again.
	ChangeSeen
	// ChangeReopened: the finding had been resolved and is seen again.
	ChangeReopened
)

// String returns "new", "seen" or "reopened".
func (c Change) String() string {
	switch c {
	case ChangeNew:
		return "new"
	case ChangeSeen:
		return "seen"
	case ChangeReopened:
		return "reopened"
	}
	return fmt.Sprintf("Change(%d)", int(c))
}

// Timestamp is the precision stores keep: UTC, whole seconds. Times
// truncated this way sort as strings in RFC 3339 form.
func Timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Second)
}

// Observe is the lifecycle rule for a finding a scan produced. Given the
// record stored before (nil when there is none, or it has expired), it
// returns the record to store now and what changed:
//
//   - new: first_seen = last_seen = the finding's ObservedAt, changed in
//     the finding's scan;
//   - seen again while open or waived: first_seen kept, last_seen updated,
//     status and waiver as the finding says (a waiver may start or end);
//   - seen again after it was resolved: reopened, resolved_at and expiry
//     removed, and a new episode begins (first_seen = the finding's
//     ObservedAt), changed in the finding's scan. The caller keeps the
//     resolved episode as history if it wants one.
//
// Every sink that keeps state (Memory, DynamoDB) applies exactly this
// rule, so the conformance suite checks them alike.
func Observe(prev *Record, f rules.Finding) (Record, Change) {
	at := Timestamp(f.ObservedAt)
	f.ObservedAt = at
	next := Record{Finding: f, FirstSeen: at, LastSeen: at, ChangedIn: f.ScanID}
	switch {
	case prev == nil:
		return next, ChangeNew
	case prev.Status == rules.StatusResolved:
		return next, ChangeReopened
	default:
		next.FirstSeen, next.ChangedIn = prev.FirstSeen, prev.ChangedIn
		if next.FirstSeen.IsZero() || next.FirstSeen.After(at) {
			next.FirstSeen = at
		}
		return next, ChangeSeen
	}
}

// Resolve returns prev resolved by scan scanID at the given time for the
// given reason (ResolutionNotSeen, or OutOfScopeResolution), to expire
// retention later. Everything else (last_seen, the finding as last seen,
// its waiver) is kept.
func Resolve(prev Record, scanID string, at time.Time, retention time.Duration, resolution string) Record {
	at = Timestamp(at)
	prev.ChangedIn = scanID
	prev.Status = rules.StatusResolved
	prev.ResolvedAt = at
	prev.Resolution = resolution
	prev.ExpiresAt = at.Add(retention)
	prev.History = false
	return prev
}

// ResolvedAt is the time AccountDone resolves findings at: when the
// account's scan finished, or now when the result does not say.
func ResolvedAt(r inventory.AccountResult, now time.Time) time.Time {
	if !r.FinishedAt.IsZero() {
		return Timestamp(r.FinishedAt)
	}
	return Timestamp(now)
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

// Resolves reports whether rec, a record of the account that this scan did
// not produce, is to be resolved: the scan is complete, rec is OPEN or
// WAIVED, its bucket was readable in this scan, and, for a finding about
// the bucket's destinations (rules.AboutDestinations: INV-110 to INV-115
// and the SCAN-006 finding that folds them), the bucket's destinations
// could all be verified.
func (res Resolver) Resolves(rec Record) bool {
	if rec.Bucket != "" && res.unverified[rec.Bucket] && rules.AboutDestinations(rec.Finding) {
		return false
	}
	return res.complete && rec.AccountID == res.account && rec.Open() && !rec.History &&
		(rec.Bucket == "" || !res.unreadable[rec.Bucket])
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
// record, newest episode first.
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
