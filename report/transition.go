package report

import (
	"fmt"
	"sync"

	"github.com/s3inv/scanner/rules"
)

// TransitionKind names a change of a finding's state that a scan decided.
type TransitionKind int

// The transitions a store reports. A finding seen again in the state it
// was in is no transition.
const (
	// TransitionOpened: the finding had no record (or only an expired
	// one) and is stored OPEN, or WAIVED when a waiver covers it from the
	// start (Record.Status says which).
	TransitionOpened TransitionKind = iota + 1
	// TransitionReopened: the finding had been resolved and is seen
	// again (OPEN or WAIVED); a new episode begins.
	TransitionReopened
	// TransitionResolved: the finding is resolved (Record.Resolution
	// says why: NOT_SEEN or OUT_OF_SCOPE_<reason>).
	TransitionResolved
	// TransitionWaived: an OPEN finding is seen again WAIVED.
	TransitionWaived
	// TransitionWaiverExpired: a WAIVED finding is seen again OPEN (its
	// waiver expired or was removed from the policy).
	TransitionWaiverExpired
)

// String returns opened, reopened, resolved, waived or waiver_expired.
func (k TransitionKind) String() string {
	switch k {
	case TransitionOpened:
		return "opened"
	case TransitionReopened:
		return "reopened"
	case TransitionResolved:
		return "resolved"
	case TransitionWaived:
		return "waived"
	case TransitionWaiverExpired:
		return "waiver_expired"
	}
	return fmt.Sprintf("TransitionKind(%d)", int(k))
}

// Transition is one change of a finding's state, as a store wrote it.
type Transition struct {
	Kind TransitionKind
	// ScanID is the scan that decided the change.
	ScanID string
	// Record is the finding's record as stored after the change.
	Record Record
	// From is the status before the change; empty for TransitionOpened.
	From rules.Status
}

// TransitionFunc receives the transitions a store wrote (see
// StoreOptions.OnTransition).
type TransitionFunc func(Transition)

// transitioned returns the transition from the stored record prev (nil
// when there is none, or it has expired) to next, the record a store
// writes now, and false when the finding's state did not change.
func transitioned(prev *Record, next Record) (TransitionKind, bool) {
	switch {
	case prev == nil:
		return TransitionOpened, true
	case next.Status == rules.StatusResolved:
		return TransitionResolved, prev.Status != rules.StatusResolved
	case prev.Status == rules.StatusResolved:
		return TransitionReopened, true
	case prev.Status == rules.StatusOpen && next.Status == rules.StatusWaived:
		return TransitionWaived, true
	case prev.Status == rules.StatusWaived && next.Status == rules.StatusOpen:
		return TransitionWaiverExpired, true
	}
	return 0, false
}

// NewTransition returns the transition from the stored record prev (nil
// when there is none, or it has expired) to next, the record a store
// writes now, decided by scan scanID, and false when the finding's state
// did not change. Both stores derive what they report from it, so they
// report alike (exported for report/dynamo).
func NewTransition(scanID string, prev *Record, next Record) (Transition, bool) {
	k, ok := transitioned(prev, next)
	if !ok {
		return Transition{}, false
	}
	t := Transition{Kind: k, ScanID: scanID, Record: cloneRecord(next)}
	if prev != nil {
		t.From = prev.Status
	}
	return t, true
}

// TransitionCounts counts the transitions of a run by kind.
type TransitionCounts struct {
	Opened        int `json:"opened"`
	Reopened      int `json:"reopened"`
	Resolved      int `json:"resolved"`
	Waived        int `json:"waived"`
	WaiverExpired int `json:"waiver_expired"`
}

// add counts one transition.
func (c *TransitionCounts) add(k TransitionKind) {
	switch k {
	case TransitionOpened:
		c.Opened++
	case TransitionReopened:
		c.Reopened++
	case TransitionResolved:
		c.Resolved++
	case TransitionWaived:
		c.Waived++
	case TransitionWaiverExpired:
		c.WaiverExpired++
	}
}

// CountTransitions counts ts by kind.
func CountTransitions(ts []Transition) TransitionCounts {
	var c TransitionCounts
	for _, t := range ts {
		c.add(t.Kind)
	}
	return c
}

// TransitionLog gathers the transitions a store reports, for the caller
// to take at the end of a run: give its Record method as
// StoreOptions.OnTransition. It is safe for concurrent use; the zero
// value is ready. Its memory grows with the changes of a run (not with
// the findings a run sees again unchanged), unless it streams them
// (Stream).
type TransitionLog struct {
	mu     sync.Mutex
	ts     []Transition
	batch  int
	stream func([]Transition)
}

// Record adds t to the log; a log that streams hands its transitions
// over once it holds its batch of them.
func (l *TransitionLog) Record(t Transition) {
	l.mu.Lock()
	l.ts = append(l.ts, t)
	var full []Transition
	if l.stream != nil && len(l.ts) >= l.batch {
		full, l.ts = l.ts, nil
	}
	stream := l.stream
	l.mu.Unlock()
	if full != nil {
		stream(full)
	}
}

// Stream makes the log hand its transitions to fn as they come, n at a
// time, rather than hold them until Take: the Record call that brings
// the log to n transitions calls fn with them (outside the log's lock, in
// the recording goroutine: the store waits for it), so a run that streams
// its changes holds about n of them, not every change it decided. Take
// returns what fn was not given; Stream(0, nil) stops streaming.
func (l *TransitionLog) Stream(n int, fn func([]Transition)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batch, l.stream = max(n, 1), fn
}

// Take returns the transitions of scan scanID in the order they were
// recorded and empties the log; transitions of other scans (a run that
// was abandoned) are discarded, and their number returned as stale.
func (l *TransitionLog) Take(scanID string) (ts []Transition, stale int) {
	l.mu.Lock()
	all := l.ts
	l.ts = nil
	l.mu.Unlock()
	for _, t := range all {
		if t.ScanID == scanID {
			ts = append(ts, t)
		} else {
			stale++
		}
	}
	return ts, stale
}
