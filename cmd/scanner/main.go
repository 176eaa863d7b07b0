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
//
// main only wires: configuration, logging, the AWS configuration, and the
// pipeline that does the work (internal/pipeline).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

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
