// Package dynamo is the findings table in DynamoDB: a report.Store that the
// Lambda function writes and dashboards query. docs/dynamodb.md describes
// the table, its access patterns and its costs; TableDefinition is the one
// source of truth for its keys and indexes.
//
// # Items
//
// One table holds five kinds of item (attribute "type"):
//
//   - finding: pk ACCOUNT#<account>, sk F#<bucket>#<finding_id>; the
//     current record of a finding (report.Record). Unresolved ones carry
//     open_rule and open_severity, the keys of the sparse indexes
//     open-by-rule and open-by-severity; resolved ones carry expires_at
//     (TTLAttribute) and resolution (NOT_SEEN, or OUT_OF_SCOPE_<reason>
//     for an account that left the scope) instead. Unresolved coverage
//     findings carry open_coverage (index open-coverage); every current
//     record carries changed_in and change_sort, the scan that last
//     opened, reopened or resolved it (index changes); WAIVED ones with
//     an end date carry waiver_feed (index waivers).
//   - episode: sk F#<bucket>#<finding_id>#<first_seen>; an earlier,
//     resolved episode of a finding that reappeared, kept for the bucket's
//     history until it expires.
//   - account_scan: pk ACCOUNT#<account>, sk SCAN; the last complete scan
//     of the account (indexes accounts-scanned and worst-accounts).
//   - fence: pk ACCOUNT#<account>, sk FENCE; scan_id, the newest scan
//     that claimed the account (see "Overlapping runs"), and claimed_at.
//   - run: pk RUN#<scan_id>, sk RUN; one scan run, written at Begin and
//     completed at End (index runs).
//
// # Paged reads
//
// The paged queries of report.Querier (OpenPage, ChangesPage,
// WaiversPage, RunsPage, WorstAccountsPage) each send exactly one Query
// with a Limit of the page's size plus one (four times that with a
// filter expression, at most report.MaxPageLimit+1), and return as the
// next page's token the key of the last item the page holds (or the
// LastEvaluatedKey), which the next call hands back as
// ExclusiveStartKey. A token names its listing and partition; one of
// another listing, or not a token at all, is a one-line error, and
// nothing is read.
//
// # Writes
//
// For each account the store claims the account's fence and reads the
// account's records once, with one strongly consistent Query of the
// table (never an index), at the account's first Put (or at AccountDone
// for an account without findings), applies report.Observe in memory,
// and writes full items with BatchWriteItem, 25 at a time: one write per
// finding per scan. At AccountDone of a COMPLETE account it writes the
// records it resolves and the account's last-complete-scan item, and
// forgets the account. The Query tells new from seen from reopened, and
// keys are deterministic, so a re-run writes the same items.
// UnprocessedItems are resent with exponential back-off and jitter;
// throttling errors are retried by the SDK's retryer, and a throttling
// error that outlasts it (its attempts or its retry quota) is resent the
// same way as UnprocessedItems. Every Query is guarded against a repeated
// LastEvaluatedKey and endless pages: a broken listing is an error, never
// a loop, and never a partial read the lifecycle would resolve on. Stats
// counts the requests and items of a run, and the run item records them.
//
// # Failed writes
//
// A batch that cannot be written (an error that outlasts the retries) is
// dropped: it is never resent with the next batch, so one failure costs
// at most 25 writes. Put returns the error, the account's later findings
// are still written, and its AccountDone resolves nothing, does not
// record a complete scan and returns report.ErrNotWritten: the caller
// counts the account INCOMPLETE (report.WriteFailure). The other accounts
// and the run record (End) are written as usual.
//
// # Overlapping runs
//
// Two runs may overlap on one table (a CLI run during the scheduled one).
// Scan IDs sort by start time, and the newer scan wins each account:
//
//   - before anything else of an account, a run claims its fence with a
//     conditional UpdateItem (scan_id absent or not newer than its own);
//     if a newer scan holds it, the run is superseded for that account;
//   - before each batch of the account and before resolving, it re-reads
//     the fence, strongly consistent; if a newer scan has claimed it
//     since, the run writes nothing more of the account;
//   - a superseded account's Put, AccountDone and CloseOutOfScope return
//     a *report.SupersededError (report.ErrSuperseded) naming the newer
//     scan; what it had queued is dropped, nothing is resolved, and the
//     caller counts the account INCOMPLETE with the code Superseded. Its
//     other accounts and its run record are written.
//
// This costs one UpdateItem per account and one consistent GetItem per
// batch, not per item (Stats.Fences). BatchWriteItem takes no
// conditions, and dynalite has no transactions, so a window remains: a
// batch the older run sent after its last fence check can land after the
// newer run claimed the account, overwriting up to 25 of the newer run's
// items (the window is one request long, between a GetItem and the
// BatchWriteItem that follows it). The newer run's later batches and its
// next scan correct them; a finding wrongly left as last seen by the
// older run is at worst one scan stale, and one it resolved reopens as a
// new episode at the next scan that sees it.
//
// # Out-of-scope accounts
//
// CloseOutOfScope finds the accounts with unresolved findings on the
// index open-by-severity (one Query per severity, projecting account_id;
// an index is eventually consistent, so this only nominates accounts),
// then claims each account out of scope, reads its records strongly
// consistent, and resolves its OPEN and WAIVED findings with the
// resolution OUT_OF_SCOPE_<reason>, through the same fenced batches.
package dynamo
