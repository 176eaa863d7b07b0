package rules

import (
	"fmt"
	"strings"
)

// Severity ranks findings. Higher values are more severe, so severities
// compare with < and >.
type Severity int

// The severities, least severe first.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = map[Severity]string{
	SeverityInfo:     "INFO",
	SeverityLow:      "LOW",
	SeverityMedium:   "MEDIUM",
	SeverityHigh:     "HIGH",
	SeverityCritical: "CRITICAL",
}

// Severities lists every severity, most severe first.
func Severities() []Severity {
	return []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}
}

// String returns the upper-case name, such as "HIGH".
func (s Severity) String() string {
	if n, ok := severityNames[s]; ok {
		return n
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Valid reports whether s is one of the defined severities.
func (s Severity) Valid() bool { _, ok := severityNames[s]; return ok }

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts any case.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name in any case.
func ParseSeverity(name string) (Severity, error) {
	for s, n := range severityNames {
		if strings.EqualFold(name, n) {
			return s, nil
		}
	}
	return 0, fmt.Errorf("severity %q: want one of CRITICAL, HIGH, MEDIUM, LOW, INFO", name)
}

// Status is the state of a finding.
type Status string

// The states of a finding. Rules produce OPEN and WAIVED; the findings
// store marks findings RESOLVED when a complete scan no longer sees them.
const (
	StatusOpen     Status = "OPEN"
	StatusWaived   Status = "WAIVED"
	StatusResolved Status = "RESOLVED"
)
