//go:build lambda && !widget

package main

import "os"

// main is the entry point of the scanner's function, which the fan-out
// workers run too (-tags lambda,lambda.norpc; make build).
func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		os.Exit(noCommandLine(os.Stderr))
	}
	lambdaMain()
}
