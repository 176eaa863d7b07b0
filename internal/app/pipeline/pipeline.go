// Package pipeline runs one scan end to end — accounts, roles, buckets,
// configurations, rules, findings, table — the same way for the Lambda
// function, the command line and the demo:
//
//	Settings (config.Config, clients, policy, sink)
//	  → scan.OrganizationAccounts / scan.StaticAccounts   which accounts
//	  → scan.Scanner (Settings.Connector)                 what each account holds
//	  → rules.Evaluator                                   what is wrong with it
//	  → report.Sink                                       where the findings go
//	  → report.SummaryCounter                                   the run's figures
//
// It only orchestrates: the caller builds the AWS clients (the
// Organizations API and the scan.Connector that opens each account) and
// the sinks, so tests inject their own. Each account is a unit of work: its
// findings are written, and its stale findings resolved, as soon as that
// account is finished.
//
// Destination checks (INV-110 to INV-115, SCAN-005) are part of the
// source account's unit of work: the scanner reads the destinations of an
// account's enabled configurations once its buckets are read (each
// destination bucket policy and key once per run, shared by every
// account that delivers there), the handler evaluates them and writes
// their findings, and only then is the account closed. The findings are
// the source's: INV-11x findings carry the source account, bucket and
// configuration ID; a SCAN-005 finding the source account and the
// destination bucket's name, once per destination and cause. A source
// bucket with a configuration whose destination could not be verified is
// named in the account's AccountResult.Unverified, so its earlier
// destination findings are kept, not resolved.
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

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/base/inventory"
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
	// Organizations lists the accounts when Config.AccountSource is
	// organizations (unused for a static list).
	Organizations scan.OrganizationsAPI
	// Connector opens each member account (scan.RoleConnector in
	// production).
	Connector scan.Connector
	// Sink receives the findings; nil makes a dry run that writes nothing.
	Sink report.Sink
	// Transitions, when set, is the log the stores among the sinks report
	// to (report.StoreOptions.OnTransition = Transitions.Record): the run
	// takes its own transitions from it, counts them in the summary
	// (Summary.Changes) and hands them to the Publisher.
	Transitions *report.TransitionLog
	// Publisher, when set, receives the run's transitions and its summary
	// once the run has ended (EventBridge events); one that can publish
	// changes alone (ChangePublisher) receives them in batches of 1,000
	// while the run goes on, past that many (changeStream).
	Publisher Publisher
	// Exporter, when set, receives the run's transitions once the run has
	// ended (in batches while it goes on, as the Publisher does), before
	// the Publisher (Security Hub): the scan's event carries what it
	// counted.
	Exporter Exporter
	// Trigger names what started the run: schedule, manual, cli, demo.
	Trigger string
	// OnlyAccounts, when set, limits the run to these of the discovered
	// accounts (a manual invocation's selection).
	OnlyAccounts []string
	// Logger receives progress and failures (default: discard).
	Logger *slog.Logger
	// Progress, when set, is called after each bucket and each account.
	Progress func(report.Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Tap, when set, receives what the scan read, as it reads it (a run
	// of Run only; scanner plan keeps it for the planner).
	Tap Tap

	// discovered, when set, are the accounts already discovered (a
	// scheduled run that decided not to fan out, fanout.go).
	discovered *inventory.Org
}

// Tap receives what a run read: the organization and the scan's ID once,
// before the accounts, then each bucket's result, each account's
// destination checks and each account's close (with its final status),
// from several goroutines at once.
type Tap interface {
	Begin(org inventory.Org, scanID string)
	Bucket(r inventory.BucketResult)
	Destinations(acct inventory.Account, checks []inventory.DestinationCheck)
	Account(r inventory.AccountResult)
}

// Publisher publishes what a run changed and its summary. It reports how
// many events it could not publish (counted in Summary.EventsFailed) and
// why; a failure to publish does not fail the run.
type Publisher interface {
	Publish(ctx context.Context, ts []report.Transition, sum report.Summary) (failed int, err error)
}

// Exporter imports what a run changed into another findings service. It
// reports what it imported and could not (Summary.SecurityHub), and why;
// a failure to export does not fail the run.
type Exporter interface {
	Export(ctx context.Context, ts []report.Transition) (report.SecurityHubCounts, error)
}

// Run performs one scan and returns its summary. The error is non-nil when
// the run could not start (bad policy, accounts not listable) or when
// findings could not be written; coverage gaps are findings, not errors.
func Run(ctx context.Context, s Settings) (report.Summary, error) {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	org, err := discover(ctx, s)
	if err != nil {
		return report.Summary{}, err
	}
	eval, scanner, err := newScanner(s, org)
	if err != nil {
		return report.Summary{}, err
	}

	started := s.Now().UTC()
	run := report.Run{ScanID: NewScanID(started), Trigger: s.Trigger, StartedAt: started}
	// Findings are written with a context of their own: when ctx is
	// cancelled (SIGTERM on the command line), the scanner starts no AWS
	// call more and closes the accounts it cut short as INCOMPLETE, and
	// what it read is still written, for at most writeGrace.
	writeCtx, stopWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWrites()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(writeGrace, stopWrites) })()
	h := &handler{eval: eval, sink: s.Sink, writeCtx: writeCtx, scanID: run.ScanID, now: s.Now,
		count: report.NewSummaryCounter(len(org.Targets), s.Progress), log: s.Logger, tap: s.Tap}
	if s.Tap != nil {
		s.Tap.Begin(org, run.ScanID)
	}
	log := s.Logger.With("scan_id", run.ScanID)
	log.InfoContext(ctx, "scan started", "trigger", s.Trigger, "accounts", len(org.Targets), "dry_run", s.Sink == nil)

	if s.Sink != nil {
		if err := s.Sink.Begin(ctx, run); err != nil {
			return report.Summary{}, fmt.Errorf("begin scan %s: %w", run.ScanID, err)
		}
	}
	changes := streamChanges(ctx, s, run.ScanID, log)
	defer changes.stop()
	scanErr := scanner.Scan(ctx, org.Targets, h)
	closed, err := closeOutOfScope(writeCtx, s, org, run.ScanID)
	if err != nil {
		scanErr = errors.Join(scanErr, err)
	}
	sum := h.count.Summary(run)
	sum.OutOfScopeClosed = closed
	sum.FinishedAt = s.Now().UTC()
	if s.Sink != nil {
		// The run record is written even when the context is spent: it
		// is what tells a dashboard the run happened.
		endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeGrace)
		defer cancel()
		if err := s.Sink.End(endCtx, sum.Run); err != nil {
			scanErr = errors.Join(scanErr, fmt.Errorf("end scan %s: %w", run.ScanID, err))
		}
	}
	publish(ctx, s, &sum, changes, log)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		// Interrupted: what was read is written, the accounts cut short
		// are INCOMPLETE (SCAN-004), and the run failed.
		scanErr = errors.Join(scanErr, fmt.Errorf("interrupted (%w): %d of %d accounts complete", err, sum.AccountsComplete, len(org.Targets)))
	} else if n := len(org.Targets); n > 0 && sum.AccountsComplete == 0 && sum.Buckets == 0 {
		scanErr = errors.Join(scanErr, noAccountScanned(n, sum))
	}
	// One line per run with its figures, for Logs Insights; the metrics
	// are the Lambda's EMF lines (internal/emf).
	log.InfoContext(ctx, "scan finished", "trigger", s.Trigger, "accounts_complete", sum.AccountsComplete,
		"accounts_failed", sum.AccountsFailed, "accounts_incomplete", sum.AccountsIncomplete,
		"buckets", sum.Buckets, "configs", sum.Configs, "findings", sum.Findings(), "findings_open", sum.Open(),
		"findings_waived", sum.Waived, "coverage_findings", sum.Coverage(), "out_of_scope_closed", sum.OutOfScopeClosed,
		"findings_opened", sum.Changes.Opened, "findings_reopened", sum.Changes.Reopened, "findings_resolved", sum.Changes.Resolved,
		"events_failed", sum.EventsFailed, "duration_ms", sum.Duration().Milliseconds())
	if h := sum.SecurityHub; h != nil {
		log.InfoContext(ctx, "security hub export", "imported", h.Imported, "failed", h.Failed,
			"not_enabled", h.NotEnabled, "skipped", h.Skipped)
	}
	return sum, scanErr
}

// publish takes the run's transitions from the log (those its change
// stream, if any, did not hand over already), counts them in the summary
// with the streamed ones, hands them to the exporter, then with the
// summary to the publisher, each with a context of its own (like the run
// record, the changes of a run cut short are still sent, for at most
// writeGrace each).
func publish(ctx context.Context, s Settings, sum *report.Summary, changes *changeStream, log *slog.Logger) {
	changes.stop()
	var (
		ts    []report.Transition
		stale int
	)
	if s.Transitions != nil {
		ts, stale = s.Transitions.Take(sum.ScanID)
	}
	sum.Changes = report.CountTransitions(ts)
	if stale += changes.addTo(sum); stale > 0 {
		log.WarnContext(ctx, "changes of an earlier, abandoned run not published", "changes", stale)
	}
	if s.Sink == nil {
		return
	}
	export(ctx, s, ts, sum, log)
	if s.Publisher == nil {
		return
	}
	pubCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeGrace)
	defer cancel()
	failed, err := s.Publisher.Publish(pubCtx, ts, *sum)
	sum.EventsFailed += failed
	if err != nil {
		log.ErrorContext(ctx, "events not published", "events_failed", failed, "error", err)
	}
}

// newScanner returns the rules' evaluator and the scanner of the accounts
// of org, for a run (Run) or one account of a fan-out run (Work) alike.
// The scanner reads destinations only when the policy enables one of the
// destination checks, and of at most the policy's findings_per_bucket
// configurations of a bucket.
func newScanner(s Settings, org inventory.Org) (*rules.Evaluator, *scan.Scanner, error) {
	eval := rules.NewEvaluator(s.Policy, org)
	opts := s.Config.ScanOptions()
	opts.Logger, opts.Now = s.Logger, s.Now
	opts.Destinations, opts.Organization = eval.ReadsDestinations(), org
	opts.DestinationsPerBucket = eval.FindingsPerBucket()
	scanner, err := scan.New(s.Connector, opts)
	return eval, scanner, err
}

// export imports a run's (or a fan-out worker's) changes into Security
// Hub when s.Exporter is set, and adds what it did to sum.
func export(ctx context.Context, s Settings, ts []report.Transition, sum *report.Summary, log *slog.Logger) {
	if s.Exporter == nil {
		return
	}
	expCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeGrace)
	defer cancel()
	counts, err := s.Exporter.Export(expCtx, ts)
	total := counts
	if sum.SecurityHub != nil {
		total = addHub(*sum.SecurityHub, counts)
	}
	sum.SecurityHub = &total
	if err != nil {
		log.ErrorContext(ctx, "findings not all exported to Security Hub", "imported", counts.Imported, "failed", counts.Failed, "error", err)
	}
}

// closeOutOfScope closes the findings of the accounts that are no longer
// in scope (suspended, closed, excluded by the filters, gone from the
// organization). Only a complete discovery from AWS Organizations, in a
// run of every account in scope, can tell: a static list or a run limited
// to some accounts closes nothing.
func closeOutOfScope(ctx context.Context, s Settings, org inventory.Org, scanID string) (int, error) {
	closer, ok := s.Sink.(report.ScopeCloser)
	if !ok || !org.FromOrganizations || len(s.OnlyAccounts) > 0 {
		return 0, nil
	}
	scope, err := report.ScopeOf(org, s.Now().UTC())
	if err != nil {
		return 0, err
	}
	n, err := closer.CloseOutOfScope(ctx, scanID, scope)
	if err != nil {
		return n, fmt.Errorf("close the findings of accounts out of scope: %w", err)
	}
	if n > 0 {
		s.Logger.InfoContext(ctx, "findings of accounts out of scope closed", "scan_id", scanID, "findings", n, "accounts_out_of_scope", len(org.OutOfScope))
	}
	return n, nil
}

// writeGrace is how long findings and the run record may still be
// written once the run is interrupted.
const writeGrace = 10 * time.Second

// ErrNoAccountScanned is the error of a run in which not one account in
// scope could be scanned: no credentials, or every role denied. Accounts
// that could not be scanned while others were are coverage findings, not
// a failed run.
var ErrNoAccountScanned = errors.New("not one account in scope could be scanned")

// noAccountScanned wraps ErrNoAccountScanned with the first reason.
func noAccountScanned(n int, sum report.Summary) error {
	why := ""
	if len(sum.Failed) > 0 && sum.Failed[0].Failure != nil {
		f := sum.Failed[0]
		why = fmt.Sprintf("; account %s: %s, %s: %s", f.Account.ID, f.Status, f.Failure.Code, f.Failure.Message)
	}
	return fmt.Errorf("%w (%d in scope%s)", ErrNoAccountScanned, n, why)
}

// discover returns the accounts to scan.
func discover(ctx context.Context, s Settings) (inventory.Org, error) {
	if s.discovered != nil {
		return *s.discovered, nil
	}
	var (
		org inventory.Org
		err error
	)
	if s.Config.AccountSource == config.SourceStatic {
		org, err = scan.StaticAccounts(s.Config.Accounts)
	} else {
		// Organizations is a global service answered in us-east-1 (or the
		// partition's equivalent, which the SDK resolves).
		if s.Organizations == nil {
			return inventory.Org{}, errors.New("discover accounts: no Organizations client")
		}
		org, err = scan.OrganizationAccounts(ctx, s.Organizations, s.Config.Filter)
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

// NewScanID returns a scan ID that sorts by start time, to the
// millisecond: 20261125T003304.512Z-1a2b3c. Stores order overlapping runs
// by it (the newer run holds an account), so two runs started in the same
// second still compare by when they started; the random suffix only
// breaks ties within a millisecond.
func NewScanID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return t.UTC().Format("20060102T150405.000Z") + "-" + hex.EncodeToString(b)
}
