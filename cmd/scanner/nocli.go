//go:build lambda

package main

import (
	"context"
	"fmt"
	"io"
)

// run is the command line of the Lambda build: there is none.
func run(_ context.Context, _ []string, _, stderr io.Writer) int {
	fmt.Fprintf(stderr, "scanner %s: this is the Lambda build (-tags lambda), which has no command line; build without the tag (make scanner)\n", version)
	return exitUsage
}
