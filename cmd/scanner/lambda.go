//go:build !lambda || !widget

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

// lambdaMain runs the Lambda function. The configuration, the policy and
// the AWS clients are loaded and validated once, at cold start; when they
// are bad, the error is logged then and returned by every invocation, and
// nothing is scanned or written.
func lambdaMain() {
	log := lambdacontext.NewLogger()
	fn, err := newFunction(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		lambda.Start(func(context.Context, json.RawMessage) (report.Summary, error) {
			return report.Summary{}, err
		})
		return
	}
	// CloudWatch Logs turns the EMF lines the function prints into
	// metrics; Lambda sends standard output to the log group.
	fn.metrics = os.Stdout
	lambda.Start(fn.invoke)
}

// function is the Lambda function's state between invocations.
type function struct {
	// run holds what every invocation shares: configuration, policy,
	// clients, sink, logger.
	run pipeline.Settings
	// store is the findings table within run.Sink, when there is one.
	store *dynamo.Store
	// calls counts the AWS requests of every client of run.
	calls *awsclient.CallStats
	// metrics receives the EMF lines of each run that writes findings
	// (standard output in Lambda); nil prints none (the demo).
	metrics   io.Writer
	namespace string
	// fanout is what fan-out runs need (the queue, the ledger); its
	// Ledger is nil without a findings table.
	fanout pipeline.Fanout
}

func newFunction(ctx context.Context, getenv func(string) string, log *slog.Logger) (*function, error) {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return nil, err
	}
	if cfg.Table == "" {
		return nil, errors.New("SCANNER_TABLE is not set; want the name of the findings table")
	}
	return buildFunction(ctx, cfg, log)
}

// buildFunction checks the policy, wires the AWS clients and builds the
// sinks: the findings table when cfg.Table is set, then extra (the demo
// adds a printer).
func buildFunction(ctx context.Context, cfg config.Config, log *slog.Logger, extra ...report.Sink) (*function, error) {
	policy, err := cfg.LoadPolicy()
	if err != nil {
		return nil, err
	}
	calls := awsclient.NewCallStats()
	s, store, fan, err := wire(ctx, cfg, awsclient.WithCallStats(calls))
	if err != nil {
		return nil, err
	}
	s.Policy, s.Logger = policy, log
	var sinks []report.Sink
	if store != nil {
		sinks = append(sinks, store)
	}
	if sinks = append(sinks, extra...); len(sinks) > 0 {
		s.Sink = report.Fanout(sinks...)
	}
	fn := &function{run: s, store: store, calls: calls, namespace: cfg.MetricsNamespace, fanout: fan}
	fn.fanout.Finished = fn.finished
	return fn, nil
}

// handle runs one invocation and returns the scan summary (empty for
// a fan-out coordinator: see scheduled).
func (f *function) handle(ctx context.Context, raw json.RawMessage) (report.Summary, error) {
	sum, _, err := f.scheduled(ctx, raw)
	return sum, err
}

// scheduled runs one scheduled or manual invocation in the configured mode and
// returns the scan summary, or the coordination of a fan-out run.
func (f *function) scheduled(ctx context.Context, raw json.RawMessage) (report.Summary, *pipeline.Coordination, error) {
	log := f.run.Logger
	inv, err := parseEvent(raw)
	if err != nil {
		log.ErrorContext(ctx, "rejected event", "error", err.Error())
		return report.Summary{}, nil, err
	}
	for _, n := range f.run.Policy.Notices(time.Now()) {
		log.WarnContext(ctx, "policy", "notice", n)
	}
	s := f.run
	s.Trigger, s.OnlyAccounts = inv.Trigger, inv.Accounts
	if inv.DryRun {
		s.Sink = nil
	}
	// A run that writes findings prints its metrics; a dry run prints
	// none: trying the function moves no graph and no alarm.
	var tally *emf.Tally
	if f.metrics != nil && s.Sink != nil {
		tally = emf.NewTally()
		s.Sink = report.Fanout(s.Sink, tally)
	}
	callsBefore := f.calls.Snapshot()
	sum, coord, err := pipeline.Schedule(ctx, s, f.fanout)
	if coord != nil {
		f.writeCalls(ctx, coord.ScanID, callsBefore)
		if err != nil {
			log.ErrorContext(ctx, "fan-out incomplete", "scan_id", coord.ScanID, "error", err.Error())
			return sum, coord, fmt.Errorf("scan %s: %w", coord.ScanID, err)
		}
		return sum, coord, nil
	}
	if tally != nil && sum.ScanID != "" {
		run := emf.Run{Summary: sum, Open: tally.Open(), WholeScope: len(inv.Accounts) == 0,
			Calls: awsclient.Since(f.calls.Snapshot(), callsBefore)}
		if _, werr := emf.Write(f.metrics, f.namespace, run); werr != nil {
			log.ErrorContext(ctx, "metrics not written", "scan_id", sum.ScanID, "error", werr.Error())
		}
	}
	if s.Sink != nil && f.store != nil {
		st := f.store.Stats()
		log.InfoContext(ctx, "findings table written", "scan_id", sum.ScanID, "table", f.store.Table(),
			"writes", st.Writes(), "batch_calls", st.BatchCalls, "resent", st.Resent, "queries", st.Queries)
	}
	if err != nil {
		log.ErrorContext(ctx, "scan failed", "scan_id", sum.ScanID, "error", err.Error())
		return sum, nil, fmt.Errorf("scan %s: %w", sum.ScanID, err)
	}
	return sum, nil, nil
}
