package rules

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var ruleIDRe = regexp.MustCompile(`^(INV|SCAN)-[0-9]{3}$`)

// TestRegistry checks the catalogue itself: IDs, texts, severities, levels,
// links and parameters.
func TestRegistry(t *testing.T) {
	all := All()
	if len(all) != 16 {
		t.Errorf("%d rules, want 16 (INV-001..003, INV-101..109, SCAN-001..004)", len(all))
	}
	ids := map[string]bool{}
	names := map[string]bool{}
	for i, r := range all {
		if i > 0 && all[i-1].ID >= r.ID {
			t.Errorf("All() not sorted by ID: %s before %s", all[i-1].ID, r.ID)
		}
		if !ruleIDRe.MatchString(r.ID) {
			t.Errorf("rule ID %q: want INV-nnn or SCAN-nnn", r.ID)
		}
		if ids[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		ids[r.ID] = true
		if names[r.Name] || !regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`).MatchString(r.Name) {
			t.Errorf("%s: name %q duplicate or not kebab-case", r.ID, r.Name)
		}
		names[r.Name] = true
		for field, text := range map[string]string{"title": r.Title, "fails_when": r.FailsWhen, "rationale": r.Rationale, "remediation": r.Remediation} {
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s: empty %s", r.ID, field)
			}
		}
		if !r.Severity.Valid() {
			t.Errorf("%s: invalid severity %v", r.ID, r.Severity)
		}
		switch {
		case strings.HasPrefix(r.ID, "INV-0") && r.Level != LevelBucket,
			strings.HasPrefix(r.ID, "INV-1") && r.Level != LevelConfig,
			strings.HasPrefix(r.ID, "SCAN-") && r.Level != LevelAccount && r.Level != LevelBucket:
			t.Errorf("%s: level %q does not fit its ID", r.ID, r.Level)
		}
		if len(r.Links) == 0 {
			t.Errorf("%s: no link to the AWS documentation", r.ID)
		}
		for _, l := range r.Links {
			if !strings.HasPrefix(l, "https://docs.aws.amazon.com/") {
				t.Errorf("%s: link %q is not AWS documentation", r.ID, l)
			}
		}
		for _, p := range r.Parameters {
			if !slices.Contains(strings.Split(keysAt("rules.X.y"), ", "), p) {
				t.Errorf("%s: parameter %q is not a key of the policy's rule settings", r.ID, p)
			}
		}
		reg := catalogue()[index(r.ID)]
		if reg.check == nil {
			t.Errorf("%s: no check", r.ID)
		}
		got, ok := Lookup(r.ID)
		if !ok || got.ID != r.ID || got.Title != r.Title {
			t.Errorf("Lookup(%s) = %v, %v", r.ID, got.ID, ok)
		}
	}
	if _, ok := Lookup("INV-000"); ok {
		t.Error("Lookup(INV-000) found a rule")
	}
	// All returns copies.
	all[0].Links[0] = "changed"
	if All()[0].Links[0] == "changed" {
		t.Error("All() shares its Links with the registry")
	}
}

// TestRegistryProductCatalogue pins the IDs, names, default severities and
// levels to the product's catalogue: IDs are permanent.
func TestRegistryProductCatalogue(t *testing.T) {
	want := []string{
		"INV-001 inventory-missing MEDIUM bucket",
		"INV-002 inventory-disabled MEDIUM bucket",
		"INV-003 inventory-partial-coverage LOW bucket",
		"INV-101 destination-not-sse-kms HIGH config",
		"INV-102 kms-key-not-approved HIGH config",
		"INV-103 destination-account-missing HIGH config",
		"INV-104 destination-account-not-approved CRITICAL config",
		"INV-105 destination-bucket-not-approved HIGH config",
		"INV-106 format-not-approved LOW config",
		"INV-107 schedule-too-infrequent LOW config",
		"INV-108 versions-not-included LOW config",
		"INV-109 optional-fields-missing LOW config",
		"SCAN-001 account-role-unavailable HIGH account",
		"SCAN-002 account-buckets-unlisted HIGH account",
		"SCAN-003 bucket-unreadable MEDIUM bucket",
		"SCAN-004 account-scan-incomplete MEDIUM account",
	}
	var got []string
	for _, r := range All() {
		got = append(got, strings.Join([]string{r.ID, r.Name, r.Severity.String(), string(r.Level)}, " "))
	}
	if !slices.Equal(got, want) {
		t.Errorf("catalogue:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRuleJSON(t *testing.T) {
	r, _ := Lookup("INV-102")
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"id": "INV-102", "name": "kms-key-not-approved", "severity": "HIGH", "level": "config"} {
		if m[k] != v {
			t.Errorf("JSON %s = %v, want %v (%s)", k, m[k], v, b)
		}
	}
	if _, ok := m["rationale"]; !ok {
		t.Errorf("JSON lacks rationale: %s", b)
	}
}
