package report

import "github.com/s3inv/scanner/rules"

// Paint wraps s in the ANSI colour of severity sev, the colours of the
// table sink. Callers decide whether to colour at all (a terminal, and
// NO_COLOR unset).
func Paint(sev rules.Severity, s string) string {
	c, ok := severityColor[sev]
	if !ok {
		return s
	}
	return c + s + colorReset
}
