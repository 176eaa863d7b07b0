package pipeline_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// withholdingQueue sends every message but one account's, which it keeps
// (SQS is told nothing of it; the coordinator counts it as sent).
type withholdingQueue struct {
	pipeline.QueueAPI
	account string
	mu      sync.Mutex
	kept    []string
}

func (q *withholdingQueue) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, o ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	entries := in.Entries[:0:0]
	for _, e := range in.Entries {
		if strings.Contains(*e.MessageBody, `"id":"`+q.account+`"`) {
			q.kept = append(q.kept, *e.MessageBody)
			continue
		}
		entries = append(entries, e)
	}
	in.Entries = entries
	if len(entries) == 0 {
		return &sqs.SendMessageBatchOutput{}, nil
	}
	return q.QueueAPI.SendMessageBatch(ctx, in, o...)
}

// TestFanoutForgedMessages: a fan-out run is open with one account
// (held, whose table holds a finding no scan of it would see again)
// still pending. Messages naming that account in another shard, an
// account outside the run, and a chunk of an account outside the run are
// sent to moto's queue: each is dropped and counted, deleted (not
// retried, not dead-lettered), and nothing is scanned (no AWS call at
// all), written or resolved; the run stays open with the account
// pending. The coordinator's own message for the account, sent then, is
// worked as any: the account is scanned, its stale finding resolved, and
// the run finalized.
func TestFanoutForgedMessages(t *testing.T) {
	const (
		held     = "555555555555"
		outsider = "999999999999" // in no organization the simulator knows
		partner  = "999988887777" // a destination outside the organization
	)
	e := newFanoutEnv(t)
	ctx := context.Background()
	store, _ := e.store("fanout")

	// The table already holds an open finding of held that no scan of
	// it will see: a scan of held in this run would resolve it.
	stale := sinktest.NewFinding(held, sinktest.Spec{Bucket: "gone-bucket", Rule: "INV-001", Severity: rules.SeverityMedium},
		"20260101T000000.000Z-000000", time.Now().AddDate(0, 0, -1))
	seed := report.Run{ScanID: stale.ScanID, Trigger: "cli", StartedAt: stale.ObservedAt}
	if err := store.Begin(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, []rules.Finding{stale}); err != nil {
		t.Fatal(err)
	}
	if err := store.AccountDone(ctx, seed.ScanID, inventory.AccountResult{Account: inventory.Account{ID: held}, Status: inventory.AccountComplete,
		StartedAt: seed.StartedAt, FinishedAt: seed.StartedAt}); err != nil {
		t.Fatal(err)
	}
	if err := store.End(ctx, seed); err != nil {
		t.Fatal(err)
	}

	done := &finishes{}
	q := &withholdingQueue{QueueAPI: e.sqs, account: held}
	c := e.coordinate("fanout", done, q)
	e.work("fanout", 2, 30, time.Second, done)
	if len(done.get()) != 0 || len(q.kept) != 1 {
		t.Fatalf("%d runs finalized, %d messages withheld; want the run open, held's message withheld", len(done.get()), len(q.kept))
	}
	status := func() rules.Status {
		t.Helper()
		rs, err := store.Findings(ctx, held)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.FindingID == stale.FindingID {
				return r.Status
			}
		}
		t.Fatalf("held's finding %s is gone from the table", stale.FindingID)
		return ""
	}
	if got := status(); got != rules.StatusOpen {
		t.Fatalf("held's finding is %s before any message of it; want OPEN", got)
	}

	// The forged messages, through the queue.
	forged := map[string]pipeline.Message{
		"held in another shard":          {ScanID: c.ScanID, Shard: 1, Account: inventory.Account{ID: held}},
		"an account outside the run":     {ScanID: c.ScanID, Shard: 0, Account: inventory.Account{ID: outsider, Name: "not ours"}},
		"a chunk of an account outside":  {ScanID: c.ScanID, Shard: 0, Account: inventory.Account{ID: partner}, Chunk: &pipeline.Chunk{Index: 0, Buckets: []inventory.Bucket{{Name: "partner-drop", Region: "us-east-1"}}}},
		"a chunk of held, another shard": {ScanID: c.ScanID, Shard: 2, Account: inventory.Account{ID: held}, Chunk: &pipeline.Chunk{Index: 0, Buckets: []inventory.Bucket{{Name: "sandbox-no-inventory-is-fine", Region: "us-west-2"}}}},
	}
	for what, m := range forged {
		body, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pipeline.ParseMessage(string(body)); err != nil {
			t.Fatalf("%s: %v; want a well-formed message", what, err)
		}
		if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.queue), MessageBody: aws.String(string(body))}); err != nil {
			t.Fatal(err)
		}
	}
	e.sim.ResetCalls()
	e.work("fanout", 2, 30, time.Second, done)
	if got := e.refusals(); !slices.Equal(got, []string{held, held, partner, outsider}) {
		t.Errorf("refused the messages of %v; want the %d forged ones", got, len(forged))
	}
	if calls := e.sim.AllCalls(); len(calls) != 0 {
		t.Errorf("forged messages made AWS calls %v; want none (nothing scanned)", calls)
	}
	for _, id := range []string{outsider, partner} {
		if rs, err := store.Findings(ctx, id); err != nil || len(rs) != 0 {
			t.Errorf("account %s: %d findings written, %v; want none", id, len(rs), err)
		}
	}
	if got := status(); got != rules.StatusOpen {
		t.Errorf("held's stale finding is %s after the forged messages; want OPEN (nothing resolved)", got)
	}
	_, f := e.process("fanout", done.add)
	ledger := f.Ledger
	if pending, err := ledger.Pending(ctx, c.ScanID); err != nil || !slices.Equal(pending, []string{held}) {
		t.Errorf("pending after the forged messages: %v, %v; want [%s]", pending, err, held)
	}
	parts, err := ledger.Parts(ctx, c.ScanID)
	if err != nil || len(parts) != c.Accounts-1 || parts[held] != nil || parts[outsider] != nil {
		t.Errorf("parts after the forged messages: %d, %v; want the %d accounts worked, none of the forged ones", len(parts), err, c.Accounts-1)
	}
	if len(done.get()) != 0 {
		t.Error("a forged message finalized the run")
	}
	if dead := e.receive(ctx, e.dlq, 1); len(dead) != 0 {
		t.Errorf("dead-letter queue holds %q; want the forged messages deleted", *dead[0].Body)
	}

	// The coordinator's own message for held is worked.
	if _, err := e.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(e.queue), MessageBody: aws.String(q.kept[0])}); err != nil {
		t.Fatal(err)
	}
	e.work("fanout", 1, 30, time.Second, done)
	if got := e.refusals(); len(got) != len(forged) {
		t.Errorf("refused %v; want the coordinator's message for %s worked", got, held)
	}
	if e.sim.CallsFor("AssumeRole", held) == 0 {
		t.Error("held's own message: no AssumeRole of held; want it scanned")
	}
	if got := status(); got != rules.StatusResolved {
		t.Errorf("held's stale finding is %s after its own message; want RESOLVED", got)
	}
	if runs := done.get(); len(runs) != 1 || runs[0].Summary.ScanID != c.ScanID || runs[0].Summary.AccountsIncomplete != 0 {
		t.Errorf("%d runs finalized; want %s once, no account incomplete", len(runs), c.ScanID)
	}
}
