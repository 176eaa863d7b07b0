// Package sinktest is the conformance suite of report.Sink, after
// go-cloud's drivertest: every sink runs RunSinkTests, and every store
// (a sink that keeps findings with their lifecycle and answers queries,
// report.Store) also runs RunStoreTests.
//
// RunSinkTests checks the calling contract (Begin, then Put and
// AccountDone, then End; ErrNoRun out of order), concurrent Puts for
// different accounts, reuse across runs, and that every finding put comes
// out (decoded from a stream's output, or read back from a store).
//
// RunStoreTests checks the lifecycle defined in package report through
// the store's queries: first and last seen, resolution only after a
// complete scan of the account, never on unreadable buckets or after an
// incomplete or failed scan, reopening with an archived episode, expiry
// after the retention, idempotent re-runs, waivers kept, invalid findings
// rejected with nothing written, each query, out-of-scope accounts closed
// with their own resolution, and overlapping runs on two stores of the
// same backing (the older run never flips the newer one's findings).
//
// Generate builds large, realistic sets of findings for benchmarks and
// load tests.
package sinktest
