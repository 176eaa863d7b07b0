package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report/internal/lifecycle"
	"github.com/s3inv/scanner/report/internal/paging"
	"github.com/s3inv/scanner/rules"
)

// Memory is a Store that keeps everything in memory: the findings with
// their lifecycle, the archived episodes, the runs and the last complete
// scan of each account. It applies the same lifecycle as the DynamoDB
// store and passes the same conformance suite; tests and the demo use it.
// It keeps its records across runs, like a table, and its memory grows
// with the number of findings.
//
// Share returns a second store on the same records, as a second process
// on the same table: runs of the two overlap as two scanners' runs do,
// and the same fence decides between them (see the package
// documentation, "Overlapping runs").
type Memory struct {
	opts StoreOptions
	tab  *memTable

	// The current run, guarded by tab.mu.
	running bool
	scanID  string
	seen    map[string]map[string]rules.Status // account → finding ID → status
	claimed map[string]error                   // account → nil while this run holds it, or why it lost it
}

// memTable is what Memory stores share: the "table".
type memTable struct {
	mu      sync.Mutex
	records map[string]*Record // current record by finding ID
	history []Record           // archived episodes
	runs    map[string]Run
	scans   map[string]AccountScan
	fences  map[string]string // account → the newest scan that claimed it
}

var (
	_ Store       = (*Memory)(nil)
	_ ScopeCloser = (*Memory)(nil)
)

// NewMemory returns an empty in-memory store.
func NewMemory(opts StoreOptions) *Memory {
	return &Memory{opts: opts.WithDefaults(), tab: &memTable{
		records: map[string]*Record{},
		runs:    map[string]Run{},
		scans:   map[string]AccountScan{},
		fences:  map[string]string{},
	}}
}

// Share returns a new store on m's records, with its own runs and m's
// options.
func (m *Memory) Share() *Memory {
	return &Memory{opts: m.opts, tab: m.tab}
}

// Begin starts a run and records it; a run that was never ended is
// abandoned.
func (m *Memory) Begin(_ context.Context, run Run) error {
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	m.running = true
	m.scanID = run.ScanID
	m.seen = map[string]map[string]rules.Status{}
	m.claimed = map[string]error{}
	m.tab.runs[run.ScanID] = cloneRun(run)
	return nil
}

// check returns ErrNoRun outside a run; tab.mu is held.
func (m *Memory) check() error {
	if !m.running {
		return ErrNoRun
	}
	return nil
}

// claim makes sure this run holds the account: the first time, it takes
// the account's fence unless a newer scan holds it; afterwards, it checks
// that no newer scan has taken it since. tab.mu is held.
func (m *Memory) claim(account string) error {
	if err, ok := m.claimed[account]; ok && err != nil {
		return err
	}
	holder := m.tab.fences[account]
	if holder > m.scanID {
		err := &SupersededError{Account: account, ScanID: m.scanID, By: holder}
		m.claimed[account] = err
		return err
	}
	m.tab.fences[account] = m.scanID
	m.claimed[account] = nil
	return nil
}

// Put applies the lifecycle to each finding. Invalid findings reject the
// whole call, and nothing is stored. The findings of an account a newer
// scan holds are refused (ErrSuperseded); the other accounts' are stored.
func (m *Memory) Put(_ context.Context, fs []rules.Finding) error {
	var changed []Transition
	defer func() { m.report(changed) }()
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	for _, f := range fs {
		if err := lifecycle.Validate(f); err != nil {
			return err
		}
	}
	now := m.opts.Now()
	var errs []error
	refused := map[string]bool{}
	for _, f := range fs {
		if refused[f.AccountID] {
			continue
		}
		if err := m.claim(f.AccountID); err != nil {
			refused[f.AccountID] = true
			errs = append(errs, err)
			continue
		}
		f = cloneFinding(f)
		prev := m.tab.records[f.FindingID]
		if prev != nil && prev.Expired(now) {
			prev = nil
		}
		next, reopened := Observe(prev, f)
		if t, ok := NewTransition(m.scanID, prev, next); ok {
			changed = append(changed, t)
		}
		if reopened {
			old := cloneRecord(*prev)
			old.History = true
			m.tab.history = append(m.tab.history, old)
		}
		m.tab.records[f.FindingID] = &next
		seen := m.seen[f.AccountID]
		if seen == nil {
			seen = map[string]rules.Status{}
			m.seen[f.AccountID] = seen
		}
		seen[f.FindingID] = f.Status
	}
	return errors.Join(errs...)
}

// AccountDone resolves the account's unresolved findings this run did not
// produce when r is COMPLETE (see Resolver), and records the scan as the
// account's last complete one. When a newer scan holds the account it
// resolves nothing and returns ErrSuperseded.
func (m *Memory) AccountDone(_ context.Context, scanID string, r inventory.AccountResult) error {
	var changed []Transition
	defer func() { m.report(changed) }()
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	seen := m.seen[r.Account.ID]
	delete(m.seen, r.Account.ID)
	if err := m.claim(r.Account.ID); err != nil {
		return err
	}
	if r.Status != inventory.AccountComplete {
		return nil
	}
	now := m.opts.Now()
	res := lifecycle.NewResolver(r)
	at := lifecycle.ResolvedAt(r, now)
	for id, rec := range m.tab.records {
		if _, ok := seen[id]; ok || rec.Expired(now) || !res.Resolves(rec.Finding, rec.History) {
			continue
		}
		resolved := Resolve(*rec, m.scanID, at, m.opts.Retention, ResolutionNotSeen)
		if t, ok := NewTransition(m.scanID, rec, resolved); ok {
			changed = append(changed, t)
		}
		m.tab.records[id] = &resolved
	}
	m.tab.scans[r.Account.ID] = NewAccountScan(scanID, r, maps.Values(seen))
	return nil
}

// CloseOutOfScope resolves the unresolved findings of the accounts out of
// scope (see ScopeCloser).
func (m *Memory) CloseOutOfScope(_ context.Context, _ string, scope Scope) (int, error) {
	var changed []Transition
	defer func() { m.report(changed) }()
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	if err := m.check(); err != nil {
		return 0, err
	}
	now := m.opts.Now()
	at := scope.closedAt(now)
	byAccount := map[string][]string{}
	for id, rec := range m.tab.records {
		if rec.Open() && !rec.History && !rec.Expired(now) && scope.Reason(rec.AccountID) != "" {
			byAccount[rec.AccountID] = append(byAccount[rec.AccountID], id)
		}
	}
	closed := 0
	var errs []error
	for _, account := range slices.Sorted(maps.Keys(byAccount)) {
		if err := m.claim(account); err != nil {
			errs = append(errs, err)
			continue
		}
		resolution := OutOfScopeResolution(scope.Reason(account))
		for _, id := range byAccount[account] {
			rec := m.tab.records[id]
			resolved := Resolve(*rec, m.scanID, at, m.opts.Retention, resolution)
			if t, ok := NewTransition(m.scanID, rec, resolved); ok {
				changed = append(changed, t)
			}
			m.tab.records[id] = &resolved
			closed++
		}
	}
	return closed, errors.Join(errs...)
}

// report hands the transitions a call wrote to the listener, after the
// call has released the table.
func (m *Memory) report(ts []Transition) {
	for _, t := range ts {
		m.opts.OnTransition(t)
	}
}

// NewAccountScan returns the record of a complete scan of an account, with
// the statuses of the findings it produced. Both stores record an
// account's last complete scan with it (exported for report/dynamo).
func NewAccountScan(scanID string, r inventory.AccountResult, seen iter.Seq[rules.Status]) AccountScan {
	s := AccountScan{
		AccountID: r.Account.ID, AccountName: r.Account.Name, OUID: r.Account.OUID, OUName: r.Account.OUName, ScanID: scanID,
		StartedAt: lifecycle.Timestamp(r.StartedAt), FinishedAt: lifecycle.Timestamp(r.FinishedAt),
		Buckets: r.Buckets, Configs: r.Configs, Unreadable: len(r.Unreadable),
	}
	for st := range seen {
		switch st {
		case rules.StatusOpen:
			s.Open++
		case rules.StatusWaived:
			s.Waived++
		}
	}
	return s
}

// End records the run's summary.
func (m *Memory) End(_ context.Context, run Run) error {
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	if err := m.check(); err != nil {
		return err
	}
	m.running = false
	m.seen, m.claimed = nil, nil
	m.tab.runs[run.ScanID] = cloneRun(run)
	return nil
}

// Findings returns the current records of one account.
func (m *Memory) Findings(_ context.Context, accountID string) ([]Record, error) {
	return m.current(func(r Record) bool { return r.AccountID == accountID }), nil
}

// OpenByAccount returns the unresolved findings of one account.
func (m *Memory) OpenByAccount(_ context.Context, accountID string) ([]Record, error) {
	return m.current(func(r Record) bool { return r.AccountID == accountID && r.Open() }), nil
}

// OpenByRule returns the unresolved findings of one rule.
func (m *Memory) OpenByRule(_ context.Context, ruleID string) ([]Record, error) {
	return m.current(func(r Record) bool { return r.RuleID == ruleID && r.Open() }), nil
}

// OpenBySeverity returns the unresolved findings of one severity, newest
// first.
func (m *Memory) OpenBySeverity(_ context.Context, sev rules.Severity, limit int) ([]Record, error) {
	rs := m.current(func(r Record) bool { return r.Severity == sev && r.Open() })
	slices.SortStableFunc(rs, func(a, b Record) int {
		return cmp.Or(b.FirstSeen.Compare(a.FirstSeen), strings.Compare(a.FindingID, b.FindingID))
	})
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	return rs, nil
}

// BucketHistory returns the records and archived episodes of one bucket.
func (m *Memory) BucketHistory(_ context.Context, accountID, bucket string) ([]Record, error) {
	match := func(r Record) bool { return r.AccountID == accountID && r.Bucket == bucket }
	rs := m.current(match)
	m.tab.mu.Lock()
	now := m.opts.Now()
	for _, h := range m.tab.history {
		if match(h) && !h.Expired(now) {
			rs = append(rs, cloneRecord(h))
		}
	}
	m.tab.mu.Unlock()
	SortRecords(rs)
	return rs, nil
}

// Runs returns the latest runs, newest first.
func (m *Memory) Runs(_ context.Context, limit int) ([]Run, error) {
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	runs := make([]Run, 0, len(m.tab.runs))
	for _, r := range m.tab.runs {
		runs = append(runs, cloneRun(r))
	}
	slices.SortFunc(runs, func(a, b Run) int {
		return cmp.Or(b.StartedAt.Compare(a.StartedAt), strings.Compare(b.ScanID, a.ScanID))
	})
	if limit > 0 && len(runs) > limit {
		runs = runs[:limit]
	}
	return runs, nil
}

// AccountScans returns the last complete scan of each account.
func (m *Memory) AccountScans(context.Context) ([]AccountScan, error) {
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	out := slices.Collect(maps.Values(m.tab.scans))
	slices.SortFunc(out, func(a, b AccountScan) int { return strings.Compare(a.AccountID, b.AccountID) })
	return out, nil
}

// current returns copies of the unexpired current records that match,
// sorted with SortRecords.
func (m *Memory) current(match func(Record) bool) []Record {
	m.tab.mu.Lock()
	defer m.tab.mu.Unlock()
	now := m.opts.Now()
	var rs []Record
	for _, r := range m.tab.records {
		if match(*r) && !r.Expired(now) {
			rs = append(rs, cloneRecord(*r))
		}
	}
	SortRecords(rs)
	return rs
}

func cloneFinding(f rules.Finding) rules.Finding {
	f.Evidence = maps.Clone(f.Evidence)
	if f.Waiver != nil {
		w := *f.Waiver
		f.Waiver = &w
	}
	return f
}

func cloneRecord(r Record) Record {
	r.Finding = cloneFinding(r.Finding)
	return r
}

// cloneRun copies r with its times at the precision stores keep.
func cloneRun(r Run) Run {
	r.StartedAt = lifecycle.Timestamp(r.StartedAt)
	if !r.FinishedAt.IsZero() {
		r.FinishedAt = lifecycle.Timestamp(r.FinishedAt)
	}
	r.BySeverity = maps.Clone(r.BySeverity)
	r.ByRule = maps.Clone(r.ByRule)
	return r
}

// The paged queries. Memory sorts every match by a position string in
// the order of the listing and pages on it, as the DynamoDB store pages
// on its keys.

// recordKey identifies a current record, in the table's key order.
func recordKey(r Record) string { return r.AccountID + "#" + r.Bucket + "#" + r.FindingID }

// newestFirst is a position that sorts later times first.
func newestFirst(t time.Time) string { return fmt.Sprintf("%020d", int64(1)<<62-t.Unix()) }

func (m *Memory) recordPage(match func(Record) bool, pos func(Record) string, listing string, req PageRequest) (Page[Record], error) {
	rs := m.current(match)
	slices.SortFunc(rs, func(a, b Record) int { return strings.Compare(pos(a), pos(b)) })
	return memoryPage(rs, pos, listing, req)
}

// OpenPage lists the unresolved findings that match sel (see Querier).
func (m *Memory) OpenPage(_ context.Context, sel Selection, req PageRequest) (Page[Record], error) {
	if err := paging.CheckOpen(sel.String(), sel.Account, sel.Rule, sel.Severity, sel.Coverage); err != nil {
		return Page[Record]{}, err
	}
	var pos func(Record) string
	switch {
	case sel.Account != "":
		pos = func(r Record) string { return r.Bucket + "#" + r.FindingID }
	case sel.Rule != "" || sel.Coverage:
		pos = recordKey
	default:
		pos = func(r Record) string { return newestFirst(r.FirstSeen) + "#" + recordKey(r) }
	}
	match := func(r Record) bool { return r.Open() && sel.Matches(r) }
	return m.recordPage(match, pos, paging.ListingID("open", sel.String()), req)
}

// ChangesPage lists the findings scan scanID changed (see Querier).
func (m *Memory) ChangesPage(_ context.Context, scanID string, sel Selection, req PageRequest) (Page[Record], error) {
	if err := paging.CheckSeverity(sel.Severity); err != nil {
		return Page[Record]{}, err
	}
	if scanID == "" {
		return Page[Record]{}, errors.New("changes of a scan: empty scan ID; want the ID of a run")
	}
	match := func(r Record) bool { return r.ChangedIn == scanID && sel.Matches(r) }
	changeKey := func(r Record) string { return paging.ChangeKey(r.Finding) }
	return m.recordPage(match, changeKey, paging.ListingID("changes", scanID, sel.String()), req)
}

// WaiversPage lists the WAIVED findings whose waiver ends by until (see
// Querier).
func (m *Memory) WaiversPage(_ context.Context, until string, sel Selection, req PageRequest) (Page[Record], error) {
	if err := cmp.Or(paging.CheckWaiverDate(until), paging.CheckSeverity(sel.Severity)); err != nil {
		return Page[Record]{}, err
	}
	match := func(r Record) bool {
		return r.Status == rules.StatusWaived && r.Waiver != nil && r.Waiver.Expires != "" && r.Waiver.Expires <= until && sel.Matches(r)
	}
	pos := func(r Record) string { return r.Waiver.Expires + "#" + recordKey(r) }
	return m.recordPage(match, pos, paging.ListingID("waivers", until, sel.String()), req)
}

// RunsPage lists the runs, newest first.
func (m *Memory) RunsPage(ctx context.Context, req PageRequest) (Page[Run], error) {
	runs, err := m.Runs(ctx, 0)
	if err != nil {
		return Page[Run]{}, err
	}
	pos := func(r Run) string { return newestFirst(r.StartedAt) + "#" + r.ScanID }
	slices.SortFunc(runs, func(a, b Run) int { return strings.Compare(pos(a), pos(b)) })
	return memoryPage(runs, pos, paging.ListingID("runs"), req)
}

// WorstAccountsPage lists the last complete scans, most open findings
// first.
func (m *Memory) WorstAccountsPage(ctx context.Context, sel Selection, req PageRequest) (Page[AccountScan], error) {
	if err := paging.CheckAccounts(sel.String(), sel.Rule, sel.Severity, sel.Coverage); err != nil {
		return Page[AccountScan]{}, err
	}
	scans, err := m.AccountScans(ctx)
	if err != nil {
		return Page[AccountScan]{}, err
	}
	scans = slices.DeleteFunc(scans, func(s AccountScan) bool {
		return sel.Account != "" && s.AccountID != sel.Account || sel.OU != "" && s.OUID != sel.OU && s.OUName != sel.OU
	})
	pos := func(s AccountScan) string { return fmt.Sprintf("%010d#%s", math.MaxInt32-s.Open, s.AccountID) }
	slices.SortFunc(scans, func(a, b AccountScan) int { return strings.Compare(pos(a), pos(b)) })
	return memoryPage(scans, pos, paging.ListingID("accounts", sel.String()), req)
}
