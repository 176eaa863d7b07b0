package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// API is the part of the DynamoDB client the store calls.
// *dynamodb.Client implements it.
type API interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
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

	mu       sync.Mutex
	running  bool
	accounts map[string]*account // the accounts of the current run that have state

	stats counters
}

var _ report.Store = (*Store)(nil)

// account is the state of one account during a run: its stored records,
// read once, and the writes not yet sent. It is dropped at AccountDone.
type account struct {
	mu      sync.Mutex
	loaded  bool
	records map[string]report.Record          // current records by finding ID
	seen    map[string]rules.Status           // findings this run produced
	pending []map[string]types.AttributeValue // writes not yet sent
	index   map[string]int                    // pending position by pk/sk
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
	return &Store{api: api, table: table, opts: opts.WithDefaults(), retry: defaultRetry}, nil
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
	// WriteUnits is the write capacity DynamoDB reported as consumed by
	// the table and its indexes (ReturnConsumedCapacity); 0 when the
	// server does not report it.
	WriteUnits float64 `json:"write_units"`
}

// Writes is the number of items written: Items + PutItems.
func (s Stats) Writes() int64 { return s.Items + s.PutItems }

type counters struct {
	batchCalls, items, resent, putItems, queries atomic.Int64
	milliWCU                                     atomic.Int64
}

func (c *counters) reset() {
	for _, v := range []*atomic.Int64{&c.batchCalls, &c.items, &c.resent, &c.putItems, &c.queries, &c.milliWCU} {
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
		PutItems: s.stats.putItems.Load(), Queries: s.stats.queries.Load(),
		WriteUnits: float64(s.stats.milliWCU.Load()) / 1000,
	}
}

// Begin starts a run and writes its run record (no finish time yet).
func (s *Store) Begin(ctx context.Context, run report.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.reset()
	s.running = false
	s.accounts = map[string]*account{}
	if err := s.putRun(ctx, run); err != nil {
		return err
	}
	s.running = true
	return nil
}

// Put applies the lifecycle to the findings and queues their records;
// full batches are written at once, the rest at AccountDone. The first Put
// of an account in a run reads the account's stored records (one Query).
// Invalid findings reject the whole call, and nothing is written.
func (s *Store) Put(ctx context.Context, fs []rules.Finding) error {
	if err := s.check(); err != nil {
		return err
	}
	for _, f := range fs {
		if err := report.Validate(f); err != nil {
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
	for _, id := range order {
		if err := s.putAccount(ctx, id, byAccount[id]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) putAccount(ctx context.Context, accountID string, fs []rules.Finding) error {
	a, err := s.account(accountID)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := s.load(ctx, accountID, a); err != nil {
		return err
	}
	now := s.opts.Now()
	for _, f := range fs {
		var prev *report.Record
		if r, ok := a.records[f.FindingID]; ok && !r.Expired(now) {
			prev = &r
		}
		next, change := report.Observe(prev, f)
		if change == report.ChangeReopened {
			episode := *prev
			episode.History = true
			if err := s.queue(ctx, a, episode); err != nil {
				return err
			}
		}
		if err := s.queue(ctx, a, next); err != nil {
			return err
		}
		a.records[f.FindingID] = next
		a.seen[f.FindingID] = f.Status
	}
	return nil
}

// AccountDone resolves, when r is COMPLETE, the account's unresolved
// records this run did not produce (report.Resolver), records the scan as
// the account's last complete one, and writes everything still queued
// for the account. Any other status only writes what is queued.
func (s *Store) AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error {
	if err := s.check(); err != nil {
		return err
	}
	a, err := s.account(r.Account.ID)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if r.Status == inventory.AccountComplete {
		if err := s.load(ctx, r.Account.ID, a); err != nil {
			return err
		}
		now := s.opts.Now()
		res := report.NewResolver(r)
		at := report.ResolvedAt(r, now)
		for id, rec := range a.records {
			if _, ok := a.seen[id]; ok || rec.Expired(now) || !res.Resolves(rec) {
				continue
			}
			resolved := report.Resolve(rec, at, s.opts.Retention)
			if err := s.queue(ctx, a, resolved); err != nil {
				return err
			}
			a.records[id] = resolved
		}
		item, err := encodeAccountScan(report.NewAccountScan(scanID, r, a.seen))
		if err != nil {
			return err
		}
		if err := s.add(ctx, a, item); err != nil {
			return err
		}
	}
	if err := s.flush(ctx, a); err != nil {
		return fmt.Errorf("account %s: %w", r.Account.ID, err)
	}
	s.mu.Lock()
	delete(s.accounts, r.Account.ID)
	s.mu.Unlock()
	return nil
}

// End writes what is still queued for accounts that were never closed
// (nothing is resolved for them) and completes the run record.
func (s *Store) End(ctx context.Context, run report.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return report.ErrNoRun
	}
	var errs []error
	for id, a := range s.accounts {
		a.mu.Lock()
		if err := s.flush(ctx, a); err != nil {
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
		a = &account{records: map[string]report.Record{}, seen: map[string]rules.Status{}, index: map[string]int{}}
		s.accounts[id] = a
	}
	return a, nil
}

// load reads the account's current records once per run; a.mu is held.
func (s *Store) load(ctx context.Context, accountID string, a *account) error {
	if a.loaded {
		return nil
	}
	err := s.query(ctx, accountQuery(s.table, accountID, findingPrefix, nil), func(av map[string]types.AttributeValue) error {
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

// queue encodes a record and adds it to the account's pending writes.
func (s *Store) queue(ctx context.Context, a *account, r report.Record) error {
	item, err := encodeRecord(r)
	if err != nil {
		return err
	}
	return s.add(ctx, a, item)
}

// add queues an item, replacing a queued item with the same key (two
// writes of one key in one BatchWriteItem would reject the whole batch),
// and writes the batch once BatchSize items are queued; a.mu is held.
func (s *Store) add(ctx context.Context, a *account, item map[string]types.AttributeValue) error {
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
	return s.flush(ctx, a)
}

// flush writes the pending items (BatchSize at most) in one batch; a.mu
// is held.
func (s *Store) flush(ctx context.Context, a *account) error {
	if len(a.pending) == 0 {
		return nil
	}
	if err := s.writeBatch(ctx, a.pending); err != nil {
		return err
	}
	a.pending = a.pending[:0]
	clear(a.index)
	return nil
}

// writeBatch writes at most BatchSize items with unique keys, resending
// the UnprocessedItems DynamoDB returns with exponential back-off and
// jitter until none is left, the attempts are spent, or ctx ends.
// Throttling errors are retried by the SDK's retryer.
func (s *Store) writeBatch(ctx context.Context, items []map[string]types.AttributeValue) error {
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
		if err != nil {
			return fmt.Errorf("batch write %d items to %s: %w", len(reqs), s.table, err)
		}
		s.stats.addCapacity(out.ConsumedCapacity)
		left := out.UnprocessedItems[s.table]
		s.stats.items.Add(int64(len(reqs) - len(left)))
		if len(left) == 0 {
			return nil
		}
		if attempt >= s.retry.attempts {
			return fmt.Errorf("batch write to %s: %d items still unprocessed after %d attempts", s.table, len(left), attempt)
		}
		if err := sleep(ctx, s.retry.backoff(attempt)); err != nil {
			return fmt.Errorf("batch write to %s: %d items unprocessed: %w", s.table, len(left), err)
		}
		s.stats.resent.Add(int64(len(left)))
		reqs = left
	}
}

// backoff is the wait before resend number attempt (1, 2, ...): an
// exponential ceiling, capped, with "equal jitter" (half fixed, half
// random), so concurrent writers spread out.
func (p retryPolicy) backoff(attempt int) time.Duration {
	d := p.max
	if attempt < 30 {
		d = min(p.base<<(attempt-1), p.max)
	}
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
