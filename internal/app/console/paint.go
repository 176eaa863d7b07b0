package console

import (
	"io"

	"github.com/s3inv/scanner/rules"
)

// The ANSI colours of the severities, on a terminal.
const colorReset = "\x1b[0m"

var severityColor = map[rules.Severity]string{
	rules.SeverityCritical: "\x1b[1;31m", // bold red
	rules.SeverityHigh:     "\x1b[31m",   // red
	rules.SeverityMedium:   "\x1b[33m",   // yellow
	rules.SeverityLow:      "\x1b[36m",   // cyan
	rules.SeverityInfo:     "\x1b[2m",    // dim
}

// Paint wraps s in the ANSI colour of severity sev; s unchanged for a
// severity without one. Callers decide whether to colour at all
// (UseColor, or Painter).
func Paint(sev rules.Severity, s string) string {
	c, ok := severityColor[sev]
	if !ok {
		return s
	}
	return c + s + colorReset
}

// Painter returns Paint when output to w is coloured (UseColor: a
// terminal, and NO_COLOR unset), nil otherwise: the painter of the
// findings table (report.WithPaint), so that report itself holds no
// colour.
func Painter(w io.Writer) func(rules.Severity, string) string {
	if !UseColor(w) {
		return nil
	}
	return Paint
}
