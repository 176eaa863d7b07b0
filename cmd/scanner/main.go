// Command scanner checks the S3 Inventory configurations of every bucket of
// every account of an AWS Organization and reports what is wrong.
//
// It runs as an AWS Lambda function when AWS_LAMBDA_RUNTIME_API is set, and
// as a command line tool otherwise:
//
//	scanner scan [flags]       scan the organization (or a list of accounts)
//	scanner findings [flags]   query the findings table
//	scanner rules              list the rule catalogue
//	scanner demo [flags]       scan a built-in simulated organization
//	scanner dashboard [flags]  serve the findings table as a web page
//
// The Lambda build (-tags lambda, see the Makefile) leaves the command
// line out: the function links only what it runs, not the terminal
// output, the demo or the simulated organization.
//
// This package only wires: it parses arguments and events, loads the
// configuration and the AWS clients, and hands them to the pipeline
// (internal/app/pipeline) and the presentation (internal/app/console).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the run failed, or not one account in scope could be scanned
	exitUsage    = 2 // bad flags, configuration or input
	exitFindings = 3 // --fail-on: an open finding at or above the threshold
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		lambdaMain()
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
