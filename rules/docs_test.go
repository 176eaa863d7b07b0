package rules

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated docs (docs/rules.md, the rules block of README.md)")

const (
	beginRules = "<!-- BEGIN RULES -->"
	endRules   = "<!-- END RULES -->"
)

// TestDocs fails when docs/rules.md or the rules table of README.md is not
// what the registry generates; -update rewrites them.
func TestDocs(t *testing.T) {
	want := Markdown()
	checkGenerated(t, "../docs/rules.md", func([]byte) ([]byte, error) { return []byte(want), nil })
	for _, r := range All() {
		if !strings.Contains(want, "\n## "+r.ID+" "+r.Name+"\n") {
			t.Errorf("docs/rules.md has no section for %s", r.ID)
		}
		if !strings.Contains(want, r.Rationale) || !strings.Contains(want, r.Remediation) {
			t.Errorf("docs/rules.md lacks the texts of %s", r.ID)
		}
	}

	readme, err := os.ReadFile("../README.md")
	if errors.Is(err, fs.ErrNotExist) || err == nil && !bytes.Contains(readme, []byte(beginRules)) {
		t.Log("README.md has no rules block; only docs/rules.md checked")
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, "../README.md", func(old []byte) ([]byte, error) { return replaceBlock(old, MarkdownTable()) })
}

// replaceBlock replaces what lies between the BEGIN and END RULES lines.
func replaceBlock(doc []byte, table string) ([]byte, error) {
	s := string(doc)
	i := strings.Index(s, beginRules+"\n")
	j := strings.Index(s, "\n"+endRules)
	if i < 0 || j < i {
		return nil, errors.New("README.md: want a line " + beginRules + " followed later by a line " + endRules)
	}
	return []byte(s[:i+len(beginRules)+1] + table + s[j+1:]), nil
}

func checkGenerated(t *testing.T, path string, gen func(old []byte) ([]byte, error)) {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil && !(*update && errors.Is(err, fs.ErrNotExist)) {
		t.Fatalf("%v (go test ./rules -run TestDocs -update writes it)", err)
	}
	want, err := gen(old)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(old, want) {
		return
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", path)
		return
	}
	t.Errorf("%s is stale: run go test ./rules -run TestDocs -update", path)
}

func TestReplaceBlock(t *testing.T) {
	doc := []byte("intro\n" + beginRules + "\nold\nrows\n" + endRules + "\nrest\n")
	got, err := replaceBlock(doc, "| new |\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + beginRules + "\n| new |\n" + endRules + "\nrest\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := replaceBlock([]byte(endRules+"\n"+beginRules+"\n"), "x"); err == nil {
		t.Error("markers in the wrong order accepted")
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
