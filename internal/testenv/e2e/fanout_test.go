//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/deploy"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

const (
	fanoutTable = "e2e-fanout"
	singleTable = "e2e-single"
	// batchSize is the event source mapping's BatchSize here. The
	// template deploys 1 (an account an invocation); 2 puts several
	// records in a batch and spreads the organization's four accounts
	// over both workers.
	batchSize = 2
)

// TestLambdaFanoutEndToEnd runs a fan-out over SQS with the real
// bootstrap under the Runtime Interface Emulator: a coordinator
// (SCANNER_MODE=fanout) sends an account a message to a queue in
// moto_server, the test delivers the messages to two worker processes as
// Lambda's SQS event source mapping does (ReportBatchItemFailures), and
// the resulting table is compared with a single invocation's
// (SCANNER_MODE=single, the same organization, a table of its own), over
// two rounds, the second after a configuration was fixed.
func TestLambdaFanoutEndToEnd(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	motoURL := testenv.Moto(t)
	ctx := context.Background()
	root, err := deploy.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bootstrap, rie := buildTools(t, root, t.TempDir())
	stores := map[string]*dynamo.Store{}
	for _, name := range []string{fanoutTable, singleTable} {
		s, err := dynamo.New(testenv.DynamoClient(endpoint), name, report.StoreOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureTable(ctx); err != nil {
			t.Fatalf("create table %s: %v", name, err)
		}
		stores[name] = s
	}
	sim := startSim(t)
	src := newEventSource(t, motoURL)

	// Each role's processes reach DynamoDB, SQS, EventBridge and Security
	// Hub through recorders of their own, for checkGrants: the
	// coordinator's and the single invocation's calls are ScannerRole's,
	// the workers' WorkerRole's.
	recs := map[string]*roleCalls{}
	for _, name := range []string{"coordinator", "workers", "single"} {
		recs[name] = &roleCalls{ddb: newRecorder(t, endpoint), sqs: newRecorder(t, motoURL),
			outs: newOutputs(t, motoURL, []*awssim.Server{sim}, nil), sim: map[string]int{}}
	}
	env := func(mode, tbl string, rec *roleCalls) map[string]string {
		key, secret := sim.ManagementCredentials()
		return map[string]string{
			"AWS_REGION":                   "us-east-1",
			"AWS_ACCESS_KEY_ID":            key,
			"AWS_SECRET_ACCESS_KEY":        secret,
			"AWS_ENDPOINT_URL":             sim.URL(),
			"AWS_ENDPOINT_URL_DYNAMODB":    rec.ddb.URL,
			"AWS_ENDPOINT_URL_SQS":         rec.sqs.URL,
			"AWS_ENDPOINT_URL_EVENTBRIDGE": rec.outs.URL,
			"AWS_ENDPOINT_URL_SECURITYHUB": rec.outs.URL,
			"SCANNER_EVENT_BUS":            "default",
			"SCANNER_SECURITY_HUB":         "true",
			"AWS_LAMBDA_FUNCTION_TIMEOUT":  "120",
			"SCANNER_TABLE":                tbl,
			"SCANNER_ROLE_NAME":            roleName,
			"SCANNER_EXTERNAL_ID":          externalID,
			"SCANNER_DEADLINE_MARGIN":      "5s",
			"SCANNER_METRICS_NAMESPACE":    e2eNamespace,
			"SCANNER_MODE":                 mode,
			"SCANNER_QUEUE_URL":            src.url,
		}
	}
	coordinator := startFunction(t, rie, bootstrap, env("fanout", fanoutTable, recs["coordinator"]))
	workers := []*function{
		startFunction(t, rie, bootstrap, env("fanout", fanoutTable, recs["workers"])),
		startFunction(t, rie, bootstrap, env("fanout", fanoutTable, recs["workers"])),
	}
	single := startFunction(t, rie, bootstrap, env("single", singleTable, recs["single"]))

	// rounds maps each table's scan IDs to the round that ran them.
	rounds := map[string]map[string]int{fanoutTable: {}, singleTable: {}}
	for round := 1; round <= 2; round++ {
		ok := t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			if round == 2 {
				// Something to resolve: both tables must resolve it alike.
				fixConfiguration(t, sim)
			}
			sim.ResetCalls()
			var coord pipeline.Coordination
			body := coordinator.invoke(t, scheduledEvent())
			if err := json.Unmarshal(body, &coord); err != nil || coord.ScanID == "" {
				t.Fatalf("coordinator answered %s; want what it queued (%v)", body, err)
			}
			// In scope: the ACTIVE accounts (444444444444 is suspended).
			if coord.Accounts != 4 || coord.Queued != 4 || len(coord.NotQueued) != 0 {
				t.Errorf("coordinator answered %s; want 4 accounts, 4 queued", body)
			}
			rounds[fanoutTable][coord.ScanID] = round
			coordCalls := sim.AllCalls()
			recs["coordinator"].add(coordCalls, nil)

			used := src.drain(t, workers)
			for i, n := range used {
				if n == 0 {
					t.Errorf("worker %d received no batch; the test wants both at work", i+1)
				}
			}
			src.checkEmpty(t)
			simCalls := sim.AllCalls()
			recs["workers"].add(simCalls, coordCalls)

			sum := decodeSummary(t, single.invoke(t, scheduledEvent()))
			rounds[singleTable][sum.ScanID] = round
			recs["single"].add(sim.AllCalls(), simCalls)

			checkFinalized(t, stores[fanoutTable], coord.ScanID, round)
			checkSameRuns(t, stores, rounds)
			checkSameFindings(t, stores, rounds)
			// And both are right: the fixture's findings, less the one
			// fixed before round 2.
			got := tableFindings(t, stores[fanoutTable])
			for acct, want := range wantOpen {
				if round == 2 && acct == "222222222222" {
					want = slices.DeleteFunc(slices.Clone(want), func(id string) bool { return id == "INV-101" })
				}
				if open := openRules(got[acct]); !slices.Equal(open, want) {
					t.Errorf("fan-out table, round %d: account %s has open findings %v; want %v", round, acct, open, want)
				}
			}
			// Each process calls GetCallerIdentity once, at its cold
			// start (the partition of the member role's ARN), before any
			// invocation: the fan-out's three start in round 1.
			coldStarts := 0
			if round == 1 {
				coldStarts = 1 + len(workers)
			}
			if n := simCalls["GetCallerIdentity"]; n != coldStarts {
				t.Errorf("round %d: %d GetCallerIdentity; want %d, one a cold start", round, n, coldStarts)
			}
			delete(simCalls, "GetCallerIdentity")
			checkFanoutEMF(t, coord.ScanID, coordinator, workers, used, simCalls)
			checkEMF(t, single, sum.ScanID, nil)
		})
		if !ok {
			break
		}
	}

	t.Run("every call is granted", func(t *testing.T) {
		for _, c := range []struct {
			name, role, table string
			want              []string // services the recorders must have seen
		}{
			// The coordinator records the run and sends the accounts.
			{"coordinator", "ScannerRole", fanoutTable, []string{"dynamodb", "sqs"}},
			// The workers record their accounts, publish the changes
			// and import them (no SQS call: no account is split).
			{"workers", "WorkerRole", fanoutTable, []string{"dynamodb", "events", "securityhub"}},
			{"single", "ScannerRole", singleTable, []string{"dynamodb", "events", "securityhub"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				made := recs[c.name].made(c.table, src.url)
				ops := made.services()
				for _, svc := range c.want {
					if !ops[svc] {
						t.Errorf("the %s made calls to %v; want some to each of %v", c.name, ops, c.want)
						break
					}
				}
				checkGrants(t, root, c.role, made)
			})
		}
		// The coordinator lists the organization; the workers assume the
		// member role and read the buckets.
		if c, w := recs["coordinator"].sim, recs["workers"].sim; c["ListAccounts"] == 0 || w["AssumeRole"] == 0 || w["ListBuckets"] == 0 {
			t.Errorf("the simulated organization received %v of the coordinator, %v of the workers; want the listing of the first, AssumeRole and ListBuckets of the others", c, w)
		}
	})
}

// roleCalls are the AWS calls of the processes of one role (the
// coordinator, the workers, the single invocation): what their recorders
// saw, and what the simulated organization received of them.
type roleCalls struct {
	ddb, sqs *recorder
	outs     *outputs
	sim      map[string]int
}

// add adds what the simulated organization received between two reads of
// its calls (before nil: since they were reset).
func (r *roleCalls) add(after, before map[string]int) {
	for op, n := range after {
		r.sim[op] += n - before[op]
	}
}

// made is what checkGrants reads.
func (r *roleCalls) made(table, queue string) madeCalls {
	return madeCalls{Table: table, Queue: queue, AWS: append(r.ddb.Calls(), r.sqs.Calls()...), Sim: r.sim, Outputs: r.outs.calls()}
}

// services reports which services the recorders saw calls to (dynamodb,
// sqs, events, securityhub).
func (m madeCalls) services() map[string]bool {
	seen := map[string]bool{}
	for _, c := range m.AWS {
		seen[c.Service] = true
	}
	for _, c := range m.Outputs {
		seen[c.Service] = true
	}
	return seen
}

// eventSource is moto's SQS queue of the fan-out, with a dead-letter queue
// (maxReceiveCount 5, as template.yaml), and the test acting as Lambda's
// event source mapping on it.
type eventSource struct {
	sqs           *sqs.Client
	url, arn, dlq string
}

func newEventSource(t *testing.T, motoURL string) *eventSource {
	t.Helper()
	ctx := context.Background()
	c := sqs.NewFromConfig(testenv.MotoConfig(motoURL))
	arnOf := func(url string) string {
		out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	}
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("accounts-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, arnOf(*dlq.QueueUrl))
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("accounts"),
		Attributes: map[string]string{"RedrivePolicy": redrive, "VisibilityTimeout": "600"}})
	if err != nil {
		t.Fatal(err)
	}
	return &eventSource{sqs: c, url: *q.QueueUrl, arn: arnOf(*q.QueueUrl), dlq: *dlq.QueueUrl}
}

// drain delivers the queue's messages to the workers until the queue is
// empty: in waves, each wave every visible message in batches of
// batchSize, the batches dealt to the workers in turn, each worker in a
// goroutine of its own invoking one batch at a time (the emulator takes
// one invocation at once). Messages the workers send (a split account's
// chunks) are the next wave's. It returns the batches each worker got.
func (s *eventSource) drain(t *testing.T, workers []*function) []int {
	t.Helper()
	used := make([]int, len(workers))
	for wave := 0; ; wave++ {
		var batches [][]sqstypes.Message
		for {
			out, err := s.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(s.url),
				MaxNumberOfMessages: batchSize, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
			if err != nil {
				t.Fatalf("receive from %s: %v", s.url, err)
			}
			if len(out.Messages) == 0 {
				break
			}
			batches = append(batches, out.Messages)
		}
		if len(batches) == 0 {
			return used
		}
		if wave > 10 {
			t.Fatalf("the queue still has messages after %d waves", wave)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for i, w := range workers {
			wg.Go(func() {
				for b := i; b < len(batches); b += len(workers) {
					err := s.deliver(w, batches[b])
					mu.Lock()
					used[i]++
					if err != nil {
						errs = append(errs, fmt.Errorf("worker %d, wave %d, batch %d: %w", i+1, wave, b, err))
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			t.Error(err)
		}
	}
}

// deliver invokes the worker with the messages as an SQS event, as Lambda
// builds it, and deletes every message the answer's batchItemFailures
// does not name; a failure is an error (the organization has no message
// that should fail), its message left to come back.
func (s *eventSource) deliver(w *function, msgs []sqstypes.Message) error {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes,
			EventSource: "aws:sqs", EventSourceARN: s.arn, AWSRegion: "us-east-1",
		})
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	body, err := w.post(string(payload))
	if err != nil {
		return err
	}
	var resp struct {
		events.SQSEventResponse
		lambdaError
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.ErrorMessage != "" || resp.BatchItemFailures == nil {
		return fmt.Errorf("answered %s; want {\"batchItemFailures\": [...]}", body)
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		if _, err := s.sqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(s.url), ReceiptHandle: m.ReceiptHandle}); err != nil {
			return fmt.Errorf("delete %s: %w", aws.ToString(m.MessageId), err)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("batchItemFailures %s (of %d records); want none", body, len(msgs))
	}
	return nil
}

// checkEmpty checks that no message is left in the queue, visible or in
// flight, nor in the dead-letter queue.
func (s *eventSource) checkEmpty(t *testing.T) {
	t.Helper()
	for _, url := range []string{s.url, s.dlq} {
		out, err := s.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
			if n := out.Attributes[string(a)]; n != "0" {
				t.Errorf("%s: %s = %s after the run; want 0", url, a, n)
			}
		}
	}
}

// checkFinalized checks that the fan-out run is closed, every account
// recorded, and its run item finished; the table holds one finished run
// a round.
func checkFinalized(t *testing.T, store *dynamo.Store, scanID string, round int) {
	t.Helper()
	ctx := context.Background()
	ledger := dynamo.NewLedger(store)
	fr, ok, err := ledger.FanoutRun(ctx, scanID)
	if err != nil || !ok || fr.ClosedAt.IsZero() || fr.Expected != 4 {
		t.Errorf("fan-out run %s: %+v (found %v, %v); want it closed, 4 accounts expected", scanID, fr, ok, err)
	}
	if pending, err := ledger.Pending(ctx, scanID); err != nil || len(pending) != 0 {
		t.Errorf("fan-out run %s: accounts pending %v (%v); want none", scanID, pending, err)
	}
	runs, err := store.Runs(ctx, 0)
	if err != nil || len(runs) != round || runs[0].ScanID != scanID {
		t.Fatalf("fan-out table: runs %+v (%v); want %d, the latest %s", runs, err, round, scanID)
	}
	for _, r := range runs {
		if r.FinishedAt.IsZero() {
			t.Errorf("fan-out table: run %s has no finish time", r.ScanID)
		}
	}
}

// checkSameRuns checks that the two tables' runs, latest first, have the
// same figures.
func checkSameRuns(t *testing.T, stores map[string]*dynamo.Store, rounds map[string]map[string]int) {
	t.Helper()
	figures := map[string][]string{}
	for name, s := range stores {
		runs, err := s.Runs(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			figures[name] = append(figures[name], fmt.Sprintf("round %d: %s, %d complete, %d failed, %d incomplete, %d buckets, %d configurations, by rule %v, by severity %v",
				rounds[name][r.ScanID], r.Trigger, r.AccountsComplete, r.AccountsFailed, r.AccountsIncomplete, r.Buckets, r.Configs, r.ByRule, r.BySeverity))
		}
	}
	if f, s := figures[fanoutTable], figures[singleTable]; !slices.Equal(f, s) {
		t.Errorf("runs of the fan-out:\n  %s\nwant those of a single invocation:\n  %s", strings.Join(f, "\n  "), strings.Join(s, "\n  "))
	}
}

// lifecycle describes a record without what is particular to a run: its
// scan IDs become the round that ran them, times whether they are set.
func lifecycle(r report.Record, rounds map[string]int) string {
	round := func(id string) string {
		if id == "" {
			return "-"
		}
		if n, ok := rounds[id]; ok {
			return fmt.Sprint(n)
		}
		return "unknown scan " + id
	}
	return fmt.Sprintf("%s %s bucket=%q config=%q region=%s %s %s resolution=%q history=%v seen-in=%s changed-in=%s resolved=%v first-seen-set=%v evidence=%v",
		r.AccountID, r.RuleID, r.Bucket, r.ConfigID, r.Region, r.Severity, r.Status, r.Resolution, r.History,
		round(r.ScanID), round(r.ChangedIn), !r.ResolvedAt.IsZero(), !r.FirstSeen.IsZero(), r.Evidence)
}

// checkSameFindings checks that every account's records in the fan-out's
// table are those of the single invocation's, lifecycle included, and
// that no finding is there twice.
func checkSameFindings(t *testing.T, stores map[string]*dynamo.Store, rounds map[string]map[string]int) {
	t.Helper()
	all := map[string]map[string][]string{}
	for name, s := range stores {
		all[name] = map[string][]string{}
		for acct, recs := range tableFindings(t, s) {
			seen := map[string]bool{}
			for _, r := range recs {
				if !r.History && seen[r.FindingID] {
					t.Errorf("%s: account %s holds finding %s (%s) twice", name, acct, r.FindingID, r.RuleID)
				}
				seen[r.FindingID] = !r.History
				all[name][acct] = append(all[name][acct], lifecycle(r, rounds[name]))
			}
			slices.Sort(all[name][acct])
		}
	}
	if len(all[singleTable]["222222222222"]) == 0 {
		t.Fatal("the single invocation's table holds no finding of 222222222222")
	}
	for acct := range wantOpen {
		if f, s := all[fanoutTable][acct], all[singleTable][acct]; !slices.Equal(f, s) {
			t.Errorf("account %s: the fan-out's records\n  %s\nwant the single invocation's\n  %s", acct, strings.Join(f, "\n  "), strings.Join(s, "\n  "))
		}
	}
}

// checkFanoutEMF checks the fan-out's metrics: the run's ScansFinished
// printed exactly once, by one invocation, with the run's figures
// (checked against the single invocation's by checkSameRuns through the
// table); every worker that got a batch printed its AWS calls under the
// run's scan ID, the table's writes among them; and the calls the
// coordinator and the workers printed add up to what the simulated
// organization received in the run (simCalls, less the processes'
// initialization, which is no invocation's).
func checkFanoutEMF(t *testing.T, scanID string, coordinator *function, workers []*function, used []int, simCalls map[string]int) {
	t.Helper()
	finished := 0
	printed := map[string]float64{}
	for i, fn := range append([]*function{coordinator}, workers...) {
		name := "the coordinator"
		if i > 0 {
			name = fmt.Sprintf("worker %d", i)
		}
		docs, errs := emf.Read([]byte(fn.out.String()), e2eNamespace)
		for _, err := range errs {
			t.Errorf("%s: %v", name, err)
		}
		calls := map[string]float64{}
		for _, doc := range docs {
			if doc.Members["scan_id"] != scanID {
				continue
			}
			for _, p := range doc.Metrics {
				switch p.Metric.Key() {
				case emf.ScansFinished.Key():
					finished++
				case emf.AWSCalls.Key():
					calls[p.Dims[emf.DimService]+" "+p.Dims[emf.DimOperation]] += p.Value
				}
			}
		}
		switch {
		case i == 0 && (calls["Organizations ListAccounts"] == 0 || calls["SQS SendMessageBatch"] == 0):
			t.Errorf("%s printed AWS calls %v for %s; want its listing and its sends", name, calls, scanID)
		case i > 0 && used[i-1] > 0 && (calls["STS AssumeRole"] == 0 || calls["S3 ListBuckets"] == 0 || calls["DynamoDB UpdateItem"] == 0):
			t.Errorf("%s printed AWS calls %v for %s; want its AssumeRole, ListBuckets and the table's writes", name, calls, scanID)
		}
		for k, n := range calls {
			printed[k] += n
		}
	}
	if finished != 1 {
		t.Errorf("run %s: %d ScansFinished printed by the coordinator and the workers; want 1", scanID, finished)
	}
	byOp := map[string]float64{}
	for k, n := range printed {
		if svc, op, _ := strings.Cut(k, " "); !slices.Contains([]string{"DynamoDB", "SQS", "EventBridge", "SecurityHub"}, svc) {
			byOp[op] += n
		}
	}
	want := map[string]float64{}
	for op, n := range simCalls {
		if n > 0 {
			want[op] = float64(n)
		}
	}
	if !maps.Equal(byOp, want) {
		t.Errorf("run %s: AWS calls printed %v; the simulated organization received %v", scanID, byOp, want)
	}
}
