package rules

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

var (
	ruleIDRe   = regexp.MustCompile(`^(INV|SCAN)-[0-9]{3}$`)
	paramKeyRe = regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
)

// TestRegistry checks the catalogue itself: IDs, texts, severities, levels,
// kinds, links and parameters.
func TestRegistry(t *testing.T) {
	all := All()
	if len(all) < 16 {
		t.Errorf("%d rules, want at least 16 (INV-001..003, INV-101..109, SCAN-001..004)", len(all))
	}
	if len(all) != len(ruleList) {
		t.Errorf("%d rules in the catalogue, %d in ruleList", len(all), len(ruleList))
	}
	covered := map[inventory.AccountStatus]string{}
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
			strings.HasPrefix(r.ID, "SCAN-") && r.Level != LevelAccount && r.Level != LevelBucket && r.Level != LevelDestination:
			t.Errorf("%s: level %q does not fit its ID", r.ID, r.Level)
		}
		switch {
		case strings.HasPrefix(r.ID, "INV-0") && r.Kind != KindBucket,
			strings.HasPrefix(r.ID, "INV-1") && r.Kind != KindConfiguration && r.Kind != KindDestination,
			strings.HasPrefix(r.ID, "SCAN-") && r.Kind != KindCoverage:
			t.Errorf("%s: kind %q does not fit its ID", r.ID, r.Kind)
		}
		if r.Kind != KindCoverage && r.Level == LevelAccount {
			t.Errorf("%s: an account-level rule that is not a coverage rule is never run", r.ID)
		}
		if reg := catalogue()[index(r.ID)]; r.Kind == KindCoverage && r.Level == LevelAccount {
			if reg.covers == "" || reg.covers == inventory.AccountComplete {
				t.Errorf("%s: an account coverage rule must cover a status other than COMPLETE, covers %q", r.ID, reg.covers)
			}
			if other, dup := covered[reg.covers]; dup {
				t.Errorf("%s and %s both cover %s", other, r.ID, reg.covers)
			}
			covered[reg.covers] = r.ID
			if got, ok := AccountCoverage(reg.covers); !ok || got.ID != r.ID {
				t.Errorf("AccountCoverage(%s) = %s, %v; want %s", reg.covers, got.ID, ok, r.ID)
			}
		} else if reg.covers != "" {
			t.Errorf("%s: covers %q, but only account coverage rules cover a status", r.ID, reg.covers)
		}
		if IsCoverage(r.ID) != (r.Kind == KindCoverage) {
			t.Errorf("IsCoverage(%s) = %v for kind %s", r.ID, IsCoverage(r.ID), r.Kind)
		}
		if len(r.Links) == 0 {
			t.Errorf("%s: no link to the AWS documentation", r.ID)
		}
		for _, l := range r.Links {
			if !strings.HasPrefix(l, "https://docs.aws.amazon.com/") {
				t.Errorf("%s: link %q is not AWS documentation", r.ID, l)
			}
		}
		reg := catalogue()[index(r.ID)]
		var keys []string
		for i, p := range reg.params {
			k := p.Key()
			keys = append(keys, k)
			if !paramKeyRe.MatchString(k) || k == "enabled" || k == "severity" || slices.Contains(keys[:i], k) {
				t.Errorf("%s: parameter key %q: want a snake_case key of its own", r.ID, k)
			}
			if d := p.Doc(); d.Values == "" || d.Default == "" || d.Meaning == "" {
				t.Errorf("%s: parameter %s lacks documentation: %+v", r.ID, k, d)
			}
		}
		if !slices.Equal(keys, r.Parameters) {
			t.Errorf("%s: Parameters %v, params %v", r.ID, r.Parameters, keys)
		}
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
	if IsCoverage("SCAN-999") || IsCoverage("") {
		t.Error("IsCoverage of an unknown ID is true")
	}
	if r, ok := AccountCoverage(inventory.AccountComplete); ok {
		t.Errorf("AccountCoverage(COMPLETE) = %s", r.ID)
	}
	if r, ok := BucketCoverage(); !ok || r.Kind != KindCoverage || r.Level != LevelBucket {
		t.Errorf("BucketCoverage() = %+v, %v", r, ok)
	}
	// All returns copies.
	all[0].Links[0] = "changed"
	if All()[0].Links[0] == "changed" {
		t.Error("All() shares its Links with the registry")
	}
}

// TestRegistryProductCatalogue pins the IDs, names, default severities,
// levels and kinds to the product's catalogue: IDs are permanent. New rules
// may follow; these never change.
func TestRegistryProductCatalogue(t *testing.T) {
	want := []string{
		"INV-001 inventory-missing MEDIUM bucket bucket",
		"INV-002 inventory-disabled MEDIUM bucket bucket",
		"INV-003 inventory-partial-coverage LOW bucket bucket",
		"INV-101 destination-not-sse-kms HIGH config configuration",
		"INV-102 kms-key-not-approved HIGH config configuration",
		"INV-103 destination-account-missing HIGH config configuration",
		"INV-104 destination-account-not-approved CRITICAL config configuration",
		"INV-105 destination-bucket-not-approved HIGH config configuration",
		"INV-106 format-not-approved LOW config configuration",
		"INV-107 schedule-too-infrequent LOW config configuration",
		"INV-108 versions-not-included LOW config configuration",
		"INV-109 optional-fields-missing LOW config configuration",
		"SCAN-001 account-role-unavailable HIGH account coverage",
		"SCAN-002 account-buckets-unlisted HIGH account coverage",
		"SCAN-003 bucket-unreadable MEDIUM bucket coverage",
		"SCAN-004 account-scan-incomplete MEDIUM account coverage",
	}
	got := map[string]string{}
	for _, r := range All() {
		got[r.ID] = strings.Join([]string{r.ID, r.Name, r.Severity.String(), string(r.Level), string(r.Kind)}, " ")
	}
	for _, w := range want {
		id, _, _ := strings.Cut(w, " ")
		if got[id] != w {
			t.Errorf("catalogue: %q, want %q", got[id], w)
		}
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
	for k, v := range map[string]any{"id": "INV-102", "name": "kms-key-not-approved", "severity": "HIGH", "level": "config", "kind": "configuration"} {
		if m[k] != v {
			t.Errorf("JSON %s = %v, want %v (%s)", k, m[k], v, b)
		}
	}
	if _, ok := m["rationale"]; !ok {
		t.Errorf("JSON lacks rationale: %s", b)
	}
}
