// Package localserver runs the local API servers that tests and the demo
// use in place of AWS: a child process on a free loopback port, in its own
// process group so that Close kills it and everything it started, killed
// with its parent on Linux, and with the first line of its error output
// kept for the error that says why it did not start.
//
// StartDynalite runs dynalite, a DynamoDB-API server (an npm package
// pinned in the repository's package.json) that keeps its tables in
// memory. It finds node on PATH and node_modules/dynalite/cli.js by
// walking up from the working directory to the module root (the directory
// holding go.mod); the environment variable SCANNER_DYNALITE_JS names
// cli.js explicitly. Run `make deps` (npm ci) once to install it.
//
// StartMoto runs moto_server, a local server of many AWS APIs
// (EventBridge, SQS, Security Hub, ...), which must be on PATH (the
// environment variable SCANNER_MOTO_SERVER names it explicitly).
//
// The helpers that start these servers for one test live in
// internal/testenv.
package localserver
