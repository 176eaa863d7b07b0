//go:build lambda

package main

import (
	"fmt"
	"io"
)

// noCommandLine is what the function builds (-tags lambda) do when run
// outside Lambda: they have no command line, and say so.
func noCommandLine(stderr io.Writer) int {
	fmt.Fprintf(stderr, "scanner %s: this is the Lambda build (-tags lambda), which has no command line; build without the tag (make scanner)\n", version)
	return exitUsage
}
