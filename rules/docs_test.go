package rules

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/testenv/docblock"
)

// TestDocs fails when docs/rules.md, the rules table of README.md, the
// parameters table of docs/policy.md or rules/default-policy.yaml is not
// what the registry generates; go test ./rules -run TestDocs -update
// rewrites them.
func TestDocs(t *testing.T) {
	want := Markdown()
	docblock.CheckFile(t, "../docs/rules.md", want)
	for _, r := range All() {
		if !strings.Contains(want, "\n## "+r.ID+" "+r.Name+"\n") {
			t.Errorf("docs/rules.md has no section for %s", r.ID)
		}
		if !strings.Contains(want, r.Rationale) || !strings.Contains(want, r.Remediation) {
			t.Errorf("docs/rules.md lacks the texts of %s", r.ID)
		}
	}
	docblock.Check(t, "../README.md", "RULES", MarkdownTable())
	docblock.Check(t, "../docs/policy.md", "PARAMETERS", ParametersTable())
	docblock.CheckFile(t, "default-policy.yaml", defaultPolicyText())
	for _, r := range All() {
		for _, k := range r.Parameters {
			if !strings.Contains(ParametersTable(), "| `"+k+"` | "+r.ID+" |") {
				t.Errorf("the parameters table has no row for %s of %s", k, r.ID)
			}
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	tab := MarkdownTable()
	lines := strings.Split(strings.TrimSuffix(tab, "\n"), "\n")
	if len(lines) != 2+len(All()) {
		t.Fatalf("%d lines, want header, separator and %d rules:\n%s", len(lines), len(All()), tab)
	}
	if !strings.Contains(tab, "| [INV-104](docs/rules.md#inv-104-destination-account-not-approved) | destination-account-not-approved | config | CRITICAL |") {
		t.Errorf("INV-104 row missing or wrong:\n%s", tab)
	}
}

// TestPolicyDocExamples loads every YAML and JSON example of
// docs/policy.md.
func TestPolicyDocExamples(t *testing.T) {
	data, err := os.ReadFile("../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for i, part := range strings.Split(string(data), "```")[1:] {
		if i%2 != 0 {
			continue // text between blocks
		}
		lang, body, _ := strings.Cut(part, "\n")
		if lang != "yaml" && lang != "json" {
			continue
		}
		blocks++
		if _, err := LoadPolicy([]byte(body), fmt.Sprintf("docs/policy.md block %d", blocks)); err != nil {
			t.Error(err)
		}
	}
	if blocks < 5 {
		t.Errorf("%d examples found in docs/policy.md, want at least 5", blocks)
	}
}
