//go:build !lambda

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

// capturingQueue keeps the messages the coordinator sends, as SQS would
// until Lambda's event source mapping delivers them.
type capturingQueue struct {
	mu     sync.Mutex
	bodies []string
}

func (q *capturingQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		q.bodies = append(q.bodies, *e.MessageBody)
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// sqsRecord is one record of an SQS event as Lambda sends it.
type sqsRecord struct {
	MessageID   string `json:"messageId"`
	Receipt     string `json:"receiptHandle"`
	Body        string `json:"body"`
	EventSource string `json:"eventSource"`
	ARN         string `json:"eventSourceARN"`
	Region      string `json:"awsRegion"`
}

// TestLambdaFanout runs the Lambda function's own invoke path through a
// fan-out run over the demo organization and dynalite: the scheduled
// event makes it a coordinator (it answers with what it queued); SQS
// events of the queued messages, in batches as the event source mapping
// sends them, go to the workers, which answer with the messages to try
// again as {"batchItemFailures": [...]} (a malformed message among them,
// and only it; a message naming an account the run does not expect is
// dropped and counted, MessagesRefused). The run is finalized once: its
// metrics (one ScansFinished) are the demo organization's, and the AWS
// calls every invocation printed add up to the requests the simulator
// received.
func TestLambdaFanout(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	isolateAWSEnv(t)
	ctx := context.Background()
	sim, err := awssim.New(demo.Organization())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := pointAWSAt(sim, endpoint); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SCANNER_ROLE_NAME":         demo.RoleName,
		"SCANNER_EXTERNAL_ID":       demo.ExternalID,
		"SCANNER_METRICS_NAMESPACE": testNamespace,
		"SCANNER_POLICY":            demo.Policy(time.Now()),
		"SCANNER_TABLE":             "lambda-fanout",
		"SCANNER_MODE":              "fanout",
		"SCANNER_QUEUE_URL":         "https://sqs.us-east-1.amazonaws.com/111122223333/accounts",
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fn, err := buildFunction(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := fn.store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	queue := &capturingQueue{}
	fn.metrics, fn.fanout.Queue = &out, queue
	sim.ResetCalls()

	res, err := fn.invoke(ctx, json.RawMessage(scheduledEventJSON))
	if err != nil {
		t.Fatal(err)
	}
	coord, ok := res.(*pipeline.Coordination)
	want, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	accounts := want.AccountsComplete + want.AccountsFailed
	if !ok || coord.Accounts != accounts || coord.Queued != accounts || len(queue.bodies) != accounts {
		t.Fatalf("coordinator answered %#v with %d messages; want %d accounts queued", res, len(queue.bodies), accounts)
	}

	// Batches of at most 10, the malformed message in the first, and a
	// well-formed message naming an account the run does not expect.
	bodies := append([]string{`{"scan_id":"` + coord.ScanID + `","shard":0}`,
		`{"scan_id":"` + coord.ScanID + `","shard":0,"account":{"id":"999999999999"}}`}, queue.bodies...)
	for lo, batch := 0, 0; lo < len(bodies); lo, batch = lo+10, batch+1 {
		var recs []sqsRecord
		for i, b := range bodies[lo:min(lo+10, len(bodies))] {
			id := fmt.Sprintf("m-%d-%d", batch, i)
			if lo == 0 && i == 0 {
				id = "malformed"
			}
			recs = append(recs, sqsRecord{MessageID: id, Receipt: "r-" + id, Body: b, EventSource: "aws:sqs",
				ARN: "arn:aws:sqs:us-east-1:111122223333:accounts", Region: "us-east-1"})
		}
		ev, err := json.Marshal(map[string]any{"Records": recs})
		if err != nil {
			t.Fatal(err)
		}
		res, err := fn.invoke(ctx, ev)
		if err != nil {
			t.Fatalf("batch %d: %v", batch, err)
		}
		got, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		wantResp := `{"batchItemFailures":[]}`
		if batch == 0 {
			wantResp = `{"batchItemFailures":[{"itemIdentifier":"malformed"}]}`
		}
		if string(got) != wantResp {
			t.Errorf("batch %d answered %s; want %s", batch, got, wantResp)
		}
	}

	got, _ := emfMetrics(t, out.Bytes())
	for _, c := range []struct {
		key       string
		got, want float64
	}{
		{emf.ScansFinished.Key(), total(got[emf.ScansFinished.Key()]), 1},
		{emf.AccountsComplete.Key(), total(got[emf.AccountsComplete.Key()]), float64(want.AccountsComplete)},
		{emf.AccountsFailed.Key(), total(got[emf.AccountsFailed.Key()]), float64(want.AccountsFailed)},
		{emf.Buckets.Key(), total(got[emf.Buckets.Key()]), float64(want.Buckets)},
		{emf.Configurations.Key(), total(got[emf.Configurations.Key()]), float64(want.Configs)},
		{emf.WaivedFindings.Key(), total(got[emf.WaivedFindings.Key()]), float64(want.Waived)},
		{emf.MessagesRefused.Key(), total(got[emf.MessagesRefused.Key()]), 1},
	} {
		if c.got != c.want {
			t.Errorf("fan-out run: %s = %v; want %v", c.key, c.got, c.want)
		}
	}
	if n := len(got[emf.OpenFindings.Key()]); n != 1 || got[emf.OpenFindings.Key()][0].Value == 0 {
		t.Errorf("fan-out run: %d OpenFindings values %v; want one, from the finalizer", n, got[emf.OpenFindings.Key()])
	}
	// Every invocation printed its own calls; they add up to what the
	// simulator received, and the workers' table writes are there.
	calls := map[string]float64{}
	for _, p := range got[emf.AWSCalls.Key()] {
		calls[p.Dims[emf.DimService]+" "+p.Dims[emf.DimOperation]] += p.Value
	}
	for op, n := range sim.AllCalls() {
		key := ""
		for k := range calls {
			if strings.HasSuffix(k, " "+op) && !strings.HasPrefix(k, "DynamoDB ") {
				key = k
			}
		}
		if n > 0 && calls[key] != float64(n) {
			t.Errorf("AWSCalls %s: %v printed; the simulator received %d", op, calls[key], n)
		}
	}
	if calls["DynamoDB BatchWriteItem"] == 0 || calls["DynamoDB UpdateItem"] < float64(accounts) {
		t.Errorf("AWSCalls of the findings table: %v; want the workers' writes (an UpdateItem per account at least)", calls)
	}
	if lines := bytes.Count(out.Bytes(), []byte(`"scan_id":"`+coord.ScanID+`"`)); lines < 4 {
		t.Errorf("%d EMF lines name the run; want the coordinator's, each batch's and the finalizer's", lines)
	}
}
