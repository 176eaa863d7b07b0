package rules

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
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
			r.ID, anchor(r), r.Name, r.Level, r.SeverityText(), cell(r.FailsWhen))
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
	b.WriteString("inventory configuration of a bucket (INV-110 to INV-115 follow it to its destination bucket, KMS key\n")
	b.WriteString("and reports), and `SCAN-nnn` findings say what the scan could not see.\n")
	b.WriteString("The policy ([policy.md](policy.md)) switches rules on and off, changes their severity and sets\n")
	b.WriteString("their parameters. `scanner rules` prints the same catalogue.\n\n")
	b.WriteString("A destination bucket or KMS key owned by another account than the source bucket's is that\n")
	b.WriteString("account's business: INV-111, INV-112, INV-113 and SCAN-005 findings about it name the owner\n")
	b.WriteString("account, the destination as the source configuration gives it and the statement the owner would\n")
	b.WriteString("add, and nothing that account answered (no statement labels or decisions of its policies, no key\n")
	b.WriteString("state, no error message of its APIs). A destination in the source account keeps every detail.\n\n")
	b.WriteString("| ID | name | level | default severity | title |\n|---|---|---|---|---|\n")
	for _, r := range catalogue() {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s | %s |\n", r.ID, anchor(r), r.Name, r.Level, r.SeverityText(), cell(r.Title))
	}
	for _, r := range catalogue() {
		fmt.Fprintf(&b, "\n## %s %s\n\n", r.ID, r.Name)
		fmt.Fprintf(&b, "**%s**\n\n", r.Title)
		if r.folds {
			b.WriteString("- Level: bucket (one finding per bucket for its configurations' findings, one for their destinations')\n")
			b.WriteString("- Severity: the worst of the findings it stands for\n")
		} else {
			fmt.Fprintf(&b, "- Level: %s\n", levelText(r.Level))
			fmt.Fprintf(&b, "- Default severity: %s\n", r.Severity)
		}
		fmt.Fprintf(&b, "- Fails when: %s\n", r.FailsWhen)
		switch {
		case r.folds:
			b.WriteString("- Policy: `limits.findings_per_bucket` (see [policy.md](policy.md#limits)); it cannot be disabled nor its severity set, only waived\n")
		case len(r.Parameters) > 0:
			fmt.Fprintf(&b, "- Policy parameters: `%s` (see [policy.md](policy.md#rule-parameters))\n", strings.Join(r.Parameters, "`, `"))
		case r.Kind == KindCoverage:
			b.WriteString("- Policy: severity only; coverage findings cannot be disabled, only waived\n")
		default:
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

// ParametersTable returns the table of the keys a rule's settings take in
// the policy, enabled and severity first, then each rule's parameters in
// ID order. docs/policy.md holds it between the lines
// <!-- BEGIN PARAMETERS --> and <!-- END PARAMETERS -->.
func ParametersTable() string {
	var b strings.Builder
	b.WriteString("| key | rules | values | default | meaning |\n|---|---|---|---|---|\n")
	b.WriteString("| `enabled` | all INV rules | `true`, `false` | `true` | a disabled rule produces no finding |\n")
	b.WriteString("| `severity` | all | `CRITICAL`, `HIGH`, `MEDIUM`, `LOW`, `INFO` (any case) | the rule's default severity ([rules.md](rules.md)) | the severity of its findings |\n")
	for _, r := range catalogue() {
		for _, p := range r.params {
			d := p.Doc()
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", p.Key(), r.ID, cell(d.Values), cell(d.Default), cell(d.Meaning))
		}
	}
	return b.String()
}

// defaultPolicyText returns rules/default-policy.yaml: every rule with
// its default settings, generated from the registry.
func defaultPolicyText() string {
	var b strings.Builder
	b.WriteString("# The built-in policy of the scanner: what applies when no policy is given.\n")
	b.WriteString("# Every policy you write is layered over these settings: keys you leave out\n")
	b.WriteString("# keep the values below. See docs/policy.md for every key.\n")
	b.WriteString("# Generated from the rule registry by `go test ./rules -run TestDocs -update`. Do not edit.\n")
	b.WriteString("version: 1\nrules:\n")
	groups := map[Kind]string{
		KindBucket:        "Bucket rules: every bucket has an enabled configuration covering it all.",
		KindConfiguration: "Configuration rules, on each enabled configuration: SSE-KMS with any key,\n  # the destination's AccountId in the organization, any bucket, format,\n  # schedule and versions, no required optional fields (lists restrict).",
		KindDestination:   "Destination rules, on the destination of each enabled configuration.",
		KindCoverage:      "Coverage findings: always on (they can be waived, not disabled).",
	}
	var last Kind
	for _, r := range catalogue() {
		if r.Kind != last {
			fmt.Fprintf(&b, "  # %s\n", groups[r.Kind])
			last = r.Kind
		}
		var fields []string
		if r.Kind != KindCoverage {
			fields = append(fields, "enabled: true")
		}
		if !r.folds {
			fields = append(fields, "severity: "+r.Severity.String())
		}
		for _, p := range r.params {
			fields = append(fields, p.Key()+": "+yamlFlow(p.defaultValue()))
		}
		fmt.Fprintf(&b, "  %s: {%s}  # %s\n", r.ID, strings.Join(fields, ", "), r.Name)
	}
	b.WriteString("# What one bucket may cost a run: past this many findings of its configurations\n")
	b.WriteString("# (and as many of their destinations), the rest are folded into one SCAN-006.\n")
	fmt.Fprintf(&b, "limits: {findings_per_bucket: %d}\n", DefaultFindingsPerBucket)
	return b.String()
}

// yamlFlow renders a parameter value in YAML flow style.
func yamlFlow(v any) string {
	switch v := v.(type) {
	case string:
		if plainRe.MatchString(v) {
			return v
		}
		return strconv.Quote(v)
	case []string:
		items := make([]string, len(v))
		for i, s := range v {
			items[i] = yamlFlow(s)
		}
		return "[" + strings.Join(items, ", ") + "]"
	default:
		j, _ := json.Marshal(v)
		return string(j)
	}
}

// plainRe matches the strings YAML reads back unquoted as the same string.
var plainRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_./-]*$`)

// anchor is the GitHub heading anchor of a rule's section.
func anchor(r Rule) string { return strings.ToLower(r.ID + "-" + r.Name) }

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func levelText(l Level) string {
	switch l {
	case LevelAccount:
		return "account (one finding per account)"
	case LevelBucket:
		return "bucket (one finding per bucket)"
	case LevelDestination:
		return "destination (one finding per source account, destination and cause)"
	default:
		return "configuration (one finding per enabled inventory configuration)"
	}
}
