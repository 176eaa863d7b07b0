package rules

import (
	"fmt"
	"strings"
)

// MarkdownTable returns the catalogue as a compact Markdown table (ID,
// name, level, default severity, fails when), one row per rule in ID order.
// README.md holds it between the lines <!-- BEGIN RULES --> and
// <!-- END RULES -->.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| ID | name | level | default severity | fails when |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, r := range catalogue() {
		fmt.Fprintf(&b, "| [%s](docs/rules.md#%s) | %s | %s | %s | %s |\n",
			r.ID, anchor(r), r.Name, r.Level, r.Severity, cell(r.FailsWhen))
	}
	return b.String()
}

// Markdown returns the rules reference, docs/rules.md: a summary table and
// a section per rule with its rationale, remediation, policy parameters and
// links.
func Markdown() string {
	var b strings.Builder
	b.WriteString("<!-- Generated from the rule registry by `go test ./rules -run TestDocs -update`. Do not edit. -->\n\n")
	b.WriteString("# Rules reference\n\n")
	b.WriteString("Every rule has a permanent ID: `INV-0nn` rules look at a bucket, `INV-1nn` rules at each enabled\n")
	b.WriteString("inventory configuration of a bucket, and `SCAN-nnn` findings say what the scan could not see.\n")
	b.WriteString("The policy ([policy.md](policy.md)) switches rules on and off, changes their severity and sets\n")
	b.WriteString("their parameters. `scanner rules` prints the same catalogue.\n\n")
	b.WriteString("| ID | name | level | default severity | title |\n|---|---|---|---|---|\n")
	for _, r := range catalogue() {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", r.ID, anchor(r), r.Name, r.Level, r.Severity, cell(r.Title))
	}
	for _, r := range catalogue() {
		fmt.Fprintf(&b, "\n## %s %s\n\n", r.ID, r.Name)
		fmt.Fprintf(&b, "**%s**\n\n", r.Title)
		fmt.Fprintf(&b, "- Level: %s\n", levelText(r.Level))
		fmt.Fprintf(&b, "- Default severity: %s\n", r.Severity)
		fmt.Fprintf(&b, "- Fails when: %s\n", r.FailsWhen)
		if len(r.Parameters) > 0 {
			fmt.Fprintf(&b, "- Policy parameters: `%s` (see [policy.md](policy.md#rule-parameters))\n", strings.Join(r.Parameters, "`, `"))
		} else if r.Kind == KindCoverage {
			b.WriteString("- Policy: severity only; coverage findings cannot be disabled, only waived\n")
		} else {
			b.WriteString("- Policy: `enabled` and `severity` only\n")
		}
		fmt.Fprintf(&b, "\n### Why it matters\n\n%s\n", r.Rationale)
		fmt.Fprintf(&b, "\n### How to fix it\n\n%s\n", r.Remediation)
		b.WriteString("\n### AWS documentation\n\n")
		for _, l := range r.Links {
			fmt.Fprintf(&b, "- <%s>\n", l)
		}
	}
	return b.String()
}

// anchor is the GitHub heading anchor of a rule's section.
func anchor(r Rule) string { return strings.ToLower(r.ID + "-" + r.Name) }

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func levelText(l Level) string {
	switch l {
	case LevelAccount:
		return "account (one finding per account)"
	case LevelBucket:
		return "bucket (one finding per bucket)"
	default:
		return "configuration (one finding per enabled inventory configuration)"
	}
}
