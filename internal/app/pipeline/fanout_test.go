package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// fanoutEnv is a fan-out deployment in the test: the golden organization
// in the simulator, dynalite, and moto's SQS with a queue and its
// dead-letter queue (maxReceiveCount 5, as template.yaml).
type fanoutEnv struct {
	t        *testing.T
	sim      *awssim.Server
	settings pipeline.Settings
	dynamo   string
	sqs      *sqs.Client
	queue    string
	dlq      string
	// refused are the accounts of the messages the workers refused
	// (Fanout.Refused).
	refusedMu sync.Mutex
	refused   []string
}

func (e *fanoutEnv) refuse(_ context.Context, m pipeline.Message) {
	e.refusedMu.Lock()
	defer e.refusedMu.Unlock()
	e.refused = append(e.refused, m.Account.ID)
}

// refusals returns the accounts of the messages refused so far, sorted.
func (e *fanoutEnv) refusals() []string {
	e.refusedMu.Lock()
	defer e.refusedMu.Unlock()
	return slices.Sorted(slices.Values(e.refused))
}

func newFanoutEnv(t *testing.T) *fanoutEnv {
	t.Helper()
	sim, settings := golden(t)
	e := newFanoutEnvOf(t, settings)
	e.sim = sim
	return e
}

// newFanoutEnvOf is newFanoutEnv for the organization of settings.
func newFanoutEnvOf(t *testing.T, settings pipeline.Settings) *fanoutEnv {
	t.Helper()
	ctx := context.Background()
	settings.Config.Mode, settings.Config.FanoutThreshold = config.ModeFanout, 1
	e := &fanoutEnv{t: t, settings: settings, dynamo: testenv.Dynalite(t)}
	e.sqs = sqs.NewFromConfig(testenv.MotoConfig(testenv.Moto(t)))
	dlq, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("accounts-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := e.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, attrs.Attributes["QueueArn"])
	q, err := e.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("accounts"),
		Attributes: map[string]string{"RedrivePolicy": redrive, "VisibilityTimeout": "60"}})
	if err != nil {
		t.Fatal(err)
	}
	e.queue, e.dlq = *q.QueueUrl, *dlq.QueueUrl
	return e
}

// store returns a new store on the named table (one per process: the
// coordinator and each worker have their own), with its change log.
func (e *fanoutEnv) store(table string, api ...dynamo.API) (*dynamo.Store, *report.TransitionLog) {
	e.t.Helper()
	var client dynamo.API = testenv.DynamoClient(e.dynamo)
	if len(api) > 0 {
		client = api[0]
	}
	log := &report.TransitionLog{}
	s, err := dynamo.New(client, table, report.StoreOptions{OnTransition: log.Record})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := s.EnsureTable(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return s, log
}

// process is one invocation's state: settings with its own store, and
// the fan-out parts.
func (e *fanoutEnv) process(table string, finished func(pipeline.Finished), api ...dynamo.API) (pipeline.Settings, pipeline.Fanout) {
	store, log := e.store(table, api...)
	s := e.settings
	s.Sink, s.Transitions = store, log
	f := pipeline.Fanout{Queue: e.sqs, QueueURL: e.queue, Ledger: dynamo.NewLedger(store),
		Finished: func(_ context.Context, r pipeline.Finished) { finished(r) }, Refused: e.refuse}
	return s, f
}

// finishes collects the runs finalized.
type finishes struct {
	mu   sync.Mutex
	runs []pipeline.Finished
}

func (f *finishes) add(r pipeline.Finished) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
}

func (f *finishes) get() []pipeline.Finished {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.runs)
}

// receive takes at most one message from url, hidden for visibility.
func (e *fanoutEnv) receive(ctx context.Context, url string, visibility int32) []sqstypes.Message {
	out, err := e.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 1,
		VisibilityTimeout: visibility, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Messages
}

// deliver hands messages to the worker as Lambda's event source mapping
// does, and deletes those the worker did not report as failures.
func (e *fanoutEnv) deliver(ctx context.Context, s pipeline.Settings, f pipeline.Fanout, ms []sqstypes.Message) events.SQSEventResponse {
	var ev events.SQSEvent
	for _, m := range ms {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: *m.MessageId, ReceiptHandle: *m.ReceiptHandle,
			Body: *m.Body, EventSource: "aws:sqs"})
	}
	resp := pipeline.HandleBatch(ctx, s, f, ev)
	failed := map[string]bool{}
	for _, x := range resp.BatchItemFailures {
		failed[x.ItemIdentifier] = true
	}
	for _, m := range ms {
		if failed[*m.MessageId] {
			continue
		}
		if _, err := e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
			e.t.Fatal(err)
		}
	}
	return resp
}

// work runs n workers on table until the queue has stayed empty for
// quiet (visibility: how long a received message stays hidden).
func (e *fanoutEnv) work(table string, n int, visibility int32, quiet time.Duration, done *finishes) {
	e.t.Helper()
	e.workWith(table, n, visibility, quiet, done, nil)
}

// coordinate runs the scheduled invocation in fan-out mode.
func (e *fanoutEnv) coordinate(table string, done *finishes, queue ...pipeline.QueueAPI) *pipeline.Coordination {
	e.t.Helper()
	s, f := e.process(table, done.add)
	if len(queue) > 0 {
		f.Queue = queue[0]
	}
	sum, c, err := pipeline.Schedule(context.Background(), s, f)
	if err != nil {
		e.t.Fatalf("coordinator: %v", err)
	}
	if c == nil {
		e.t.Fatalf("coordinator: ran a single invocation (%d accounts); want a fan-out", sum.AccountsComplete)
	}
	return c
}

// single runs one invocation of the whole organization on table.
func (e *fanoutEnv) single(table string) report.Summary {
	e.t.Helper()
	s, _ := e.process(table, nil)
	s.Config.Mode = config.ModeSingle
	sum, err := pipeline.Run(context.Background(), s)
	if err != nil {
		e.t.Fatalf("single invocation: %v", err)
	}
	return sum
}

// figures are the parts of a summary that fan-out and single invocation
// must agree on.
func figures(s report.Summary) string {
	return fmt.Sprintf("complete %d failed %d incomplete %d buckets %d configs %d waived %d by severity %v by rule %v changes %+v failed accounts %v worst accounts %v",
		s.AccountsComplete, s.AccountsFailed, s.AccountsIncomplete, s.Buckets, s.Configs, s.Waived,
		s.BySeverity, s.ByRule, s.Changes, accountsOf(s.Failed), tallies(s.WorstAccounts))
}

func accountsOf(rs []inventory.AccountResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Account.ID+":"+string(r.Status))
	}
	return out
}

func tallies(ts []report.Tally) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s/%s:%d", t.AccountID, t.Bucket, t.Open))
	}
	return out
}

// tableState is every finding record of the organization's accounts,
// without the times and scan IDs: what the lifecycle decided.
func tableState(t *testing.T, q report.Querier, accounts []string) []string {
	t.Helper()
	var out []string
	for _, a := range accounts {
		rs, err := q.Findings(context.Background(), a)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			out = append(out, strings.Join([]string{r.AccountID, r.Bucket, r.FindingID, r.RuleID, string(r.Status), r.Resolution, fmt.Sprint(r.History)}, " "))
		}
	}
	slices.Sort(out)
	return out
}

var goldenAccounts = []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555", "666666666666", "777777777777"}

// TestFanoutEqualsSingleInvocation runs the golden organization twice in
// one invocation on one table, and twice fanned out (a coordinator, then
// three workers taking messages from moto's SQS) on another: each run's
// summary and the findings table after it are the same, and each fan-out
// run is finalized exactly once.
func TestFanoutEqualsSingleInvocation(t *testing.T) {
	e := newFanoutEnv(t)
	singleStore, _ := e.store("single")
	fanStore, _ := e.store("fanout")
	for round := 1; round <= 2; round++ {
		want := e.single("single")
		done := &finishes{}
		c := e.coordinate("fanout", done)
		if c.Accounts != want.AccountsComplete+want.AccountsFailed+want.AccountsIncomplete || c.Queued != c.Accounts {
			t.Fatalf("round %d: coordinator queued %d of %d accounts; want all %d", round, c.Queued, c.Accounts,
				want.AccountsComplete+want.AccountsFailed+want.AccountsIncomplete)
		}
		e.work("fanout", 3, 30, time.Second, done)
		runs := done.get()
		if len(runs) != 1 {
			t.Fatalf("round %d: %d runs finalized; want exactly 1", round, len(runs))
		}
		got := runs[0].Summary
		if got.ScanID != c.ScanID || got.FinishedAt.IsZero() || runs[0].Swept {
			t.Errorf("round %d: finalized %s (finished %v, swept %v); want %s finished by a worker", round, got.ScanID, got.FinishedAt, runs[0].Swept, c.ScanID)
		}
		if figures(got) != figures(want) {
			t.Errorf("round %d: fan-out summary\n%s\nsingle invocation\n%s", round, figures(got), figures(want))
		}
		if g, w := tableState(t, fanStore, goldenAccounts), tableState(t, singleStore, goldenAccounts); !slices.Equal(g, w) || len(w) == 0 {
			t.Errorf("round %d: fan-out table differs from the single invocation's:\n%s", round, lineDiff(strings.Join(w, "\n"), strings.Join(g, "\n")))
		}
		stored, err := fanStore.Runs(context.Background(), 1)
		if err != nil || len(stored) != 1 || stored[0].ScanID != c.ScanID || stored[0].FinishedAt.IsZero() || stored[0].AccountsComplete != want.AccountsComplete {
			t.Errorf("round %d: latest run record %+v, %v; want %s finished with %d accounts complete", round, stored, err, c.ScanID, want.AccountsComplete)
		}
	}
}

// killingAPI is a DynamoDB client that dies: after its first
// BatchWriteItem was written, every call fails, as if the process had
// been killed mid-account (nothing after that point reaches the table).
type killingAPI struct {
	dynamo.API
	killed atomic.Bool
	wrote  chan struct{}
	once   sync.Once
}

var errKilled = errors.New("worker killed")

func (k *killingAPI) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	out, err := k.API.BatchWriteItem(ctx, in, o...)
	k.killed.Store(true)
	k.once.Do(func() { close(k.wrote) })
	return out, err
}

func (k *killingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	return k.API.UpdateItem(ctx, in, o...)
}

func (k *killingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	return k.API.PutItem(ctx, in, o...)
}

func (k *killingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	return k.API.GetItem(ctx, in, o...)
}

func (k *killingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if k.killed.Load() {
		return nil, errKilled
	}
	return k.API.Query(ctx, in, o...)
}

// TestFanoutWorkerKilledMidAccount: after a first scan, a fan-out run's
// worker dies after the first batch of its account reached the table:
// its message is not deleted, comes back once its visibility timeout
// has passed, and another worker scans the account again. The table ends
// as a single invocation's: no finding lost, none duplicated, nothing
// resolved (the organization did not change), and the run is finalized
// once.
func TestFanoutWorkerKilledMidAccount(t *testing.T) {
	e := newFanoutEnv(t)
	ctx := context.Background()
	singleStore, _ := e.store("single")
	fanStore, _ := e.store("fanout")
	e.single("single")
	e.single("single")
	e.single("fanout")

	done := &finishes{}
	e.coordinate("fanout", done)
	killer := &killingAPI{API: testenv.DynamoClient(e.dynamo), wrote: make(chan struct{})}
	ks, kf := e.process("fanout", done.add, killer)
	var victim string
	for victim == "" {
		ms := e.receive(ctx, e.queue, 2)
		if len(ms) == 0 {
			t.Fatal("queue empty before the worker was killed")
		}
		m, err := pipeline.ParseMessage(*ms[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		resp := pipeline.HandleBatch(ctx, ks, kf, events.SQSEvent{Records: []events.SQSMessage{{MessageId: *ms[0].MessageId, Body: *ms[0].Body, EventSource: "aws:sqs"}}})
		if !killer.killed.Load() {
			// An account without findings to write: it was finished normally.
			if _, err := e.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.queue), ReceiptHandle: ms[0].ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if len(resp.BatchItemFailures) != 1 {
			t.Fatalf("killed worker reported %+v; want its message failed (not deleted)", resp.BatchItemFailures)
		}
		victim = m.Account.ID
	}
	e.work("fanout", 2, 2, 4*time.Second, done)

	runs := done.get()
	if len(runs) != 1 || runs[0].Swept {
		t.Fatalf("%d runs finalized (%+v); want 1, by a worker", len(runs), runs)
	}
	sum := runs[0].Summary
	if sum.Changes.Resolved != 0 || sum.Changes.Opened != 0 {
		t.Errorf("changes %+v; want none: the organization did not change", sum.Changes)
	}
	if g, w := tableState(t, fanStore, goldenAccounts), tableState(t, singleStore, goldenAccounts); !slices.Equal(g, w) {
		t.Errorf("after the worker scanning %s was killed, the table differs from a single invocation's:\n%s", victim, lineDiff(strings.Join(w, "\n"), strings.Join(g, "\n")))
	}
	want := e.single("single")
	if sum.AccountsComplete != want.AccountsComplete || sum.Findings() != want.Findings() {
		t.Errorf("fan-out run: %d accounts complete, %d findings; single invocation: %d, %d", sum.AccountsComplete, sum.Findings(), want.AccountsComplete, want.Findings())
	}
}

// poisoningQueue sends the message of one account with a body no worker
// accepts.
type poisoningQueue struct {
	pipeline.QueueAPI
	account string
}

func (p poisoningQueue) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	for i, e := range in.Entries {
		if strings.Contains(*e.MessageBody, `"id":"`+p.account+`"`) {
			in.Entries[i].MessageBody = aws.String(strings.Replace(*e.MessageBody, `"shard"`, `"shard":0,"shard"`, 1))
		}
	}
	return p.QueueAPI.SendMessageBatch(ctx, in, o...)
}

// TestFanoutPoisonedMessage: one account's message is malformed (a key
// given twice). Workers refuse it each time without scanning anything;
// after five receives it is in the dead-letter queue, the other accounts
// are recorded, and the run stays open until its deadline: then the next
// coordinator closes it with that account INCOMPLETE (its coverage
// finding written) and the others as scanned.
func TestFanoutPoisonedMessage(t *testing.T) {
	const poisoned = "333333333333"
	e := newFanoutEnv(t)
	ctx := context.Background()
	done := &finishes{}
	c := e.coordinate("fanout", done, poisoningQueue{QueueAPI: e.sqs, account: poisoned})
	e.work("fanout", 2, 1, 3*time.Second, done)
	if runs := done.get(); len(runs) != 0 {
		t.Fatalf("run finalized with a poisoned account missing: %+v", runs[0].Summary)
	}
	var dead []sqstypes.Message
	for range 3 {
		if dead = e.receive(ctx, e.dlq, 30); len(dead) > 0 {
			break
		}
	}
	if len(dead) != 1 || !strings.Contains(*dead[0].Body, poisoned) {
		t.Fatalf("dead-letter queue holds %d messages; want the poisoned one", len(dead))
	}
	store, _ := e.store("fanout")
	if rs, err := store.Findings(ctx, poisoned); err != nil || len(rs) != 0 {
		t.Fatalf("poisoned account: %d findings, %v; want nothing scanned", len(rs), err)
	}

	// Before the deadline the next coordinator leaves the run open.
	s, f := e.process("fanout", done.add)
	if swept, err := pipeline.Sweep(ctx, s, f); err != nil || len(swept) != 0 {
		t.Fatalf("sweep before the deadline: %v, %v; want nothing closed", swept, err)
	}
	s.Now = func() time.Time { return c.Deadline.Add(time.Minute) }
	swept, err := pipeline.Sweep(ctx, s, f)
	if err != nil || !slices.Equal(swept, []string{c.ScanID}) {
		t.Fatalf("sweep past the deadline: %v, %v; want %s closed", swept, err, c.ScanID)
	}
	runs := done.get()
	if len(runs) != 1 || !runs[0].Swept {
		t.Fatalf("%d runs finalized; want 1, swept", len(runs))
	}
	sum := runs[0].Summary
	if sum.AccountsIncomplete != 1 || sum.AccountsComplete+sum.AccountsFailed+1 != c.Accounts ||
		!slices.Contains(accountsOf(sum.Failed), poisoned+":INCOMPLETE") {
		t.Errorf("swept run: %d complete, %d failed, %d incomplete (%v); want %s alone INCOMPLETE of %d", sum.AccountsComplete,
			sum.AccountsFailed, sum.AccountsIncomplete, accountsOf(sum.Failed), poisoned, c.Accounts)
	}
	rs, err := store.Findings(ctx, poisoned)
	if err != nil || len(rs) != 1 || !rules.IsCoverage(rs[0].RuleID) || !strings.Contains(fmt.Sprint(rs[0].Evidence, rs[0].Message), "NotReported") {
		t.Errorf("poisoned account after the sweep: %+v, %v; want its one coverage finding (NotReported)", rs, err)
	}
	stored, err := store.Runs(ctx, 1)
	if err != nil || len(stored) != 1 || stored[0].FinishedAt.IsZero() || stored[0].AccountsIncomplete != 1 {
		t.Errorf("run record %+v, %v; want it finished with 1 account incomplete", stored, err)
	}
	// A sweep again, or the message of the closed run, changes nothing.
	if swept, err := pipeline.Sweep(ctx, s, f); err != nil || len(swept) != 0 {
		t.Errorf("second sweep: %v, %v; want nothing", swept, err)
	}
	body := fmt.Sprintf(`{"scan_id":%q,"shard":0,"account":{"id":%q}}`, c.ScanID, poisoned)
	resp := pipeline.HandleBatch(ctx, s, f, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "late", Body: body, EventSource: "aws:sqs"}}})
	if len(resp.BatchItemFailures) != 0 || len(done.get()) != 1 {
		t.Errorf("late message of a closed run: failures %+v, %d runs finalized; want it dropped", resp.BatchItemFailures, len(done.get()))
	}
	if rs, err := store.Findings(ctx, poisoned); err != nil || len(rs) != 1 {
		t.Errorf("late message of a closed run scanned the account: %d findings, %v", len(rs), err)
	}
}

// flakyQueue answers SendMessageBatch as SQS does when some entries fail:
// the call succeeds, and the failed entries are listed in Failed. The
// entries of flaky accounts fail their first flakes sends (a throttle:
// not the sender's fault), those of dead accounts every send; lost
// accounts are refused as the sender's fault (resending cannot help).
// Every send of each account is counted.
type flakyQueue struct {
	pipeline.QueueAPI
	flakes      int
	flaky, dead []string
	lost        []string
	mu          sync.Mutex
	sends       map[string]int
}

func (q *flakyQueue) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	var (
		pass   []sqstypes.SendMessageBatchRequestEntry
		failed []sqstypes.BatchResultErrorEntry
	)
	for _, e := range in.Entries {
		m, err := pipeline.ParseMessage(*e.MessageBody)
		if err != nil {
			q.mu.Unlock()
			return nil, err
		}
		id := m.Account.ID
		q.sends[id]++
		switch {
		case slices.Contains(q.lost, id):
			failed = append(failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), Message: aws.String("refused"), SenderFault: true})
		case slices.Contains(q.dead, id), slices.Contains(q.flaky, id) && q.sends[id] <= q.flakes:
			failed = append(failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("RequestThrottled"), Message: aws.String("slow down")})
		default:
			pass = append(pass, e)
		}
	}
	q.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{Failed: failed}
	if len(pass) > 0 {
		sent, err := q.QueueAPI.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: in.QueueUrl, Entries: pass}, o...)
		if err != nil {
			return nil, err
		}
		out.Successful, out.Failed = sent.Successful, append(out.Failed, sent.Failed...)
	}
	return out, nil
}

// TestFanoutSendPartialFailures: SendMessageBatch fails some entries. A
// throttled entry is resent (with back-off) until SQS takes it; an entry
// that keeps failing is given up after SendAttempts sends, and one
// refused as the sender's fault after one. The accounts not queued are
// recorded INCOMPLETE (NotQueued) at once, the coordinator says which,
// the others are scanned by the workers, and the run still closes, once,
// by the worker that records the last account.
func TestFanoutSendPartialFailures(t *testing.T) {
	const (
		flaky = "222222222222"
		dead  = "444444444444"
		lost  = "555555555555"
	)
	e := newFanoutEnv(t)
	ctx := context.Background()
	done := &finishes{}
	q := &flakyQueue{QueueAPI: e.sqs, flakes: 2, flaky: []string{flaky}, dead: []string{dead}, lost: []string{lost}, sends: map[string]int{}}
	s, f := e.process("fanout", done.add)
	f.Queue, f.SendAttempts = q, 4
	_, c, err := pipeline.Schedule(ctx, s, f)
	if c == nil {
		t.Fatalf("coordinator: %v; want a fan-out", err)
	}
	if err == nil || !strings.Contains(err.Error(), "2 of 6 accounts not queued") {
		t.Errorf("coordinator error %v; want 2 of 6 accounts not queued", err)
	}
	if want := []string{dead, lost}; !slices.Equal(c.NotQueued, want) || c.Queued != 4 || c.Accounts != 6 {
		t.Errorf("coordination %+v; want 4 of the 6 accounts in scope queued, %v not", c, want)
	}
	for id, want := range map[string]int{flaky: 3, dead: 4, lost: 1, "111111111111": 1} {
		if got := q.sends[id]; got != want {
			t.Errorf("account %s sent %d times; want %d", id, got, want)
		}
	}
	if runs := done.get(); len(runs) != 0 {
		t.Fatalf("run finalized before the workers ran: %+v", runs[0].Summary)
	}
	e.work("fanout", 2, 30, time.Second, done)
	runs := done.get()
	if len(runs) != 1 || runs[0].Swept || runs[0].Summary.ScanID != c.ScanID {
		t.Fatalf("%d runs finalized (%+v); want %s once, by a worker", len(runs), runs, c.ScanID)
	}
	sum := runs[0].Summary
	if got := accountsOf(sum.Failed); !slices.Contains(got, dead+":INCOMPLETE") || !slices.Contains(got, lost+":INCOMPLETE") ||
		sum.AccountsIncomplete != 2 || sum.AccountsComplete+sum.AccountsFailed != 4 {
		t.Errorf("run: %d complete, %d failed, %d incomplete (%v); want %s and %s INCOMPLETE, the 4 others scanned",
			sum.AccountsComplete, sum.AccountsFailed, sum.AccountsIncomplete, got, dead, lost)
	}
	store, _ := e.store("fanout")
	for _, id := range []string{dead, lost} {
		rs, err := store.Findings(ctx, id)
		if err != nil || len(rs) != 1 || !rules.IsCoverage(rs[0].RuleID) || !strings.Contains(fmt.Sprint(rs[0].Evidence, rs[0].Message), "NotQueued") {
			t.Errorf("account %s: %+v, %v; want its one coverage finding (NotQueued)", id, rs, err)
		}
	}
	if rs, err := store.Findings(ctx, flaky); err != nil || len(rs) == 0 || slices.ContainsFunc(rs, func(r report.Record) bool { return strings.Contains(fmt.Sprint(r.Evidence, r.Message), "NotQueued") }) {
		t.Errorf("flaky account %s: %d findings, %v; want it scanned (it was sent on its third try)", flaky, len(rs), err)
	}
}

// TestFanoutNothingQueued: when SQS takes no message at all, the
// coordinator records every account INCOMPLETE and closes the run
// itself: no run is left open for the sweeper.
func TestFanoutNothingQueued(t *testing.T) {
	e := newFanoutEnv(t)
	ctx := context.Background()
	done := &finishes{}
	q := &flakyQueue{QueueAPI: e.sqs, lost: goldenAccounts, sends: map[string]int{}}
	s, f := e.process("fanout", done.add)
	f.Queue = q
	_, c, err := pipeline.Schedule(ctx, s, f)
	if c == nil || err == nil || c.Queued != 0 || len(c.NotQueued) != c.Accounts || c.Accounts == 0 {
		t.Fatalf("coordination %+v, %v; want nothing queued and an error", c, err)
	}
	runs := done.get()
	if len(runs) != 1 || runs[0].Summary.AccountsIncomplete != c.Accounts {
		t.Fatalf("%d runs finalized (%+v); want 1 with every account INCOMPLETE", len(runs), runs)
	}
	if swept, err := pipeline.Sweep(ctx, s, f); err != nil || len(swept) != 0 {
		t.Errorf("sweep: %v, %v; want no run left open", swept, err)
	}
}

// payments is the golden organization's account with the most buckets
// (17): split into chunks of 4 it makes 5 chunks.
const payments = "222222222222"

// chunkedEnv is a fan-out environment whose workers split accounts of
// more than 4 buckets.
func chunkedEnv(t *testing.T) *fanoutEnv {
	e := newFanoutEnv(t)
	e.settings.Config.ChunkBuckets = 4
	return e
}

// addInventory copies the first inventory configuration of bucket from
// onto bucket to, in the payments account (the organization changes
// between two scans: to's INV-001 finding is resolved by the next
// complete scan).
func addInventory(t *testing.T, s pipeline.Settings, from, to string) {
	t.Helper()
	ctx := context.Background()
	api, err := s.Connector.Connect(ctx, inventory.Account{ID: payments})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := api.(interface {
		scan.S3API
		PutBucketInventoryConfiguration(context.Context, *s3.PutBucketInventoryConfigurationInput, ...func(*s3.Options)) (*s3.PutBucketInventoryConfigurationOutput, error)
	})
	if !ok {
		t.Fatalf("the connector's client %T cannot put inventory configurations", api)
	}
	out, err := c.ListBucketInventoryConfigurations(ctx, &s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String(from)})
	if err != nil || len(out.InventoryConfigurationList) == 0 {
		t.Fatalf("inventory of %s: %v", from, err)
	}
	cfg := out.InventoryConfigurationList[0]
	if _, err := c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(to), Id: cfg.Id,
		InventoryConfiguration: &cfg}); err != nil {
		t.Fatal(err)
	}
}

// TestFanoutChunksEqualSingleInvocation: with chunks of 4 buckets, the
// payments account's worker reads none of its 17 buckets but sends 5
// chunk messages; 3 workers read them. Twice, with a bucket gaining its
// inventory in between: each run's summary and the table after it are a
// single invocation's (the second run resolves the bucket's INV-001 once
// every chunk is recorded, and nothing else), each run is finalized
// once, and each of payments' buckets was read once per run.
func TestFanoutChunksEqualSingleInvocation(t *testing.T) {
	e := chunkedEnv(t)
	singleStore, _ := e.store("single")
	fanStore, _ := e.store("fanout")
	for round := 1; round <= 2; round++ {
		if round == 2 {
			addInventory(t, e.settings, "pass-all", "inv001-missing")
		}
		want := e.single("single")
		done := &finishes{}
		chunks := &countingQueue{QueueAPI: e.sqs}
		c := e.coordinate("fanout", done)
		e.workWith("fanout", 3, 30, time.Second, done, chunks)
		runs := done.get()
		if len(runs) != 1 || runs[0].Summary.ScanID != c.ScanID {
			t.Fatalf("round %d: %d runs finalized; want %s exactly once", round, len(runs), c.ScanID)
		}
		if n := chunks.chunks(payments); n != 5 {
			t.Errorf("round %d: %d chunk messages of account %s; want 5 (17 buckets in chunks of 4)", round, n, payments)
		}
		got := runs[0].Summary
		if figures(got) != figures(want) {
			t.Errorf("round %d: fan-out summary\n%s\nsingle invocation\n%s", round, figures(got), figures(want))
		}
		if round == 2 && (want.Changes.Resolved != 1 || got.Changes.Resolved != 1) {
			t.Errorf("round 2: resolved %d (fan-out), %d (single); want the one INV-001 of inv001-missing", got.Changes.Resolved, want.Changes.Resolved)
		}
		if g, w := tableState(t, fanStore, goldenAccounts), tableState(t, singleStore, goldenAccounts); !slices.Equal(g, w) || len(w) == 0 {
			t.Errorf("round %d: fan-out table differs from the single invocation's:\n%s", round, lineDiff(strings.Join(w, "\n"), strings.Join(g, "\n")))
		}
	}
}

// countingQueue counts the chunk messages sent, by account.
type countingQueue struct {
	pipeline.QueueAPI
	mu sync.Mutex
	n  map[string]int
}

func (q *countingQueue) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	for _, e := range in.Entries {
		if m, err := pipeline.ParseMessage(*e.MessageBody); err == nil && m.Chunk != nil {
			if q.n == nil {
				q.n = map[string]int{}
			}
			q.n[m.Account.ID]++
		}
	}
	q.mu.Unlock()
	return q.QueueAPI.SendMessageBatch(ctx, in, o...)
}

func (q *countingQueue) chunks(account string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n[account]
}

// workWith is work with the workers sending their chunk messages
// through queue (nil: the test's queue, as the coordinator).
func (e *fanoutEnv) workWith(table string, n int, visibility int32, quiet time.Duration, done *finishes, queue pipeline.QueueAPI) {
	e.t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	for range n {
		s, f := e.process(table, done.add)
		if queue != nil {
			f.Queue = queue
		}
		wg.Go(func() {
			for last := time.Now(); time.Since(last) < quiet; {
				ms := e.receive(ctx, e.queue, visibility)
				if len(ms) == 0 {
					time.Sleep(200 * time.Millisecond)
					continue
				}
				e.deliver(ctx, s, f, ms)
				last = time.Now()
			}
		})
	}
	wg.Wait()
}

// TestFanoutChunkKilledMidWay: after a first fan-out run, a second one's
// chunk worker dies after the first batch of its chunk reached the
// table. Its message comes back, another worker reads the chunk again,
// and only then is the account closed: the table ends as a single
// invocation's (nothing lost, duplicated or wrongly resolved), and the
// run is finalized once with the account complete.
func TestFanoutChunkKilledMidWay(t *testing.T) {
	e := chunkedEnv(t)
	ctx := context.Background()
	singleStore, _ := e.store("single")
	fanStore, _ := e.store("fanout")
	e.single("single")
	e.single("single")
	first := &finishes{}
	e.coordinate("fanout", first)
	e.work("fanout", 2, 30, time.Second, first)
	if len(first.get()) != 1 {
		t.Fatalf("first run: %d finalized; want 1", len(first.get()))
	}

	done := &finishes{}
	c := e.coordinate("fanout", done)
	s, f := e.process("fanout", done.add)
	killer := &killingAPI{API: testenv.DynamoClient(e.dynamo), wrote: make(chan struct{})}
	ks, kf := e.process("fanout", done.add, killer)
	killed := -1
	for killed < 0 {
		ms := e.receive(ctx, e.queue, 2)
		if len(ms) == 0 {
			t.Fatal("queue empty before a chunk's worker was killed")
		}
		m, err := pipeline.ParseMessage(*ms[0].Body)
		if err != nil {
			t.Fatal(err)
		}
		if m.Chunk == nil {
			e.deliver(ctx, s, f, ms)
			continue
		}
		resp := pipeline.HandleBatch(ctx, ks, kf, events.SQSEvent{Records: []events.SQSMessage{{MessageId: *ms[0].MessageId, Body: *ms[0].Body, EventSource: "aws:sqs"}}})
		if !killer.killed.Load() || len(resp.BatchItemFailures) != 1 {
			t.Fatalf("chunk %d: killed %v, failures %+v; want the worker killed and its message failed", m.Chunk.Index, killer.killed.Load(), resp.BatchItemFailures)
		}
		killed = m.Chunk.Index
	}
	ledger := dynamo.NewLedger(fanStore)
	if pending, err := ledger.Pending(ctx, c.ScanID); err != nil || !slices.Contains(pending, payments) {
		t.Errorf("after chunk %d was killed: pending %v, %v; want %s still pending", killed, pending, err, payments)
	}
	e.work("fanout", 2, 2, 4*time.Second, done)

	runs := done.get()
	if len(runs) != 1 || runs[0].Swept {
		t.Fatalf("%d runs finalized (%+v); want 1, by a worker", len(runs), runs)
	}
	sum := runs[0].Summary
	if sum.Changes != (report.TransitionCounts{}) {
		t.Errorf("changes %+v; want none: the organization did not change", sum.Changes)
	}
	if slices.Contains(accountsOf(sum.Failed), payments+":INCOMPLETE") {
		t.Errorf("account %s INCOMPLETE after its killed chunk was read again: %v", payments, accountsOf(sum.Failed))
	}
	if g, w := tableState(t, fanStore, goldenAccounts), tableState(t, singleStore, goldenAccounts); !slices.Equal(g, w) {
		t.Errorf("after chunk %d's worker was killed, the table differs from a single invocation's:\n%s", killed, lineDiff(strings.Join(w, "\n"), strings.Join(g, "\n")))
	}
	want := e.single("single")
	if figures(sum) != figures(want) {
		t.Errorf("fan-out summary\n%s\nsingle invocation\n%s", figures(sum), figures(want))
	}
}

// TestParseMessage: a fan-out message is read strictly; each bad one is a
// one-line error naming what is wrong.
func TestParseMessage(t *testing.T) {
	const id = "20260101T000000.000Z-abcdef"
	many := strings.Repeat(`{"name":"b","region":"us-east-1"},`, 10001)
	for _, c := range []struct{ body, err string }{
		{`{"scan_id":"` + id + `","shard":2,"account":{"id":"123456789012"}}`, ""},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":3,"buckets":[{"name":"b1","region":"eu-west-1"}]}}`, ""},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"extra":1}`, "message:"},
		{`{"scan_id":"` + id + `","shard":0,"shard":1,"account":{"id":"123456789012"}}`, "message:"},
		{`{"scan_id":"yesterday","shard":0,"account":{"id":"123456789012"}}`, `scan_id "yesterday"`},
		{`{"scan_id":"` + id + `","shard":-1,"account":{"id":"123456789012"}}`, "shard -1"},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"12345"}}`, `account id "12345"`},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":0,"buckets":[]}}`, "chunk 0 of 0 buckets"},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":-1,"buckets":[{"name":"b"}]}}`, "chunk -1 of 1 buckets"},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":0,"buckets":[{"name":""}]}}`, `bucket name ""`},
		{`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":0,"buckets":[` + strings.TrimSuffix(many, ",") + `]}}`, "chunk 0 of 10001 buckets"},
	} {
		m, err := pipeline.ParseMessage(c.body)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ParseMessage(%.80s): %v", c.body, err)
		case c.err == "" && (m.ScanID != id || m.Account.ID != "123456789012"):
			t.Errorf("ParseMessage(%.80s) = %+v", c.body, m)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "\n")):
			t.Errorf("ParseMessage(%.80s): %v; want one line with %q", c.body, err, c.err)
		}
	}
}

// FuzzParseMessage: an SQS message body is anyone's who may send to the
// queue: ParseMessage never panics, an error is one line, and a message
// it accepts marshals to a body it accepts again as the same message.
func FuzzParseMessage(f *testing.F) {
	const id = "20260101T000000.000Z-abcdef"
	f.Add(`{"scan_id":"` + id + `","shard":2,"account":{"id":"123456789012"}}`)
	f.Add(`{"scan_id":"` + id + `","shard":0,"account":{"id":"123456789012"},"chunk":{"index":3,"buckets":[{"name":"b1","region":"eu-west-1"}]}}`)
	f.Add(`{"scan_id":"` + id + `","shard":0,"shard":1,"account":{"id":"123456789012"}}`)
	f.Add(`{"scan_id":"` + id + `","shard":1e99,"account":{"id":"123456789012"}}`)
	f.Add(`[]`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := pipeline.ParseMessage(body)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := pipeline.ParseMessage(string(b))
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("accepted %q as %+v; marshalled again %s: %+v, %v", body, m, b, again, err)
		}
	})
}
