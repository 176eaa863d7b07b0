//go:build !lambda

package main

import (
	"fmt"
	"io"

	"github.com/s3inv/scanner/internal/app/console"
	"github.com/s3inv/scanner/report"
)

// outputSink returns the sink that prints findings in the given format:
// json (JSON Lines, the default for machines), table (for people, coloured
// on a terminal unless NO_COLOR is set), csv, or ocsf (OCSF Compliance
// Findings as JSON Lines, for SIEMs and Security Lake).
func outputSink(format string, w io.Writer) (report.Sink, error) {
	switch format {
	case "json":
		return report.NewJSON(w), nil
	case "table":
		return report.NewTable(w, report.WithPaint(console.Painter(w))), nil
	case "csv":
		return report.NewCSV(w), nil
	case "ocsf":
		return report.NewOCSF(w, version), nil
	}
	return nil, fmt.Errorf("--format %q: want json, table, csv or ocsf", format)
}
