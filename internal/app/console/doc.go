// Package console is what the command line shows people: the dashboard
// of a run, the progress bar, the answers of `scanner findings` and the
// rule catalogue, as aligned text, coloured on a terminal (unless NO_COLOR
// is set) and plain otherwise.
//
// It reads figures and records (package report) and the
// rule catalogue; it never computes them, so the web dashboard can show
// the same figures. Every text that comes from an account owner or an AWS
// error goes through report.Printable before it reaches a terminal: its
// control and format characters are shown as \uXXXX, as the web
// dashboard shows them.
//
// The severities' colours are this package's (Paint): the dashboard uses
// them, and the command line hands them to report's table sink
// (Painter, report.WithPaint), which holds no colour of its own.
package console
