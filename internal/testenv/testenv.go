// Package testenv is the test machinery: what tests and benchmarks use to
// stand up the parts a user meets, each tied to one test's lifetime.
//
//   - Dynalite starts a local DynamoDB server (package localserver) for a
//     test; DynamoClient builds a client for it with dummy credentials.
//   - Moto starts moto_server (EventBridge, SQS, Security Hub, STS and
//     more); MotoConfig is an SDK configuration for it.
//   - Sim serves a simulated organization (package awssim) for a test;
//     SimProcess serves one from another process, for the benchmarks that
//     measure the scanner's memory, and ServeSimOrRun is their TestMain.
//   - FaultProxy sits in front of a DynamoDB server and injects its bad
//     days by rule (FaultRule): throttling errors
//     (ProvisionedThroughputExceededException, ThrottlingException), 500
//     InternalServerError, connection resets, delays, and BatchWriteItem
//     answers that leave part of the batch in UnprocessedItems, unwritten.
//     dynalite itself never throttles nor leaves items unprocessed; tests
//     of the findings store point their client at the proxy instead.
//
// A server that cannot start skips the test with the reason when the
// environment variable CI is unset, and fails it when CI is set: in CI a
// missing server is a broken build, not a skip.
//
// Only tests import testenv (a test of the layers says so), so no binary
// links the testing package. Its sub-packages are the other test
// machinery: deploy (the templates against the code), docblock
// (generated documentation kept fresh), e2e (the Lambda Runtime Interface
// Emulator) and liveheap (the live heap of a benchmark).
package testenv

import (
	"os"
	"testing"
)

// unavailable ends t when the server what could not start: a skip with
// the reason without CI, a failure with CI.
func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("%s unavailable (set CI to make this a failure): %v", what, err)
	}
	t.Fatalf("%s unavailable and CI is set: %v", what, err)
}

// closeAtCleanup closes the server what when t's cleanup runs.
func closeAtCleanup(t testing.TB, what string, close func() error) {
	t.Cleanup(func() {
		if err := close(); err != nil {
			t.Errorf("close %s: %v", what, err)
		}
	})
}
