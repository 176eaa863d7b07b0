package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// lambdaMain runs the Lambda function. The configuration, the policy and
// the AWS configuration are loaded and validated once, at cold start; when
// they are bad, the error is logged then and returned by every invocation,
// and nothing is scanned or written.
func lambdaMain() {
	log := lambdacontext.NewLogger()
	fn, err := newFunction(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		lambda.Start(func(context.Context, json.RawMessage) (pipeline.Summary, error) {
			return pipeline.Summary{}, err
		})
		return
	}
	lambda.Start(fn.handle)
}

// function is the Lambda function's state between invocations.
type function struct {
	cfg    config.Config
	policy *rules.Policy
	aws    aws.Config
	sink   report.Sink // nil: scan and evaluate only
	// store is the findings table within sink, when there is one.
	store *dynamo.Store
	log   *slog.Logger
	// progress, when set, follows the run (the demo's progress bar).
	progress func(pipeline.Progress)
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

// buildFunction checks the policy, loads the AWS configuration and builds
// the sinks: the findings table when cfg.Table is set, then extra (the
// demo adds a printer).
func buildFunction(ctx context.Context, cfg config.Config, log *slog.Logger, extra ...report.Sink) (*function, error) {
	policy, err := cfg.LoadPolicy()
	if err != nil {
		return nil, err
	}
	awsCfg, err := pipeline.LoadAWS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	fn := &function{cfg: cfg, policy: policy, aws: awsCfg, log: log}
	var sinks []report.Sink
	if cfg.Table != "" {
		if fn.store, err = newStore(awsCfg, cfg); err != nil {
			return nil, err
		}
		sinks = append(sinks, fn.store)
	}
	sinks = append(sinks, extra...)
	if len(sinks) > 0 {
		fn.sink = pipeline.Fanout(sinks...)
	}
	return fn, nil
}

// handle runs one invocation and returns the scan summary.
func (f *function) handle(ctx context.Context, raw json.RawMessage) (pipeline.Summary, error) {
	inv, err := parseEvent(raw)
	if err != nil {
		f.log.ErrorContext(ctx, "rejected event", "error", err.Error())
		return pipeline.Summary{}, err
	}
	for _, n := range pipeline.PolicyNotices(f.policy, time.Now()) {
		f.log.WarnContext(ctx, "policy", "notice", n)
	}
	sink := f.sink
	if inv.DryRun {
		sink = nil
	}
	sum, err := pipeline.Run(ctx, pipeline.Settings{
		Config:       f.cfg,
		Policy:       f.policy,
		AWS:          f.aws,
		Sink:         sink,
		Trigger:      inv.Trigger,
		OnlyAccounts: inv.Accounts,
		Logger:       f.log,
		Progress:     f.progress,
	})
	if sink != nil && f.store != nil {
		st := f.store.Stats()
		f.log.InfoContext(ctx, "findings table written", "scan_id", sum.ScanID, "table", f.store.Table(),
			"writes", st.Writes(), "batch_calls", st.BatchCalls, "resent", st.Resent, "queries", st.Queries)
	}
	if err != nil {
		f.log.ErrorContext(ctx, "scan failed", "scan_id", sum.ScanID, "error", err.Error())
		return sum, fmt.Errorf("scan %s: %w", sum.ScanID, err)
	}
	return sum, nil
}
