// Package localserver runs the local API servers that tests and the demo
// use in place of AWS (dynalite for DynamoDB, moto_server for EventBridge
// and SQS): a child process on a free loopback port, in its own process
// group so that Close kills it and everything it started, killed with its
// parent on Linux, and with the first line of its error output kept for
// the error that says why it did not start.
package localserver
