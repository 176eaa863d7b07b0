// Package moto starts moto_server, a local server of many AWS APIs
// (EventBridge, SQS, Security Hub, ...), for tests of the code that
// talks to them over the wire. moto_server must be on PATH (the
// environment variable SCANNER_MOTO_SERVER names it explicitly).
//
// Start runs it on a free loopback port, in its own process group, and
// returns once it answers HTTP; Close kills the group. ForTest starts a
// server for one test and closes it at cleanup: when the server cannot
// start, the test is skipped with the reason if the environment variable
// CI is unset, and fails if CI is set. Config returns an SDK
// configuration for the server (static dummy credentials, us-east-1, the
// server as every service's endpoint).
package moto
