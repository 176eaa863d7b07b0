//go:build !lambda

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/app/remediate"
)

// goldenPlanPolicy writes the golden policy with the planner's
// remediation section to a file of t.
func goldenPlanPolicy(t *testing.T) string {
	t.Helper()
	var doc []byte
	for _, p := range []string{"../../internal/app/pipeline/testdata/golden-policy.yaml", "../../internal/app/remediate/testdata/remediation.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		doc = append(append(doc, b...), '\n')
	}
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlanCommand: scanner plan prints the text plan of the simulated
// organization and saves the same plan as JSON, which reads back with
// its scan ID and digests; --format json prints the saved form.
func TestPlanCommand(t *testing.T) {
	simulate(t)
	policy := goldenPlanPolicy(t)
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, out, errOut := runCLI("plan", "-org", "-policy", policy, "-out", saved)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Account 222222222222", "+ create", "~ update", "- disable", "Manual (", "Plan: 5 to create, 7 to update, 2 to disable"} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q:\n%s", want, out)
		}
	}
	raw, err := os.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := remediate.ReadPlan(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, plan.ScanID) || len(plan.Changes) != 17 || plan.PolicyDigest == "" {
		t.Errorf("saved plan: scan %q, %d changes, policy %q", plan.ScanID, len(plan.Changes), plan.PolicyDigest)
	}
	if fi, err := os.Stat(saved); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("saved plan mode: %v, %v", fi.Mode(), err)
	}

	code, out, errOut = runCLI("plan", "-org", "-policy", policy, "-format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := remediate.ReadPlan([]byte(out)); err != nil {
		t.Errorf("--format json: %v", err)
	}
}

func TestPlanCommandRefusesBadFlags(t *testing.T) {
	simulate(t)
	saved := filepath.Join(t.TempDir(), "plan.json")
	code, _, errOut := runCLI("plan", "-org", "-format", "yaml", "-out", saved)
	if code != exitUsage || !strings.Contains(errOut, `--format "yaml": want text or json`) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(saved); !os.IsNotExist(err) {
		t.Error("a plan was saved after a usage error")
	}
}
