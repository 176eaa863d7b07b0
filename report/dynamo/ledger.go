package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// The items of a fan-out run (docs/scale.md):
//
//	pk RUN#<scan_id>         sk FANOUT           the run: deadline, accounts expected, shards, members, closed_at
//	pk RUN#<scan_id>#<nnnn>  sk SHARD            pending: the shard's accounts not yet recorded (a string set)
//	pk RUN#<scan_id>#<nnnn>  sk ACCOUNTS         accounts: the shard's accounts, as written (a string set, never changed)
//	pk RUN#<scan_id>#<nnnn>  sk PART#<account>   part: one account's outcome, opaque to the store
//	pk RUN#<scan_id>#<nnnn>  sk CHUNKS#<account> a split account: chunks (its number of chunks), listing, done (the chunks recorded, a number set)
//	pk RUN#<scan_id>#<nnnn>  sk CHUNK#<account>#<nnnnn>  one chunk's outcome
//
// Every one expires with the findings' retention (TTLAttribute).
const (
	skFanout     = "FANOUT"
	skShard      = "SHARD"
	skAccounts   = "ACCOUNTS"
	typeAccounts = "accounts"
	partPrefix   = "PART#"
	typeFanout   = "fanout"
	typeShard    = "shard"
	typePart     = "part"
	attrPending  = "pending"
	attrAccounts = "accounts"
	chunksPrefix = "CHUNKS#"
	chunkPrefix  = "CHUNK#"
	typeChunks   = "chunks"
	typeChunk    = "chunk"
	attrClosed   = "closed_at"
)

// Ledger keeps fan-out runs in the findings table (report.Ledger). Each
// account is recorded with one conditional UpdateItem of its shard, and a
// run is closed with one conditional UpdateItem of its record: no
// transactions.
type Ledger struct {
	s *Store
}

var _ report.Ledger = (*Ledger)(nil)

// NewLedger returns the ledger on the store's table.
func NewLedger(s *Store) *Ledger { return &Ledger{s: s} }

type fanoutItem struct {
	PK                string   `dynamodbav:"pk"`
	SK                string   `dynamodbav:"sk"`
	Type              string   `dynamodbav:"type"`
	ScanID            string   `dynamodbav:"scan_id"`
	Trigger           string   `dynamodbav:"trigger"`
	Started           string   `dynamodbav:"run_started"`
	Deadline          string   `dynamodbav:"deadline"`
	Accounts          int      `dynamodbav:"accounts"`
	Shards            int      `dynamodbav:"shards"`
	Members           []string `dynamodbav:"members,stringset,omitempty"`
	FromOrganizations bool     `dynamodbav:"from_organizations"`
	OrgID             string   `dynamodbav:"org_id,omitempty"`
	WholeScope        bool     `dynamodbav:"whole_scope"`
	ClosedAt          string   `dynamodbav:"closed_at,omitempty"`
	ExpiresAt         int64    `dynamodbav:"expires_at"`
}

type shardItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	Type      string   `dynamodbav:"type"`
	Pending   []string `dynamodbav:"pending,stringset,omitempty"`
	ExpiresAt int64    `dynamodbav:"expires_at"`
}

// accountsItem is the accounts a shard expects: 100 IDs, about 1.3 KB,
// whatever the run's size (DynamoDB's items hold at most 400 KB).
type accountsItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	Type      string   `dynamodbav:"type"`
	Accounts  []string `dynamodbav:"accounts,stringset,omitempty"`
	ExpiresAt int64    `dynamodbav:"expires_at"`
}

type partItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	Account   string `dynamodbav:"account"`
	Part      []byte `dynamodbav:"part"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

func fanoutKey(scanID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: runPrefix + scanID},
		attrSK: &types.AttributeValueMemberS{Value: skFanout},
	}
}

func shardPK(scanID string, shard int) string {
	return fmt.Sprintf("%s%s#%04d", runPrefix, scanID, shard)
}

func shardKey(scanID string, shard int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: shardPK(scanID, shard)},
		attrSK: &types.AttributeValueMemberS{Value: skShard},
	}
}

// expiry is when the items of a run started at t expire.
func (l *Ledger) expiry(t time.Time) int64 { return t.Add(l.s.opts.Retention).Unix() }

// OpenRun writes the run's record and its shards, each as its pending set
// and the set of the accounts it expects (BatchWriteItem, resent like the
// findings' batches). A record is written once: a second OpenRun of the
// same scan ID is an error.
func (l *Ledger) OpenRun(ctx context.Context, run report.FanoutRun) error {
	if run.ScanID == "" || run.Deadline.IsZero() {
		return errors.New("open fan-out run: want a scan ID and a deadline")
	}
	exp := l.expiry(run.Deadline)
	shards := shardsOf(len(run.Accounts))
	var items []map[string]types.AttributeValue
	for i := 0; i < shards; i++ {
		lo, hi := i*report.ShardSize, min((i+1)*report.ShardSize, len(run.Accounts))
		ids := slices.Clone(run.Accounts[lo:hi])
		for _, it := range []any{
			shardItem{PK: shardPK(run.ScanID, i), SK: skShard, Type: typeShard, Pending: ids, ExpiresAt: exp},
			accountsItem{PK: shardPK(run.ScanID, i), SK: skAccounts, Type: typeAccounts, Accounts: ids, ExpiresAt: exp},
		} {
			av, err := attributevalue.MarshalMap(it)
			if err != nil {
				return fmt.Errorf("encode shard %d of run %s: %w", i, run.ScanID, err)
			}
			items = append(items, av)
		}
	}
	for len(items) > 0 {
		n := min(len(items), BatchSize)
		if _, err := l.s.writeBatch(ctx, items[:n]); err != nil {
			return fmt.Errorf("open fan-out run %s: %w", run.ScanID, err)
		}
		items = items[n:]
	}
	// The record last: a worker that finds it finds its shard too.
	av, err := attributevalue.MarshalMap(fanoutItem{
		PK: runPrefix + run.ScanID, SK: skFanout, Type: typeFanout, ScanID: run.ScanID, Trigger: run.Trigger,
		Started: stamp(run.StartedAt), Deadline: stamp(run.Deadline), Accounts: len(run.Accounts), Shards: shards,
		Members: run.Members, FromOrganizations: run.FromOrganizations, OrgID: run.OrgID, WholeScope: run.WholeScope, ExpiresAt: exp,
	})
	if err != nil {
		return fmt.Errorf("encode fan-out run %s: %w", run.ScanID, err)
	}
	_, err = l.s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.s.table), Item: av,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	var exists *types.ConditionalCheckFailedException
	if errors.As(err, &exists) {
		return fmt.Errorf("open fan-out run %s: already open", run.ScanID)
	}
	if err != nil {
		return fmt.Errorf("open fan-out run %s in %s: %w", run.ScanID, l.s.table, err)
	}
	return nil
}

// FanoutRun reads a run's record, strongly consistent.
func (l *Ledger) FanoutRun(ctx context.Context, scanID string) (report.FanoutRun, bool, error) {
	out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.s.table), Key: fanoutKey(scanID), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return report.FanoutRun{}, false, fmt.Errorf("read fan-out run %s in %s: %w", scanID, l.s.table, err)
	}
	if len(out.Item) == 0 {
		return report.FanoutRun{}, false, nil
	}
	var it fanoutItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return report.FanoutRun{}, false, fmt.Errorf("decode fan-out run %s: %w", scanID, err)
	}
	run := report.FanoutRun{ScanID: it.ScanID, Trigger: it.Trigger, Expected: it.Accounts,
		Members: it.Members, FromOrganizations: it.FromOrganizations, OrgID: it.OrgID, WholeScope: it.WholeScope}
	var errs []error
	for _, f := range []struct {
		s string
		t *time.Time
	}{{it.Started, &run.StartedAt}, {it.Deadline, &run.Deadline}, {it.ClosedAt, &run.ClosedAt}} {
		var err error
		*f.t, err = parseStamp(f.s)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return report.FanoutRun{}, false, fmt.Errorf("decode fan-out run %s: %w", scanID, err)
	}
	return run, true, nil
}

// Expects reports whether the run expects the account in that shard: one
// strongly consistent GetItem of the shard's accounts, which OpenRun
// wrote and nothing changes.
func (l *Ledger) Expects(ctx context.Context, scanID string, shard int, account string) (bool, error) {
	out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.s.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			attrPK: &types.AttributeValueMemberS{Value: shardPK(scanID, shard)},
			attrSK: &types.AttributeValueMemberS{Value: skAccounts},
		},
		ProjectionExpression: aws.String("#a"), ExpressionAttributeNames: map[string]string{"#a": attrAccounts},
	})
	if err != nil {
		return false, fmt.Errorf("read the accounts of shard %d of run %s: %w", shard, scanID, err)
	}
	var it accountsItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return false, fmt.Errorf("decode the accounts of shard %d of run %s: %w", shard, scanID, err)
	}
	return slices.Contains(it.Accounts, account), nil
}

// Record writes the account's part, then takes the account off its
// shard's pending set with one UpdateItem under the condition that it is
// still pending: a second Record of the account rewrites the part and
// changes nothing else. check is true when this call emptied the shard,
// or the account had been recorded already (a worker may have died
// between its Record and the close: its message came back).
func (l *Ledger) Record(ctx context.Context, scanID string, shard int, account string, part []byte) (recorded, check bool, err error) {
	av, err := attributevalue.MarshalMap(partItem{PK: shardPK(scanID, shard), SK: partPrefix + account, Type: typePart,
		Account: account, Part: part, ExpiresAt: l.expiry(l.s.opts.Now())})
	if err != nil {
		return false, false, fmt.Errorf("encode the part of account %s: %w", account, err)
	}
	if _, err := l.s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.s.table), Item: av}); err != nil {
		return false, false, fmt.Errorf("write the part of account %s of run %s: %w", account, scanID, err)
	}
	acct := expression.Value(&types.AttributeValueMemberSS{Value: []string{account}})
	expr, err := expression.NewBuilder().
		WithCondition(expression.Contains(expression.Name(attrPending), account)).
		WithUpdate(expression.Delete(expression.Name(attrPending), acct)).Build()
	if err != nil {
		return false, false, fmt.Errorf("record account %s on run %s: build the update expression: %w", account, scanID, err)
	}
	out, err := l.s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.s.table), Key: shardKey(scanID, shard),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
	var done *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &done):
		return false, true, nil
	case err != nil:
		return false, false, fmt.Errorf("record account %s on run %s (shard %d): %w", account, scanID, shard, err)
	}
	_, left := out.Attributes[attrPending]
	return true, !left, nil
}

// Pending reads every shard of the run, strongly consistent, and returns
// the accounts still pending, sorted.
func (l *Ledger) Pending(ctx context.Context, scanID string) ([]string, error) {
	shards, err := l.shards(ctx, scanID)
	if err != nil {
		return nil, err
	}
	var pending []string
	for i := 0; i < shards; i++ {
		out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(l.s.table), Key: shardKey(scanID, i), ConsistentRead: aws.Bool(true),
			ProjectionExpression: aws.String(attrPending),
		})
		if err != nil {
			return nil, fmt.Errorf("read shard %d of run %s: %w", i, scanID, err)
		}
		var it shardItem
		if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
			return nil, fmt.Errorf("decode shard %d of run %s: %w", i, scanID, err)
		}
		pending = append(pending, it.Pending...)
	}
	slices.Sort(pending)
	return pending, nil
}

// shards reads how many shards a run has.
func (l *Ledger) shards(ctx context.Context, scanID string) (int, error) {
	out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.s.table), Key: fanoutKey(scanID), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("shards"),
	})
	if err != nil {
		return 0, fmt.Errorf("read fan-out run %s: %w", scanID, err)
	}
	if len(out.Item) == 0 {
		return 0, fmt.Errorf("fan-out run %s: no record in %s", scanID, l.s.table)
	}
	var it fanoutItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return 0, fmt.Errorf("decode fan-out run %s: %w", scanID, err)
	}
	return it.Shards, nil
}

// Close sets the run's closed_at unless it is set: the one call that sets
// it returns true.
func (l *Ledger) Close(ctx context.Context, scanID string, at time.Time) (bool, error) {
	expr, err := expression.NewBuilder().
		WithCondition(expression.Name(attrPK).AttributeExists().And(expression.Name(attrClosed).AttributeNotExists())).
		WithUpdate(expression.Set(expression.Name(attrClosed), expression.Value(stamp(at)))).Build()
	if err != nil {
		return false, fmt.Errorf("close fan-out run %s: build the update expression: %w", scanID, err)
	}
	_, err = l.s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.s.table), Key: fanoutKey(scanID),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	var closed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &closed):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("close fan-out run %s in %s: %w", scanID, l.s.table, err)
	}
	return true, nil
}

// Parts reads the outcomes recorded, one strongly consistent Query per
// shard.
func (l *Ledger) Parts(ctx context.Context, scanID string) (map[string][]byte, error) {
	shards, err := l.shards(ctx, scanID)
	if err != nil {
		return nil, err
	}
	parts := map[string][]byte{}
	for i := 0; i < shards; i++ {
		key := expression.Key(attrPK).Equal(expression.Value(shardPK(scanID, i))).And(expression.Key(attrSK).BeginsWith(partPrefix))
		in, err := keyQuery(l.s.table, "", key, nil)
		if err != nil {
			return nil, err
		}
		in.ConsistentRead = aws.Bool(true)
		err = l.s.query(ctx, in, func(av map[string]types.AttributeValue) error {
			var it partItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return fmt.Errorf("decode a part of run %s: %w", scanID, err)
			}
			parts[it.Account] = it.Part
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read the parts of run %s: %w", scanID, err)
		}
	}
	return parts, nil
}

// Unclosed returns the fan-out runs among the latest limit runs (index
// runs) that have not ended and are not closed.
func (l *Ledger) Unclosed(ctx context.Context, limit int) ([]report.FanoutRun, error) {
	runs, err := l.s.Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	var open []report.FanoutRun
	for _, r := range runs {
		if !r.FinishedAt.IsZero() {
			continue
		}
		fr, ok, err := l.FanoutRun(ctx, r.ScanID)
		if err != nil {
			return nil, err
		}
		if ok && fr.ClosedAt.IsZero() {
			open = append(open, fr)
		}
	}
	return open, nil
}

// Join prepares the store for a run another process began (a fan-out
// worker, report.Joiner): Begin without writing the run record.
func (s *Store) Join(_ context.Context, run report.Run) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.reset()
	s.scanID = run.ScanID
	s.accounts = map[string]*account{}
	s.running = true
	return nil
}

func chunksKey(scanID string, shard int, account string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: shardPK(scanID, shard)},
		attrSK: &types.AttributeValueMemberS{Value: chunksPrefix + account},
	}
}

type chunksItem struct {
	Chunks  *int   `dynamodbav:"chunks"`
	Listing []byte `dynamodbav:"listing"`
	Done    []int  `dynamodbav:"done,numberset"`
}

type chunkItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	Account   string `dynamodbav:"account"`
	Index     int    `dynamodbav:"index"`
	Part      []byte `dynamodbav:"part"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// SetChunks sets the account's number of chunks and its listing outcome
// on its chunk record (one UpdateItem, the new item returned).
func (l *Ledger) SetChunks(ctx context.Context, scanID string, shard int, account string, n int, listing []byte) (bool, error) {
	upd := expression.Set(expression.Name("chunks"), expression.Value(n)).
		Set(expression.Name("listing"), expression.Value(listing)).
		Set(expression.Name("type"), expression.Value(typeChunks)).
		Set(expression.Name("expires_at"), expression.Value(l.expiry(l.s.opts.Now())))
	return l.updateChunks(ctx, scanID, shard, account, upd)
}

// RecordChunk writes the chunk's outcome, then adds its index to the
// account's chunk record's done set (one UpdateItem: a chunk recorded
// twice is in the set once).
func (l *Ledger) RecordChunk(ctx context.Context, scanID string, shard int, account string, index int, part []byte) (bool, error) {
	av, err := attributevalue.MarshalMap(chunkItem{PK: shardPK(scanID, shard), SK: fmt.Sprintf("%s%s#%05d", chunkPrefix, account, index),
		Type: typeChunk, Account: account, Index: index, Part: part, ExpiresAt: l.expiry(l.s.opts.Now())})
	if err != nil {
		return false, fmt.Errorf("encode chunk %d of account %s: %w", index, account, err)
	}
	if _, err := l.s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.s.table), Item: av}); err != nil {
		return false, fmt.Errorf("write chunk %d of account %s of run %s: %w", index, account, scanID, err)
	}
	upd := expression.Add(expression.Name("done"), expression.Value(&types.AttributeValueMemberNS{Value: []string{fmt.Sprint(index)}})).
		Set(expression.Name("type"), expression.Value(typeChunks)).
		Set(expression.Name("expires_at"), expression.Value(l.expiry(l.s.opts.Now())))
	return l.updateChunks(ctx, scanID, shard, account, upd)
}

// updateChunks applies upd to the account's chunk record and reports
// whether, after it, every chunk is recorded.
func (l *Ledger) updateChunks(ctx context.Context, scanID string, shard int, account string, upd expression.UpdateBuilder) (bool, error) {
	expr, err := expression.NewBuilder().WithUpdate(upd).Build()
	if err != nil {
		return false, fmt.Errorf("chunks of account %s: %w", account, err)
	}
	out, err := l.s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(l.s.table), Key: chunksKey(scanID, shard, account),
		UpdateExpression: expr.Update(), ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return false, fmt.Errorf("record the chunks of account %s on run %s: %w", account, scanID, err)
	}
	var it chunksItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return false, fmt.Errorf("decode the chunks of account %s of run %s: %w", account, scanID, err)
	}
	return it.Chunks != nil && len(it.Done) == *it.Chunks, nil
}

// Chunks reads the account's chunk record and its chunks' outcomes,
// strongly consistent.
func (l *Ledger) Chunks(ctx context.Context, scanID string, shard int, account string) ([]byte, map[int][]byte, error) {
	out, err := l.s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(l.s.table), Key: chunksKey(scanID, shard, account), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read the chunks of account %s of run %s: %w", account, scanID, err)
	}
	var it chunksItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, nil, fmt.Errorf("decode the chunks of account %s of run %s: %w", account, scanID, err)
	}
	parts := map[int][]byte{}
	key := expression.Key(attrPK).Equal(expression.Value(shardPK(scanID, shard))).And(expression.Key(attrSK).BeginsWith(chunkPrefix + account + "#"))
	in, err := keyQuery(l.s.table, "", key, nil)
	if err != nil {
		return nil, nil, err
	}
	in.ConsistentRead = aws.Bool(true)
	err = l.s.query(ctx, in, func(av map[string]types.AttributeValue) error {
		var c chunkItem
		if err := attributevalue.UnmarshalMap(av, &c); err != nil {
			return fmt.Errorf("decode a chunk of account %s of run %s: %w", account, scanID, err)
		}
		parts[c.Index] = c.Part
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("read the chunks of account %s of run %s: %w", account, scanID, err)
	}
	return it.Listing, parts, nil
}

// AccountDoneAcross closes an account whose findings other processes of
// the run wrote (report.ChunkCloser): the findings this run produced are
// the account's records the run last saw (their scan ID is the run's, and
// they are not resolved), read from the table, strongly consistent; then
// as AccountDone.
func (s *Store) AccountDoneAcross(ctx context.Context, scanID string, r inventory.AccountResult) error {
	if err := s.check(); err != nil {
		return err
	}
	id := r.Account.ID
	a, err := s.account(id)
	if err != nil {
		return err
	}
	a.mu.Lock()
	if err := s.open(ctx, id, a); err != nil {
		_ = a.fail(err)
		a.mu.Unlock()
		return s.AccountDone(ctx, scanID, r) // writes what is queued, resolves nothing
	}
	for fid, rec := range a.records {
		if rec.ScanID == scanID && rec.Status != rules.StatusResolved {
			a.seen[fid] = seenOf(rec)
		}
	}
	a.mu.Unlock()
	return s.AccountDone(ctx, scanID, r)
}

// shardsOf is how many shards a fan-out run of n accounts has.
func shardsOf(n int) int { return (n + report.ShardSize - 1) / report.ShardSize }
