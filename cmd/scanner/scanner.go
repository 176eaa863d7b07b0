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
// The package is three builds, each with its entry point (func main) in
// a file of its own:
//
//	main.go           the command line (no tags; make scanner)
//	main_function.go  the scanner's and the fan-out workers' function
//	                  (-tags lambda,lambda.norpc; make build)
//	main_widget.go    the dashboard's custom-widget function
//	                  (-tags lambda,lambda.norpc,widget)
//
// The function builds leave the command line out: each links only what
// it runs, not the terminal output, the demo or the simulated
// organization. The tag widget without the tag lambda stops the build
// with a message naming the tags to use.
//
// This package only wires: it parses arguments and events, loads the
// configuration and the AWS clients, and hands them to the pipeline
// (internal/app/pipeline), the presentation (internal/app/console) or
// the views (internal/app/webui, internal/app/webui/widget).
package main

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the run failed, or not one account in scope could be scanned
	exitUsage    = 2 // bad flags, configuration or input
	exitFindings = 3 // --fail-on: an open finding at or above the threshold
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"
