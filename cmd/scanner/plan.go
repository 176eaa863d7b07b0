//go:build !lambda

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/console"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/app/remediate"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

const planSynopsis = `Scan (the same flags as scan), then print the changes that would fix the
findings the policy's remediation section lets it fix: per account, each
configuration to create, update in place or disable, field by field; then what
must be fixed by hand, and why; then a one-line total. It changes nothing.
--out saves the plan as JSON, with a digest of everything it read
(docs/remediation.md).`

// runPlan is `scanner plan`.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "scanner plan: %v\n", err)
		return code
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fail(exitUsage, err)
	}
	fs := newFlagSet("plan", planSynopsis)
	bindConfig(fs, &cfg)
	format := fs.String("format", "text", "output: text (for people) or json (the saved plan)")
	out := fs.String("out", "", "also save the plan as JSON to this file (created, or replaced)")
	verbose := fs.Bool("v", false, "log progress and failures to stderr")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if *format != "text" && *format != "json" {
		return fail(exitUsage, fmt.Errorf("--format %q: want text or json", *format))
	}
	policy, err := scanPolicy(fs, &cfg, "plan", stderr)
	if err != nil {
		return fail(exitUsage, err)
	}
	plan, sum, err := scanAndPlan(ctx, cfg, policy, *verbose, stderr)
	if err != nil {
		return fail(exitCode(err), err)
	}
	return writePlan("plan", plan, sum, *format, *out, stdout, stderr)
}

// scanAndPlan scans with cfg and policy, recording the scan in the
// findings table when cfg has one, and plans from what the scan read:
// `scanner plan` and `scanner demo --plan`. verbose logs progress and
// failures to stderr.
func scanAndPlan(ctx context.Context, cfg config.Config, policy *rules.Policy, verbose bool, stderr io.Writer) (remediate.Plan, report.Summary, error) {
	s, store, _, err := wire(ctx, cfg)
	if err != nil {
		return remediate.Plan{}, report.Summary{}, err
	}
	var reads remediate.Collector
	s.Policy, s.Trigger, s.Tap = policy, "cli", &reads
	if store != nil {
		s.Sink = store // the plan's scan is recorded like any other
	}
	logLevel := slog.LevelError + 1
	if verbose {
		logLevel = slog.LevelInfo
	}
	prog := console.NewProgressBar(stderr)
	s.Progress, s.Logger = prog.Update, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	sum, err := pipeline.Run(ctx, s)
	prog.Done()
	if err != nil {
		return remediate.Plan{}, report.Summary{}, err
	}
	return remediate.NewPlan(reads.Reads(), policy, time.Now()), sum, nil
}

// writePlan prints the plan in format and saves it to path ("" none);
// cmd names the command in its errors.
func writePlan(cmd string, plan remediate.Plan, sum report.Summary, format, path string, stdout, stderr io.Writer) int {
	if path != "" {
		var b bytes.Buffer
		if err := plan.WriteJSON(&b); err != nil {
			fmt.Fprintf(stderr, "scanner %s: %v\n", cmd, err)
			return exitError
		}
		// The plan holds configurations and policies as read: owner only.
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			fmt.Fprintf(stderr, "scanner %s: save the plan: %v\n", cmd, err)
			return exitError
		}
	}
	var err error
	if format == "json" {
		err = plan.WriteJSON(stdout)
	} else {
		err = plan.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanner %s: %v\n", cmd, err)
		return exitError
	}
	fmt.Fprintf(stderr, "plan of scan %s: %s, %s\n", sum.ScanID,
		console.Count(sum.AccountsComplete+sum.AccountsFailed+sum.AccountsIncomplete, "account", ""), console.Count(sum.Buckets, "bucket", ""))
	if path != "" {
		fmt.Fprintf(stderr, "plan saved to %s\n", path)
	}
	return exitOK
}
