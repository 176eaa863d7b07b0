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
//     bucket, configuration, message), optionally coloured;
//   - [Memory]: keeps every finding with its lifecycle, for tests and the
//     demo;
//   - package report/dynamo: the findings table in DynamoDB, the store the
//     Lambda function writes and dashboards query.
//
// # Lifecycle
//
// The stores (Memory, DynamoDB) keep one [Record] per finding ID and apply
// the same lifecycle, defined once in this package ([Observe], [Resolve],
// [Resolver]):
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
//     listed, cut short) resolves nothing;
//   - a resolved finding seen again is reopened: OPEN or WAIVED again,
//     resolved_at and expiry removed, and a new episode begins with
//     first_seen = the scan's observation time. Both stores keep the
//     earlier episode as a history record of the bucket (Record.History).
//
// # Queries
//
// The stores implement [Store]: a Sink plus a [Querier] that answers what
// dashboards ask (open findings by account, by rule, by severity newest
// first; one bucket's history; the latest runs; the last complete scan of
// each account), leaving out expired records. [StoreOptions] sets the
// retention and the clock.
//
// Package report/sinktest is the conformance suite every sink passes
// (RunSinkTests), and every store too (RunStoreTests, through its
// Querier).
package report
