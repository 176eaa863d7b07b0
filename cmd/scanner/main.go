//go:build !lambda

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// main is the entry point of the command line (make scanner). Run by
// Lambda (AWS_LAMBDA_RUNTIME_API set), it is the scanner's function, as
// the build with -tags lambda is.
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
