// Package report receives the findings of a scan and stores or prints them.
//
// Every destination implements [Sink]: the scanner calls Begin once, then
// Put (concurrently for different accounts) and AccountDone for each
// account, then End. A sink is reusable: a Lambda function keeps one
// between invocations and each invocation is a new Begin … End run.
//
// The sinks:
//
//   - [JSON]: one finding per line (JSON Lines) to an io.Writer, in the
//     scanner's public output format (the JSON form of rules.Finding);
//   - [CSV]: one finding per row, with a header;
//   - [Table]: an aligned table for people (severity, rule, account,
//     bucket, configuration, message), its severities coloured by the
//     painter the caller gives (WithPaint; the colours are package
//     console's), its cells made printable ([Printable]);
//   - [OCSF]: one OCSF Compliance Finding per line, for SIEMs;
//   - [Memory]: keeps every finding with its lifecycle, for tests and the
//     demo;
//   - package report/dynamo: the findings table in DynamoDB, the store the
//     Lambda function writes and dashboards query.
//
// # Lifecycle
//
// The stores (Memory, DynamoDB) keep one [Record] per finding ID and apply
// the same lifecycle, defined once ([Observe], [Resolve], and
// report/internal/lifecycle's Resolver):
//
//   - a finding seen for the first time is stored with first_seen =
//     last_seen = the scan's observation time;
//   - seen again, its first_seen is kept and its last_seen updated; the
//     same findings put twice never make two records;
//   - AccountDone with a COMPLETE account resolves the account's OPEN and
//     WAIVED records that this scan did not produce, except those on
//     buckets the scan could not read (AccountResult.Unreadable); they get
//     resolved_at and an expiry (the retention, 90 days by default);
//   - AccountDone with any other status (role unavailable, buckets not
//     listed, cut short) resolves nothing; nor does a COMPLETE account
//     whose findings were not all written (ErrNotWritten) or that a newer
//     scan holds (ErrSuperseded): the caller counts it INCOMPLETE with the
//     code WriteFailure gives (WriteFailed, Superseded);
//   - a resolved record says why (Record.Resolution): NOT_SEEN when a
//     complete scan no longer produced it, OUT_OF_SCOPE_<reason> when its
//     account left the scope (below);
//   - a resolved finding seen again is reopened: OPEN or WAIVED again,
//     resolved_at and expiry removed, and a new episode begins with
//     first_seen = the scan's observation time. Both stores keep the
//     earlier episode as a history record of the bucket (Record.History).
//
// What the two stores share is defined once: here when it is about this
// package's types ([Observe], [Resolve], [NewTransition], [SortRecords]
// and [NewAccountScan], exported for the DynamoDB store), and in packages
// internal to report when it is not: report/internal/lifecycle (the
// precision of stored times, what a store needs of a finding, which
// records a closed account resolves) and report/internal/paging (page
// tokens, the checks of the paged queries' arguments, the order of a
// scan's changes).
//
// # Changes
//
// Each store reports every change of a finding's state that a scan
// decides ([Transition]: opened, reopened, resolved, waived, waiver
// expired), derived once in this package ([NewTransition]) from the record
// before and after, to StoreOptions.OnTransition, once the change is
// written: a change whose write failed, or that a newer run refused, is
// not reported, and a finding seen again unchanged is no change.
// [TransitionLog] gathers them for the pipeline, which counts them in the
// run's summary and hands them to package report/events; a log that
// streams ([TransitionLog.Stream]) hands them over in batches as they
// come, so a run holds one batch of its changes, not all of them.
//
// # OCSF
//
// [OCSF] writes a scan's findings, and [WriteOCSF] a query's records, as
// OCSF Compliance Findings ([NewOCSFFinding]: class 2003, schema
// [OCSFVersion]).
//
// # Out-of-scope accounts
//
// After a complete discovery from AWS Organizations (ScopeOf), the stores'
// CloseOutOfScope ([ScopeCloser]) resolves the OPEN and WAIVED findings of
// every account that is no longer in scope, with the resolution
// OUT_OF_SCOPE_<reason>: the account's Organizations state (SUSPENDED,
// PENDING_CLOSURE, CLOSED), EXCLUDED when the filters leave it out, or
// REMOVED when the organization no longer lists it. They leave the open
// findings queries and expire after the retention like any resolved
// record; the account's findings reopen if it comes back in scope and they
// are seen again. Never call it after a failed or partial discovery.
//
// # Overlapping runs
//
// Two runs may overlap on one store (a CLI run during the scheduled one).
// The newer scan (scan IDs sort by start time) holds each account it has
// touched; the older run's writes of that account are refused with
// [ErrSuperseded] and it resolves nothing there, so it never flips the
// newer run's findings. Memory.Share gives a second in-memory store on the
// same records, to test this; package report/dynamo documents how the
// DynamoDB store fences accounts, and its residual window.
//
// [Fanout] hands a run to several sinks (a store and the terminal) and
// forwards CloseOutOfScope to those that are stores.
//
// # Queries
//
// The stores implement [Store]: a Sink plus a [Querier] that answers what
// dashboards ask (open findings by account, by rule, by severity newest
// first; one bucket's history; the latest runs; the last complete scan of
// each account), leaving out expired records. [StoreOptions] sets the
// retention and the clock.
//
// # Summary
//
// A [SummaryCounter] keeps the figures of a scan run as it goes: accounts
// complete, failed and incomplete, buckets and configurations read,
// findings by severity and by rule, the accounts not fully scanned and the
// worst accounts and buckets. The Lambda function returns a [Summary], the
// command line prints it (package console), and dashboards show the same
// figures; [MergeSummaries] adds up the workers' parts of a fan-out run.
//
// Package report/sinktest is the conformance suite every sink passes
// (RunSinkTests), and every store too (RunStoreTests, through its
// Querier).
package report
