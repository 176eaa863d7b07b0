package events

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// delivered is an event as a rule's SQS target receives it.
type delivered struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Detail     json.RawMessage `json:"detail"`
}

// route creates a rule on bus (nil: the default bus) that sends pattern's
// events to a new SQS queue, and returns the queue's URL.
func route(t *testing.T, eb *eventbridge.Client, q *sqs.Client, bus *string, name, pattern string) string {
	t.Helper()
	ctx := context.Background()
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: qo.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventBusName: bus, EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: bus, Targets: []ebtypes.Target{
		{Id: aws.String("queue"), Arn: aws.String(attrs.Attributes[string(sqstypes.QueueAttributeNameQueueArn)])},
	}}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(qo.QueueUrl)
}

// drain reads every message of a queue.
func drain(t *testing.T, q *sqs.Client, url string) []delivered {
	t.Helper()
	var out []delivered
	for {
		m, err := q.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Messages) == 0 {
			return out
		}
		for _, msg := range m.Messages {
			var d delivered
			if err := json.Unmarshal([]byte(aws.ToString(msg.Body)), &d); err != nil {
				t.Fatalf("message %s: %v", aws.ToString(msg.Body), err)
			}
			out = append(out, d)
			if _, err := q.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestPublishToEventBridge runs two scans on a store, as the pipeline
// does, and publishes their changes to moto_server's EventBridge: on the
// default bus, a rule on the source routes everything to one queue and a
// rule with the documented pattern (CRITICAL and HIGH openings) to
// another; a custom bus gets the same events. The first scan's events are
// its openings and its summary; the second, which fixes one finding and
// changes nothing else, sends a Finding Resolved and its summary only.
func TestPublishToEventBridge(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.MotoConfig(testenv.Moto(t))
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	all := route(t, eb, q, nil, "scanner-all", `{"source":["s3-inventory-scanner"]}`)
	urgent := route(t, eb, q, nil, "scanner-urgent", UrgentOpeningsPattern)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("scanner-bus")}); err != nil {
		t.Fatal(err)
	}
	custom := route(t, eb, q, aws.String("scanner-bus"), "scanner-custom", `{"source":["s3-inventory-scanner"]}`)

	log := &report.TransitionLog{}
	store := report.NewMemory(report.StoreOptions{OnTransition: log.Record})
	specs := []sinktest.Spec{
		{Bucket: "b1", Rule: "INV-001", Severity: rules.SeverityCritical},
		{Bucket: "b2", Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh},
		{Bucket: "b2", Config: "daily", Rule: "INV-107", Severity: rules.SeverityLow},
		{Bucket: "b3", Rule: "INV-002", Severity: rules.SeverityCritical, Waived: true},
	}
	scan := func(id string, at time.Time, specs []sinktest.Spec) ([]report.Transition, report.Run) {
		t.Helper()
		run := report.Run{ScanID: id, Trigger: "schedule", StartedAt: at}
		if err := store.Begin(ctx, run); err != nil {
			t.Fatal(err)
		}
		var fs []rules.Finding
		for _, s := range specs {
			fs = append(fs, sinktest.NewFinding(sinktest.AccountA, s, id, at))
		}
		if err := store.Put(ctx, fs); err != nil {
			t.Fatal(err)
		}
		res := inventory.AccountResult{Account: inventory.Account{ID: sinktest.AccountA}, Status: inventory.AccountComplete, StartedAt: at, FinishedAt: at.Add(time.Minute)}
		if err := store.AccountDone(ctx, id, res); err != nil {
			t.Fatal(err)
		}
		run.FinishedAt = at.Add(2 * time.Minute)
		if err := store.End(ctx, run); err != nil {
			t.Fatal(err)
		}
		ts, _ := log.Take(id)
		return ts, run
	}
	publish := func(bus string, ts []report.Transition, run report.Run) {
		t.Helper()
		p, err := New(eb, Options{Bus: bus})
		if err != nil {
			t.Fatal(err)
		}
		sum := scanSummary()
		sum.Run = run
		sum.Changes = report.CountTransitions(ts)
		if failed, err := p.Publish(ctx, ts, sum); failed != 0 || err != nil {
			t.Fatalf("Publish to %q = %d, %v; want 0, nil", bus, failed, err)
		}
	}

	ts, run := scan("s1", sinktest.T0, specs)
	publish("", ts, run)
	publish("scanner-bus", ts, run)
	summarise := func(ds []delivered) []string {
		var out []string
		for _, d := range ds {
			if d.Source != Source {
				t.Errorf("event source %q; want %q", d.Source, Source)
			}
			var f FindingDetail
			if err := json.Unmarshal(d.Detail, &f); err != nil {
				t.Fatalf("%s detail %s: %v", d.DetailType, d.Detail, err)
			}
			if d.DetailType == DetailScanFinished {
				out = append(out, d.DetailType+" "+f.ScanID)
				continue
			}
			out = append(out, d.DetailType+" "+f.RuleID+" "+string(f.Status))
		}
		slices.Sort(out)
		return out
	}
	wantAll := []string{"Finding Opened INV-001 OPEN", "Finding Opened INV-002 WAIVED", "Finding Opened INV-101 OPEN", "Finding Opened INV-107 OPEN", "Scan Finished s1"}
	if got := summarise(drain(t, q, all)); !slices.Equal(got, wantAll) {
		t.Errorf("default bus, first scan: %q; want %q", got, wantAll)
	}
	if got := summarise(drain(t, q, custom)); !slices.Equal(got, wantAll) {
		t.Errorf("custom bus, first scan: %q; want %q", got, wantAll)
	}
	wantUrgent := []string{"Finding Opened INV-001 OPEN", "Finding Opened INV-101 OPEN"}
	if got := summarise(drain(t, q, urgent)); !slices.Equal(got, wantUrgent) {
		t.Errorf("urgent rule: %q; want the open CRITICAL and HIGH findings %q", got, wantUrgent)
	}

	// INV-107 fixed; the rest unchanged.
	ts, run = scan("s2", sinktest.T0.Add(24*time.Hour), []sinktest.Spec{specs[0], specs[1], specs[3]})
	publish("", ts, run)
	want := []string{"Finding Resolved INV-107 RESOLVED", "Scan Finished s2"}
	if got := summarise(drain(t, q, all)); !slices.Equal(got, want) {
		t.Errorf("default bus, second scan: %q; want %q", got, want)
	}
	if got := drain(t, q, urgent); len(got) != 0 {
		t.Errorf("urgent rule, second scan: %d events; want none", len(got))
	}
}
