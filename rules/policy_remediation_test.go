package rules

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

const remediationDoc = `version: 1
rules:
  INV-106: {formats: [Parquet, CSV]}
  INV-107: {frequency: Daily}
remediation:
  config_id: central-inventory
  destinations:
    eu-west-1:
      bucket: arn:aws:s3:::org-inventory-eu-west-1
      account: "222222222222"
      prefix: reports
      kms_key: arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab
  fix: [INV-001, INV-107]
  automatic: [INV-001]
  unapproved_destinations: disable
  match: {accounts: ["111111111111"], buckets: ["app-*"]}
overrides:
  - match: {buckets: ["logs-*"]}
    rules: {INV-107: {frequency: Weekly}}
`

func TestRemediationSection(t *testing.T) {
	p, err := LoadPolicy([]byte(remediationDoc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := p.Remediation()
	if r.ConfigID != "central-inventory" || r.Unapproved != UnapprovedDisable {
		t.Errorf("remediation = %+v", r)
	}
	d := r.Destinations["eu-west-1"]
	if d.Bucket != "arn:aws:s3:::org-inventory-eu-west-1" || d.Account != "222222222222" || d.Prefix != "reports" {
		t.Errorf("destination = %+v", d)
	}
	in := inventory.Account{ID: "111111111111"}
	if !r.Fixes("INV-001", in, "app-1") || r.Fixes("INV-001", in, "data-1") ||
		r.Fixes("INV-001", inventory.Account{ID: "333333333333"}, "app-1") || r.Fixes("INV-101", in, "app-1") {
		t.Error("Fixes does not follow fix and match")
	}
	// The section survives the normalised document, and the digest
	// follows the meaning.
	out, _ := p.MarshalJSON()
	again, err := LoadPolicy(out, "normalised")
	if err != nil {
		t.Fatalf("normalised document refused: %v\n%s", err, out)
	}
	if again.Digest() != p.Digest() {
		t.Error("digest changed through the normalised document")
	}
	if DefaultPolicy().Digest() == p.Digest() {
		t.Error("two policies share a digest")
	}
	var back struct{ Remediation Remediation }
	if err := json.Unmarshal(out, &back); err != nil || back.Remediation.ConfigID != "central-inventory" {
		t.Errorf("JSON remediation = %+v, %v", back.Remediation, err)
	}
}

func TestRemediationDefaults(t *testing.T) {
	r := DefaultPolicy().Remediation()
	if r.ConfigID != "org-inventory" || r.Unapproved != UnapprovedReport || len(r.Fix) != 0 {
		t.Errorf("default remediation = %+v", r)
	}
	if r.Fixes("INV-001", inventory.Account{ID: "111111111111"}, "b") {
		t.Error("the default policy fixes something")
	}
	p, err := LoadPolicy([]byte("remediation: {}\n"), "t")
	if err != nil || p.Remediation().ConfigID != "org-inventory" {
		t.Errorf("empty section: %+v, %v", p, err)
	}
}

func TestDesiredFollowsScope(t *testing.T) {
	p, err := LoadPolicy([]byte(remediationDoc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := inventory.Account{ID: "111111111111"}
	d := p.Desired(a, "app-1")
	if d.Frequency != "Daily" || !slices.Equal(d.Formats, []string{"Parquet", "CSV"}) || d.Versions != "Current" || !d.Enabled["INV-101"] {
		t.Errorf("desired = %+v", d)
	}
	if got := p.Desired(a, "logs-1").Frequency; got != "Weekly" {
		t.Errorf("override not applied: frequency %q", got)
	}
	if !slices.Equal(d.SensitiveFields, []string{"ObjectAccessControlList", "ObjectOwner"}) {
		t.Errorf("sensitive fields = %v", d.SensitiveFields)
	}
}

func TestRemediationErrors(t *testing.T) {
	dest := func(field, value string) string {
		fields := map[string]string{
			"bucket": "arn:aws:s3:::org-inventory", "account": `"222222222222"`,
			"kms_key": "arn:aws:kms:eu-west-1:222222222222:key/abcd",
		}
		fields[field] = value
		var b strings.Builder
		b.WriteString("remediation:\n  destinations:\n    eu-west-1:\n")
		for _, k := range []string{"bucket", "account", "kms_key"} {
			b.WriteString("      " + k + ": " + fields[k] + "\n")
		}
		return b.String()
	}
	cases := []struct{ name, doc, want string }{
		{"unknown key", "remediation:\n  config: x\n", `line 2: remediation "config": unknown key: want one of config_id`},
		{"long id", "remediation:\n  config_id: " + strings.Repeat("a", 65) + "\n", "line 2: remediation.config_id"},
		{"id charset", "remediation:\n  config_id: \"org inventory\"\n", `line 2: remediation.config_id "org inventory": want at most 64 letters`},
		{"not fixable", "remediation:\n  fix: [INV-001, INV-110]\n", `line 2: remediation.fix.1 "INV-110": want a rule the fixer can fix`},
		{"automatic not fixed", "remediation:\n  fix: [INV-001]\n  automatic: [INV-107]\n", `line 3: remediation.automatic.0 "INV-107": want a rule listed in remediation.fix`},
		{"unapproved", "remediation:\n  unapproved_destinations: delete\n", `line 2: remediation.unapproved_destinations "delete": want report or disable`},
		{"bad region", "remediation:\n  destinations:\n    europe:\n      bucket: arn:aws:s3:::b-1\n", `line 3: remediation.destinations "europe": want a Region name`},
		{"bucket with namespace", dest("bucket", "arn:aws:s3:eu-west-1:222222222222:org-inventory"), `line 4: remediation.destinations.eu-west-1.bucket`},
		{"account", dest("account", "acme"), `line 5: remediation.destinations.eu-west-1.account "acme": want the 12-digit ID`},
		{"key alias", dest("kms_key", "arn:aws:kms:eu-west-1:222222222222:alias/reports"), `line 6: remediation.destinations.eu-west-1.kms_key`},
		{"key in another region", dest("kms_key", "arn:aws:kms:us-east-1:222222222222:key/abcd"), `want a key in eu-west-1`},
		{"destination unknown key", "remediation:\n  destinations:\n    eu-west-1: {bucket_arn: x}\n", `line 3: remediation.destinations.eu-west-1 "bucket_arn": unknown key`},
		{"match glob", "remediation:\n  match: {buckets: [\"a-[\"]}\n", `line 2: remediation.match.buckets.0 "a-["`},
		{"match account", "remediation:\n  match: {accounts: [\"1\"]}\n", `remediation.match.accounts.0 "1": want a 12-digit account ID`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadPolicy([]byte(c.doc), "test.yaml")
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v", err)
			}
			if msg := err.Error(); !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line with %q", msg, c.want)
			}
		})
	}
}
