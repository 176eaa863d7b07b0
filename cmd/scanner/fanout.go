//go:build !lambda || !widget

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/base/strictjson"
)

// invoke is the Lambda handler: an SQS batch is fan-out work
// (pipeline.HandleBatch, answered with the messages to try again); any
// other event is a scheduled or manual run, answered with its summary or,
// for a fan-out coordinator, with what it queued.
func (f *function) invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	if ev, ok, err := sqsEvent(raw); ok {
		if err != nil {
			f.run.Logger.ErrorContext(ctx, "rejected event", "error", err.Error())
			return nil, err
		}
		if f.fanout.Ledger == nil {
			return nil, fmt.Errorf("event: an SQS batch needs the findings table (SCANNER_TABLE)")
		}
		before := f.calls.Snapshot()
		fan, refused := f.fanout, 0
		fan.Refused = func(context.Context, pipeline.Message) { refused++ } // HandleBatch works one message at a time
		resp := pipeline.HandleBatch(ctx, f.run, fan, ev)
		f.writeCalls(ctx, batchScanID(ev), before)
		f.writeRefused(ctx, batchScanID(ev), refused)
		return resp, nil
	}
	sum, coord, err := f.scheduled(ctx, raw)
	if coord != nil {
		return coord, err
	}
	return sum, err
}

// sqsEvent reports whether raw is an SQS batch ({"Records": [...]}) and
// decodes it; the bodies are parsed one by one (pipeline.ParseMessage),
// so that a malformed message fails alone.
func sqsEvent(raw json.RawMessage) (events.SQSEvent, bool, error) {
	var probe struct {
		Records json.RawMessage `json:"Records"`
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &probe) != nil || probe.Records == nil {
		return events.SQSEvent{}, false, nil
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, true, fmt.Errorf("event: SQS batch: %s", strictjson.Echo(err.Error()))
	}
	for _, r := range ev.Records {
		if r.EventSource != "aws:sqs" || r.MessageId == "" {
			return ev, true, fmt.Errorf("event: Records: eventSource %q, messageId %q; want SQS messages", strictjson.Echo(r.EventSource), strictjson.Echo(r.MessageId))
		}
	}
	return ev, true, nil
}

// writeCalls prints the AWS calls this invocation made since before, as
// its own EMF lines: in a fan-out run each invocation (the coordinator,
// every worker) prints its calls and CloudWatch sums them, where merging
// them into the finalizer's figures would need every worker's counts in
// the ledger and would still miss the coordinator's and the calls of a
// worker killed before it recorded its account. The gauges (open
// findings) are printed once, by the finalizer (finished).
func (f *function) writeCalls(ctx context.Context, scanID string, before []awsclient.APICalls) {
	if f.metrics == nil {
		return
	}
	calls := awsclient.Since(f.calls.Snapshot(), before)
	if _, err := emf.WriteCalls(f.metrics, f.namespace, scanID, time.Now(), calls); err != nil {
		f.run.Logger.ErrorContext(ctx, "metrics not written", "scan_id", scanID, "error", err.Error())
	}
}

// writeRefused prints the number of messages this invocation refused
// (MessagesRefused: messages naming an account their run does not
// expect), which the RefusedMessages alarm reads.
func (f *function) writeRefused(ctx context.Context, scanID string, n int) {
	if f.metrics == nil {
		return
	}
	if _, err := emf.WriteRefused(f.metrics, f.namespace, scanID, time.Now(), n); err != nil {
		f.run.Logger.ErrorContext(ctx, "metrics not written", "scan_id", scanID, "error", err.Error())
	}
}

// batchScanID is the scan ID of a batch's messages when they all have
// the same, "" otherwise.
func batchScanID(ev events.SQSEvent) string {
	id := ""
	for _, r := range ev.Records {
		m, err := pipeline.ParseMessage(r.Body)
		if err != nil || (id != "" && m.ScanID != id) {
			return ""
		}
		id = m.ScanID
	}
	return id
}

// finished prints the metrics of a fan-out run this invocation finalized
// (without AWS calls: see writeCalls).
func (f *function) finished(ctx context.Context, r pipeline.Finished) {
	if f.metrics == nil {
		return
	}
	open := make(map[emf.RuleSeverity]int, len(r.Open))
	for k, n := range r.Open {
		open[emf.RuleSeverity{Rule: k.Rule, Severity: k.Severity}] += n
	}
	run := emf.Run{Summary: r.Summary, Open: open, WholeScope: true}
	if _, err := emf.Write(f.metrics, f.namespace, run); err != nil {
		f.run.Logger.ErrorContext(ctx, "metrics not written", "scan_id", r.Summary.ScanID, "error", err.Error())
	}
}
