// Package pipeline runs one scan end to end — accounts, roles, buckets,
// configurations, rules, findings, table — the same way for the Lambda
// function, the command line and the demo:
//
//	config.Config + aws.Config
//	  → scan.OrganizationAccounts / scan.StaticAccounts   which accounts
//	  → scan.Scanner (RoleConnector)                      what each account holds
//	  → rules.Evaluator                                   what is wrong with it
//	  → report.Sink                                       where the findings go
//
// Each account is a unit of work: its findings are written, and its stale
// findings resolved, as soon as that account is finished.
package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// Settings are the inputs of one run.
type Settings struct {
	// Config holds the accounts, role and concurrency settings. Its policy
	// settings are not read here: load them once with Config.LoadPolicy
	// and pass the result as Policy.
	Config config.Config
	// Policy configures the rules; nil is the built-in default.
	Policy *rules.Policy
	// AWS is the SDK configuration (see LoadAWS).
	AWS aws.Config
	// Sink receives the findings; nil makes a dry run that writes nothing.
	Sink report.Sink
	// Trigger names what started the run: schedule, manual, cli, demo.
	Trigger string
	// OnlyAccounts, when set, limits the run to these of the discovered
	// accounts (a manual invocation's selection).
	OnlyAccounts []string
	// Logger receives progress and failures (default: discard).
	Logger *slog.Logger
	// Progress, when set, is called after each bucket and each account.
	Progress func(Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Progress is a snapshot of a running scan.
type Progress struct {
	AccountsDone, AccountsTotal int
	Buckets                     int
	Findings                    int
}

// LoadAWS loads the SDK's standard configuration (credentials, region,
// AWS_ENDPOINT_URL*, retries) with an HTTP client sized for the scanner's
// concurrency, so every request in flight keeps its connection.
func LoadAWS(ctx context.Context, c config.Config, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*awsconfig.LoadOptions) error{awsconfig.WithHTTPClient(scan.NewHTTPClient(c.ScanOptions()))}, optFns...)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, fmt.Errorf("AWS region: none configured; set AWS_REGION (for example us-east-1)")
	}
	return cfg, nil
}

// pathStyleForCustomEndpoints makes S3 use path-style addressing whenever
// its endpoint is not AWS's own (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 or
// endpoint_url in the profile): a custom host has no per-bucket DNS names.
func pathStyleForCustomEndpoints(o *s3.Options) {
	if o.BaseEndpoint != nil {
		o.UsePathStyle = true
	}
}

// Run performs one scan and returns its summary. The error is non-nil when
// the run could not start (bad policy, accounts not listable) or when
// findings could not be written; coverage gaps are findings, not errors.
func Run(ctx context.Context, s Settings) (Summary, error) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	org, err := discover(ctx, s)
	if err != nil {
		return Summary{}, err
	}
	opts := s.Config.ScanOptions()
	opts.Logger, opts.Now = s.Logger, s.Now
	scanner, err := scan.New(&scan.RoleConnector{
		STS:       sts.NewFromConfig(s.AWS),
		Base:      s.AWS,
		Role:      s.Config.Role(scan.PartitionOf(s.AWS.Region)),
		S3Options: []func(*s3.Options){pathStyleForCustomEndpoints},
	}, opts)
	if err != nil {
		return Summary{}, err
	}

	started := s.Now().UTC()
	run := report.Run{ScanID: NewScanID(started), Trigger: s.Trigger, StartedAt: started}
	h := newHandler(rules.NewEvaluator(s.Policy, org), s.Sink, run.ScanID, s.Now, len(org.Targets), s.Progress)
	log := s.Logger.With("scan_id", run.ScanID)
	log.InfoContext(ctx, "scan started", "trigger", s.Trigger, "accounts", len(org.Targets), "dry_run", s.Sink == nil)

	if s.Sink != nil {
		if err := s.Sink.Begin(ctx, run); err != nil {
			return Summary{}, fmt.Errorf("begin scan %s: %w", run.ScanID, err)
		}
	}
	scanErr := scanner.Scan(ctx, org.Targets, h)
	sum := h.summary(run)
	sum.FinishedAt = s.Now().UTC()
	if s.Sink != nil {
		// The run record is written even when the context is spent: it
		// is what tells a dashboard the run happened.
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.Sink.End(endCtx, sum.Run); err != nil {
			scanErr = errors.Join(scanErr, fmt.Errorf("end scan %s: %w", run.ScanID, err))
		}
	}
	// One line per run with the figures the SAM template's metric filter
	// and alarms read (coverage_findings, accounts_failed, ...).
	log.InfoContext(ctx, "scan finished", "trigger", s.Trigger, "accounts_complete", sum.AccountsComplete,
		"accounts_failed", sum.AccountsFailed, "accounts_incomplete", sum.AccountsIncomplete,
		"buckets", sum.Buckets, "configs", sum.Configs, "findings", sum.Findings(), "findings_open", sum.Open(),
		"findings_waived", sum.Waived, "coverage_findings", sum.Coverage(),
		"duration_ms", sum.Duration().Milliseconds())
	return sum, scanErr
}

// PolicyNotices are the policy's warnings and the waivers that have
// expired at now, one line each, for the caller to log or print.
func PolicyNotices(p *rules.Policy, now time.Time) []string {
	out := p.Warnings()
	for _, w := range p.ExpiredWaivers(now) {
		out = append(out, fmt.Sprintf("the waiver of %s for account %s, buckets %q, expired on %s: its findings are open again",
			w.Rule, w.Account, w.Bucket, w.Expires))
	}
	return out
}

// discover returns the accounts to scan.
func discover(ctx context.Context, s Settings) (inventory.Org, error) {
	var (
		org inventory.Org
		err error
	)
	if s.Config.AccountSource == config.SourceStatic {
		org, err = scan.StaticAccounts(s.Config.Accounts)
	} else {
		// Organizations is a global service answered in us-east-1 (or the
		// partition's equivalent, which the SDK resolves).
		api := organizations.NewFromConfig(s.AWS)
		org, err = scan.OrganizationAccounts(ctx, api, s.Config.Filter)
	}
	if err != nil {
		return inventory.Org{}, fmt.Errorf("discover accounts: %w", err)
	}
	if len(s.OnlyAccounts) > 0 {
		for _, id := range s.OnlyAccounts {
			if !slices.ContainsFunc(org.Targets, func(a inventory.Account) bool { return a.ID == id }) {
				return inventory.Org{}, fmt.Errorf("account %s: not among the accounts to scan (ACTIVE and selected by the filters)", id)
			}
		}
		org.Targets = slices.DeleteFunc(org.Targets, func(a inventory.Account) bool {
			return !slices.Contains(s.OnlyAccounts, a.ID)
		})
	}
	return org, nil
}

// NewScanID returns a scan ID that sorts by start time:
// 20261125T003304Z-1a2b3c.
func NewScanID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
