package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/internal/lifecycle"
	"github.com/s3inv/scanner/rules"
)

// API is the part of the DynamoDB client the store calls.
// *dynamodb.Client implements it.
type API interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// BatchSize is the most items one BatchWriteItem request carries.
const BatchSize = 25

// Store is the findings table: a report.Store on DynamoDB. See the package
// documentation for the writes it makes.
type Store struct {
	api   API
	table string
	opts  report.StoreOptions
	retry retryPolicy
	// maxPages bounds the pages of one Query (see query).
	maxPages int

	mu       sync.Mutex
	running  bool
	scanID   string              // the current run's
	accounts map[string]*account // the accounts of the current run that have state

	stats counters
}

var _ report.Store = (*Store)(nil)

// account is the state of one account during a run: whether the run
// holds its fence, its stored records, read once, the writes not yet
// sent, and what went wrong. It is dropped at AccountDone.
type account struct {
	mu      sync.Mutex
	claimed bool // this run holds the account's fence
	// superseded is set once a newer scan holds the account: nothing
	// more of it is written.
	superseded error
	// failed is the first write of the account that failed in this run:
	// its stale findings will not be resolved.
	failed error
	loaded bool
	// records are the stored records of the account this run has not
	// produced (yet), by finding ID: those AccountDone may resolve.
	records map[string]report.Record
	// seen are the findings this run produced, by finding ID: only what a
	// second Put of one needs. Their records are written and forgotten, so
	// an account's memory grows by about a hundred bytes a finding, not by
	// the finding (report.Record, its message and evidence).
	seen    map[string]seenRecord
	pending []map[string]types.AttributeValue // writes not yet sent
	index   map[string]int                    // pending position by pk/sk
	// changes are the transitions the pending writes make, by the key
	// of their item, reported once the item is written.
	changes []pendingChange
	scanID  string // the run's
}

// seenRecord is what the store keeps of a record this run wrote: what
// report.Observe and report.NewTransition read of the record a second
// Put of the finding replaces.
type seenRecord struct {
	status    rules.Status
	firstSeen time.Time
	changedIn string
}

func seenOf(r report.Record) seenRecord {
	return seenRecord{status: r.Status, firstSeen: r.FirstSeen, changedIn: r.ChangedIn}
}

// record is the record as a second Put of the finding sees it.
func (s seenRecord) record() report.Record {
	return report.Record{Finding: rules.Finding{Status: s.status}, FirstSeen: s.firstSeen, ChangedIn: s.changedIn}
}

// statuses are the statuses of the findings the run produced.
func (a *account) statuses(yield func(rules.Status) bool) {
	for _, s := range a.seen {
		if !yield(s.status) {
			return
		}
	}
}

// pendingChange is a transition waiting for the write of its item.
type pendingChange struct {
	key string // itemKey of the record written
	t   report.Transition
}

// retryPolicy bounds the resending of UnprocessedItems.
type retryPolicy struct {
	attempts int           // sends of one batch at most
	base     time.Duration // first back-off
	max      time.Duration // longest back-off
}

var defaultRetry = retryPolicy{attempts: 12, base: 50 * time.Millisecond, max: 5 * time.Second}

// New returns the store on the named table. The table must exist (see
// EnsureTable and TableDefinition).
func New(api API, table string, opts report.StoreOptions) (*Store, error) {
	if api == nil {
		return nil, errors.New("dynamodb store: nil client")
	}
	if len(table) < 3 || len(table) > 255 {
		return nil, fmt.Errorf("dynamodb table %q: want a name of 3 to 255 characters", table)
	}
	return &Store{api: api, table: table, opts: opts.WithDefaults(), retry: defaultRetry, maxPages: defaultMaxPages}, nil
}

// Table is the table's name.
func (s *Store) Table() string { return s.table }

// Stats counts the requests a store made during the current run (or the
// last one, once it has ended).
type Stats struct {
	// BatchCalls counts BatchWriteItem requests, resends included.
	BatchCalls int64 `json:"batch_calls"`
	// Items counts the items BatchWriteItem wrote (findings, resolved
	// findings, archived episodes, last-complete-scan records).
	Items int64 `json:"items"`
	// Resent counts items sent again after DynamoDB returned them in
	// UnprocessedItems.
	Resent int64 `json:"resent"`
	// PutItems counts single-item writes (the run record, at Begin and End).
	PutItems int64 `json:"put_items"`
	// Queries counts Query pages read.
	Queries int64 `json:"queries"`
	// Fences counts the requests on accounts' fences: one conditional
	// UpdateItem per account and run, one consistent GetItem before each
	// batch and before resolving.
	Fences int64 `json:"fences"`
	// WriteUnits is the write capacity DynamoDB reported as consumed by
	// the table and its indexes (ReturnConsumedCapacity); 0 when the
	// server does not report it.
	WriteUnits float64 `json:"write_units"`
}

// Writes is the number of items written: Items + PutItems.
func (s Stats) Writes() int64 { return s.Items + s.PutItems }

type counters struct {
	batchCalls, items, resent, putItems, queries, fences atomic.Int64
	milliWCU                                             atomic.Int64
}

func (c *counters) reset() {
	for _, v := range []*atomic.Int64{&c.batchCalls, &c.items, &c.resent, &c.putItems, &c.queries, &c.fences, &c.milliWCU} {
		v.Store(0)
	}
}

func (c *counters) addCapacity(cc []types.ConsumedCapacity) {
	for _, x := range cc {
		c.milliWCU.Add(int64(aws.ToFloat64(x.CapacityUnits)*1000 + 0.5))
	}
}

// Stats returns the counts of the current or last run.
func (s *Store) Stats() Stats {
	return Stats{
		BatchCalls: s.stats.batchCalls.Load(), Items: s.stats.items.Load(), Resent: s.stats.resent.Load(),
		PutItems: s.stats.putItems.Load(), Queries: s.stats.queries.Load(), Fences: s.stats.fences.Load(),
		WriteUnits: float64(s.stats.milliWCU.Load()) / 1000,
	}
}

// Begin starts a run and writes its run record (no finish time yet).
func (s *Store) Begin(ctx context.Context, run report.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.reset()
	s.running = false
	s.scanID = run.ScanID
	s.accounts = map[string]*account{}
	if err := s.putRun(ctx, run); err != nil {
		return err
	}
	s.running = true
	return nil
}

// Put applies the lifecycle to the findings and queues their records;
// full batches are written at once, the rest at AccountDone. The first Put
// of an account in a run claims the account's fence and reads its stored
// records (one strongly consistent Query). Invalid findings reject the
// whole call, and nothing is written.
//
// The accounts of one call are independent: an account a newer scan holds
// (report.ErrSuperseded) or whose batch could not be written is reported
// in the joined error, and the others are still written. A failed batch is
// dropped, not resent with the next one; the account's later findings are
// still written, but its AccountDone resolves nothing.
func (s *Store) Put(ctx context.Context, fs []rules.Finding) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, f := range fs {
		if err := lifecycle.Validate(f); err != nil {
			return err
		}
	}
	var order []string
	byAccount := map[string][]rules.Finding{}
	for _, f := range fs {
		if _, ok := byAccount[f.AccountID]; !ok {
			order = append(order, f.AccountID)
		}
		byAccount[f.AccountID] = append(byAccount[f.AccountID], f)
	}
	var errs []error
	for _, id := range order {
		errs = append(errs, s.putAccount(ctx, id, byAccount[id]))
	}
	return errors.Join(errs...)
}

func (s *Store) putAccount(ctx context.Context, accountID string, fs []rules.Finding) error {
	a, err := s.account(accountID)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := s.open(ctx, accountID, a); err != nil {
		return a.fail(err)
	}
	now := s.opts.Now()
	// A failed batch does not stop the call: the findings after it are
	// queued in the next one. A newer scan holding the account does.
	var first error
	for _, f := range fs {
		var prev *report.Record
		if s, ok := a.seen[f.FindingID]; ok {
			r := s.record()
			prev = &r
		} else if r, ok := a.records[f.FindingID]; ok && !r.Expired(now) {
			prev = &r
		}
		next, reopened := report.Observe(prev, f)
		var errs []error
		if reopened {
			episode := *prev
			episode.History = true
			errs = append(errs, s.queue(ctx, accountID, a, episode, nil))
		}
		errs = append(errs, s.queue(ctx, accountID, a, next, prev))
		delete(a.records, f.FindingID)
		a.seen[f.FindingID] = seenOf(next)
		if err := errors.Join(errs...); err != nil {
			if a.superseded != nil {
				return a.superseded
			}
			first = cmp.Or(first, err)
		}
	}
	return first
}

// open claims the account for this run and reads its records, once; a.mu
// is held.
func (s *Store) open(ctx context.Context, accountID string, a *account) error {
	if err := s.claim(ctx, accountID, a); err != nil {
		return err
	}
	return s.load(ctx, accountID, a)
}

// fail records err as the account's first failed write (unless it is a
// supersession, which a.superseded records) and returns it.
func (a *account) fail(err error) error {
	if err != nil && a.failed == nil && !errors.Is(err, report.ErrSuperseded) {
		a.failed = err
	}
	return err
}

// AccountDone resolves, when r is COMPLETE, the account's unresolved
// records this run did not produce (lifecycle.Resolver), records the scan as
// the account's last complete one, and writes everything still queued
// for the account. Any other status only writes what is queued.
//
// It resolves nothing, and returns an error, when a newer scan holds the
// account (report.ErrSuperseded: nothing queued is written either) or
// when a write of the account failed earlier in the run
// (report.ErrNotWritten: what is queued is still written).
func (s *Store) AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error {
	if err := s.check(); err != nil {
		return err
	}
	id := r.Account.ID
	a, err := s.account(id)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer func() {
		a.mu.Unlock()
		s.mu.Lock()
		delete(s.accounts, id)
		s.mu.Unlock()
	}()
	if err := s.claim(ctx, id, a); err != nil {
		return err
	}
	if a.failed == nil && r.Status == inventory.AccountComplete {
		if err := s.resolve(ctx, scanID, r, a); err != nil {
			return err
		}
	}
	if err := a.fail(s.flush(ctx, id, a)); err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	if a.failed != nil {
		return fmt.Errorf("account %s: %w: %w", id, report.ErrNotWritten, a.failed)
	}
	return nil
}

// resolve queues the resolutions of a complete account and its
// last-complete-scan record, after checking that this run still holds
// the account; a.mu is held.
func (s *Store) resolve(ctx context.Context, scanID string, r inventory.AccountResult, a *account) error {
	id := r.Account.ID
	if err := s.load(ctx, id, a); err != nil {
		return fmt.Errorf("account %s: %w", id, a.fail(err))
	}
	if err := s.checkFence(ctx, id, a); err != nil {
		return a.fail(err)
	}
	now := s.opts.Now()
	res := lifecycle.NewResolver(r)
	at := lifecycle.ResolvedAt(r, now)
	for fid, rec := range a.records {
		if _, ok := a.seen[fid]; ok || rec.Expired(now) || !res.Resolves(rec.Finding, rec.History) {
			continue
		}
		resolved := report.Resolve(rec, scanID, at, s.opts.Retention, report.ResolutionNotSeen)
		if err := s.queue(ctx, id, a, resolved, &rec); err != nil {
			return fmt.Errorf("account %s: %w", id, err)
		}
		a.records[fid] = resolved
	}
	item, err := encodeAccountScan(report.NewAccountScan(scanID, r, a.statuses))
	if err != nil {
		return err
	}
	if err := s.add(ctx, id, a, item); err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	return nil
}

// CloseOutOfScope resolves the unresolved findings of the accounts out of
// scope (report.ScopeCloser). The accounts with unresolved findings are
// found on the index open-by-severity (one Query per severity, account
// IDs only); an index is eventually consistent, so each account found out
// of scope is then claimed, and its records read and resolved, like a
// complete account at AccountDone: through its fence, with a strongly
// consistent read of the table. A finding that became unresolved a
// moment ago may be missed until the next run; nothing is closed on the
// index's word alone.
func (s *Store) CloseOutOfScope(ctx context.Context, scanID string, scope report.Scope) (int, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	accounts, err := s.accountsWithOpenFindings(ctx)
	if err != nil {
		return 0, fmt.Errorf("close out-of-scope accounts: %w", err)
	}
	at := lifecycle.Timestamp(scope.At)
	if scope.At.IsZero() {
		at = lifecycle.Timestamp(s.opts.Now())
	}
	closed := 0
	var errs []error
	for _, id := range accounts {
		reason := scope.Reason(id)
		if reason == "" {
			continue
		}
		n, err := s.closeAccount(ctx, scanID, id, report.OutOfScopeResolution(reason), at)
		closed += n
		if err != nil {
			errs = append(errs, fmt.Errorf("close account %s (%s): %w", id, reason, err))
		}
	}
	return closed, errors.Join(errs...)
}

// closeAccount resolves the unresolved records of one account out of
// scope and returns how many it wrote.
func (s *Store) closeAccount(ctx context.Context, scanID, id, resolution string, at time.Time) (int, error) {
	a, err := s.account(id)
	if err != nil {
		return 0, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := s.open(ctx, id, a); err != nil {
		return 0, a.fail(err)
	}
	if err := s.checkFence(ctx, id, a); err != nil {
		return 0, err
	}
	now := s.opts.Now()
	n := 0
	for fid, rec := range a.records {
		if !rec.Open() || rec.History || rec.Expired(now) {
			continue
		}
		resolved := report.Resolve(rec, scanID, at, s.opts.Retention, resolution)
		if err := s.queue(ctx, id, a, resolved, &rec); err != nil {
			return 0, err
		}
		a.records[fid] = resolved
		n++
	}
	if err := a.fail(s.flush(ctx, id, a)); err != nil {
		return 0, err
	}
	return n, nil
}

// End writes what is still queued for accounts that were never closed
// (nothing is resolved for them; nothing is written for an account a
// newer scan holds) and completes the run record. The run record is
// written whatever failed before.
func (s *Store) End(ctx context.Context, run report.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return report.ErrNoRun
	}
	var errs []error
	for id, a := range s.accounts {
		a.mu.Lock()
		if a.superseded != nil {
			a.mu.Unlock()
			continue // refused, and said so, when it happened
		}
		if err := s.flush(ctx, id, a); err != nil {
			errs = append(errs, fmt.Errorf("account %s: %w", id, err))
		}
		a.mu.Unlock()
	}
	if err := s.putRun(ctx, run); err != nil {
		errs = append(errs, err)
	}
	s.running = false
	s.accounts = nil
	return errors.Join(errs...)
}

func (s *Store) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return report.ErrNoRun
	}
	return nil
}

// account returns the run's state of an account, creating it.
func (s *Store) account(id string) (*account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return nil, report.ErrNoRun
	}
	a := s.accounts[id]
	if a == nil {
		a = &account{records: map[string]report.Record{}, seen: map[string]seenRecord{}, index: map[string]int{}, scanID: s.scanID}
		s.accounts[id] = a
	}
	return a, nil
}

// load reads the account's current records once per run, strongly
// consistent (the lifecycle must see the last run's writes); a.mu is
// held.
func (s *Store) load(ctx context.Context, accountID string, a *account) error {
	if a.loaded {
		return nil
	}
	in, err := accountQuery(s.table, accountID, findingPrefix, nil)
	if err != nil {
		return err
	}
	in.ConsistentRead = aws.Bool(true)
	err = s.query(ctx, in, func(av map[string]types.AttributeValue) error {
		if !isType(av, typeFinding) {
			return nil
		}
		r, err := decodeRecord(av)
		if err != nil {
			return err
		}
		a.records[r.FindingID] = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("read findings of account %s: %w", accountID, err)
	}
	a.loaded = true
	return nil
}

// queue encodes a record and adds it to the account's pending writes,
// with the transition from prev (the record it replaces; nil for a new
// record, or for an archived episode, which is no transition) that it is
// reported as once written; a.mu is held.
func (s *Store) queue(ctx context.Context, accountID string, a *account, r report.Record, prev *report.Record) error {
	item, err := encodeRecord(r)
	if err != nil {
		return err
	}
	if !r.History {
		if t, ok := report.NewTransition(a.scanID, prev, r); ok {
			a.changes = append(a.changes, pendingChange{key: itemKey(item), t: t})
		}
	}
	return s.add(ctx, accountID, a, item)
}

// add queues an item, replacing a queued item with the same key (two
// writes of one key in one BatchWriteItem would reject the whole batch),
// and writes the batch once BatchSize items are queued; a.mu is held.
func (s *Store) add(ctx context.Context, accountID string, a *account, item map[string]types.AttributeValue) error {
	k := itemKey(item)
	if i, ok := a.index[k]; ok {
		a.pending[i] = item
		return nil
	}
	a.index[k] = len(a.pending)
	a.pending = append(a.pending, item)
	if len(a.pending) < BatchSize {
		return nil
	}
	return a.fail(s.flush(ctx, accountID, a))
}

// flush writes the pending items (BatchSize at most) in one batch, after
// checking that this run still holds the account. The batch is cleared
// whatever happens: a batch that failed is not resent with the next one
// (the account then resolves nothing), and nothing of an account a newer
// scan holds is written. a.mu is held.
func (s *Store) flush(ctx context.Context, accountID string, a *account) error {
	if len(a.pending) == 0 {
		return nil
	}
	defer func() {
		a.pending = a.pending[:0]
		clear(a.index)
		a.changes = a.changes[:0]
	}()
	if !a.claimed && a.superseded == nil {
		if err := s.claim(ctx, accountID, a); err != nil {
			return err
		}
	}
	if err := s.checkFence(ctx, accountID, a); err != nil {
		return err
	}
	unwritten, err := s.writeBatch(ctx, a.pending)
	s.reportWritten(a.changes, unwritten)
	return err
}

// reportWritten reports the transitions whose items were written: all
// but those of the unwritten requests.
func (s *Store) reportWritten(changes []pendingChange, unwritten []types.WriteRequest) {
	var failed map[string]bool
	if len(unwritten) > 0 {
		failed = make(map[string]bool, len(unwritten))
		for _, r := range unwritten {
			if r.PutRequest != nil {
				failed[itemKey(r.PutRequest.Item)] = true
			}
		}
	}
	for _, c := range changes {
		if !failed[c.key] {
			s.opts.OnTransition(c.t)
		}
	}
}

// writeBatch writes at most BatchSize items with unique keys, resending
// the UnprocessedItems DynamoDB returns with exponential back-off and
// jitter until none is left, the attempts are spent, or ctx ends.
// Throttling errors are retried by the SDK's retryer first; a throttling
// error that outlasts the SDK's attempts (or its retry quota) counts as
// "nothing processed" and is resent the same way. With an error it
// returns the requests that were not written.
func (s *Store) writeBatch(ctx context.Context, items []map[string]types.AttributeValue) ([]types.WriteRequest, error) {
	reqs := make([]types.WriteRequest, len(items))
	for i, it := range items {
		reqs[i] = types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}
	}
	for attempt := 1; ; attempt++ {
		out, err := s.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
			RequestItems:           map[string][]types.WriteRequest{s.table: reqs},
			ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
		})
		s.stats.batchCalls.Add(1)
		var left []types.WriteRequest
		switch {
		case err != nil && throttled(err) && attempt < s.retry.attempts:
			left = reqs
		case err != nil:
			return reqs, fmt.Errorf("batch write %d items to %s: %w", len(reqs), s.table, err)
		default:
			s.stats.addCapacity(out.ConsumedCapacity)
			left = out.UnprocessedItems[s.table]
		}
		s.stats.items.Add(int64(len(reqs) - len(left)))
		if len(left) == 0 {
			return nil, nil
		}
		if attempt >= s.retry.attempts {
			return left, fmt.Errorf("batch write to %s: %d items still unprocessed after %d attempts", s.table, len(left), attempt)
		}
		if err := backoff.Sleep(ctx, s.retry.backoff(attempt)); err != nil {
			return left, fmt.Errorf("batch write to %s: %d items unprocessed: %w", s.table, len(left), err)
		}
		s.stats.resent.Add(int64(len(left)))
		reqs = left
	}
}

// throttled reports whether err is a throttling error (awserr's
// Throttled: the SDK retryer's own throttles).
func throttled(err error) bool { return awserr.Classify(err) == awserr.Throttled }

// backoff is the wait before resend number attempt (1, 2, ...): an
// exponential ceiling, capped, with "equal jitter" (half fixed, half
// random), so concurrent writers spread out.
func (p retryPolicy) backoff(attempt int) time.Duration {
	return backoff.Equal(p.base, p.max, attempt)
}

// putRun writes the run record with PutItem (a new scan ID is a new item;
// End replaces it with the completed one).
func (s *Store) putRun(ctx context.Context, run report.Run) error {
	st := s.Stats()
	st.PutItems++ // this write
	item, err := encodeRun(run, st)
	if err != nil {
		return err
	}
	out, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("write run %s to %s: %w", run.ScanID, s.table, err)
	}
	s.stats.putItems.Add(1)
	if out.ConsumedCapacity != nil {
		s.stats.addCapacity([]types.ConsumedCapacity{*out.ConsumedCapacity})
	}
	return nil
}

func itemKey(item map[string]types.AttributeValue) string {
	return str(item[attrPK]) + "\x00" + str(item[attrSK])
}

func str(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func isType(av map[string]types.AttributeValue, t string) bool { return str(av["type"]) == t }
