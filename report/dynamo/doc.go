// Package dynamo is the findings table in DynamoDB: a report.Store that the
// Lambda function writes and dashboards query. docs/dynamodb.md describes
// the table, its access patterns and its costs; TableDefinition is the one
// source of truth for its keys and indexes.
//
// # Items
//
// One table holds four kinds of item (attribute "type"):
//
//   - finding: pk ACCOUNT#<account>, sk F#<bucket>#<finding_id>; the
//     current record of a finding (report.Record). Unresolved ones carry
//     open_rule and open_severity, the keys of the sparse indexes
//     open-by-rule and open-by-severity; resolved ones carry expires_at
//     (TTLAttribute) instead.
//   - episode: sk F#<bucket>#<finding_id>#<first_seen>; an earlier,
//     resolved episode of a finding that reappeared, kept for the bucket's
//     history until it expires.
//   - account_scan: pk ACCOUNT#<account>, sk SCAN; the last complete scan
//     of the account (index accounts-scanned).
//   - run: pk RUN#<scan_id>, sk RUN; one scan run, written at Begin and
//     completed at End (index runs).
//
// # Writes
//
// For each account the store reads the account's records once, with one
// Query, at the account's first Put (or at AccountDone for an account
// without findings), applies report.Observe in memory, and writes full
// items with BatchWriteItem, 25 at a time: one write per finding per scan.
// At AccountDone of a COMPLETE account it writes the records it resolves
// and the account's last-complete-scan item, and forgets the account. No
// condition expressions are needed: the Query tells new from seen from
// reopened, and keys are deterministic, so a re-run writes the same items.
// UnprocessedItems are resent with exponential back-off and jitter;
// throttling errors are retried by the SDK's retryer. Stats counts the
// requests and items of a run, and the run item records them.
//
// Runs of the same account must not overlap (the scheduler runs one scan
// at a time): the last writer of a record wins.
package dynamo
