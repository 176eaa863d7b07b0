// Package dynalite starts a local DynamoDB-API server, dynalite (an npm
// package pinned in the repository's package.json), for tests and the
// demo. The server keeps its tables in memory and lives as long as the
// returned Server: Close stops its whole process group.
//
// Start finds node on PATH and node_modules/dynalite/cli.js by walking up
// from the working directory to the module root (the directory holding
// go.mod); the environment variable SCANNER_DYNALITE_JS names cli.js
// explicitly. Run `make deps` (npm ci) once to install it.
//
// ForTest is the helper for tests: it starts a server for the test and
// closes it at cleanup. When the server cannot start, the test is skipped
// with a message if the environment variable CI is unset, and fails if CI
// is set. Client builds a DynamoDB client for an endpoint with static
// dummy credentials.
//
// FaultProxy is an HTTP reverse proxy in front of a server that injects
// DynamoDB's bad days by rule (operation from X-Amz-Target, an optional
// substring of the body, how many requests): throttling errors
// (ProvisionedThroughputExceededException, ThrottlingException), 500
// InternalServerError, connection resets, delays, and BatchWriteItem
// answers that leave part of the batch in UnprocessedItems, unwritten.
// dynalite itself never throttles nor leaves items unprocessed; tests of
// the findings store point their client at the proxy instead.
package dynalite
