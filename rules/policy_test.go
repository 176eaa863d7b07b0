package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func mustLoad(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := LoadPolicy([]byte(doc), "test.yaml")
	if err != nil {
		t.Fatalf("LoadPolicy: %v", err)
	}
	return p
}

func TestDefaultPolicy(t *testing.T) {
	p, err := LoadPolicy(defaultPolicyYAML, defaultPolicySource)
	if err != nil {
		t.Fatalf("the embedded default policy does not load: %v", err)
	}
	if len(p.Warnings()) != 0 {
		t.Errorf("default policy warnings: %v", p.Warnings())
	}
	// The embedded file spells out the registry's defaults: an empty
	// policy means the same.
	empty := mustLoad(t, "version: 1\n")
	if !reflect.DeepEqual(p.base, empty.base) {
		t.Errorf("default-policy.yaml differs from the registry defaults:\n%+v\n%+v", p.base, empty.base)
	}
	for _, r := range All() {
		st := p.settingsFor(index(r.ID), testAcct, "b")
		if !st.enabled {
			t.Errorf("%s disabled by default", r.ID)
		}
		if got := st.severity; got != r.Severity {
			t.Errorf("%s: default policy severity %v, registry %v", r.ID, got, r.Severity)
		}
	}
	st := p.base
	if s := st[index("INV-106")]; !reflect.DeepEqual(approvedFormats.get(s), []string{"CSV", "ORC", "Parquet"}) ||
		requiredFrequency.get(st[index("INV-107")]) != "Weekly" || requiredVersions.get(st[index("INV-108")]) != "Current" ||
		len(requiredFields.get(st[index("INV-109")])) != 0 || len(approvedKMSKeys.get(st[index("INV-102")])) != 0 ||
		len(approvedAccounts.get(st[index("INV-104")])) != 0 || len(approvedBuckets.get(st[index("INV-105")])) != 0 {
		t.Errorf("default parameters are not 'any format, schedule, versions, no lists': %+v", st)
	}
	if first, second := DefaultPolicy(), DefaultPolicy(); first != second {
		t.Error("DefaultPolicy parses the document each call")
	}
	var zero Policy
	if zero.get().settingsFor(index("INV-104"), testAcct, "").severity != SeverityCritical || (*Policy)(nil).get().source != defaultPolicySource {
		t.Error("a zero or nil Policy does not behave as the default")
	}
}

func TestLoadPolicyErrors(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // substrings of the one-line error
	}{
		{"empty", "", []string{"policy test.yaml: empty document"}},
		{"comment only", "# nothing\n", []string{"empty document"}},
		{"syntax", "rules: [\n", []string{"policy test.yaml line 1"}},
		{"not a mapping", "- INV-101\n", []string{"line 1", "want a mapping"}},
		{"rules not a mapping", "rules: [INV-101]\n", []string{"line 1", "rules: want a mapping"}},
		{"two documents", "version: 1\n---\nversion: 1\n", []string{"line 2", "several YAML documents"}},
		{"empty second document", "version: 1\n---\n", []string{"line 2", "several YAML documents"}},
		{"unknown top-level key", "version: 1\nrule:\n  INV-101: {}\n", []string{"line 2", `"rule": unknown key: want one of version, rules, overrides, waivers, limits, remediation`}},
		{"unknown rule key", "rules:\n  INV-101:\n    enable: false\n", []string{"line 3", `rules.INV-101 "enable": unknown key: want one of enabled, severity`}},
		{"duplicate key", "rules:\n  INV-101: {}\n  INV-101: {}\n", []string{"line 3", "already defined"}},
		{"bad version", "version: 2\n", []string{"line 1", `version "2": want 1`}},
		{"version not an integer", "version: \"1\"\n", []string{"line 1", `version "1": want the integer 1`}},
		{"scalar document", "null\n", []string{"line 1", "want a mapping"}},
		{"unknown rule", "rules:\n  INV-199: {severity: LOW}\n", []string{"line 2", `rules "INV-199": unknown rule ID`}},
		{"days out of range", "rules:\n  INV-114:\n    daily_max_age_days: 0\n", []string{"line 3", `rules.INV-114.daily_max_age_days "0": want 1 to 31 days`}},
		{"days quoted", "rules:\n  INV-114:\n    weekly_max_age_days: \"8\"\n", []string{"line 3", `rules.INV-114.weekly_max_age_days "8": want a whole number`}},
		{"switch not a bool", "rules:\n  INV-113:\n    check_key_policy: no\n", []string{"line 3", `rules.INV-113.check_key_policy "no": want true or false`}},
		{"bad severity", "rules:\n  INV-101:\n    severity: SEVERE\n", []string{"line 3", `rules.INV-101.severity "SEVERE": want one of CRITICAL, HIGH, MEDIUM, LOW, INFO`}},
		{"enabled not a bool", "rules:\n  INV-101:\n    enabled: yes\n", []string{"line 3", `rules.INV-101.enabled "yes": want true or false`}},
		{"list expected", "rules:\n  INV-106:\n    formats: CSV\n", []string{"line 3", "rules.INV-106.formats", "want a list"}},
		{"parameter of another rule", "rules:\n  INV-101:\n    formats: [CSV]\n", []string{"line 3", `rules.INV-101 "formats": not a parameter of INV-101: it takes only enabled and severity`}},
		{"bad format", "rules:\n  INV-106:\n    formats: [CSV, JSON]\n", []string{"line 3", `rules.INV-106.formats.1 "JSON": want CSV, ORC or Parquet`}},
		{"no format", "rules:\n  INV-106:\n    formats: []\n", []string{"line 3", "rules.INV-106.formats: want at least one"}},
		{"bad frequency", "rules:\n  INV-107: {frequency: Hourly}\n", []string{"line 2", `rules.INV-107.frequency "Hourly": want Daily or Weekly`}},
		{"bad versions", "rules:\n  INV-108: {versions: Latest}\n", []string{"line 2", `rules.INV-108.versions "Latest": want All or Current`}},
		{"bad account", "rules:\n  INV-104:\n    approved_accounts:\n      - \"99999999999\"\n", []string{"line 4", `rules.INV-104.approved_accounts.0 "99999999999": want a 12-digit account ID`}},
		{"bad KMS key", "rules:\n  INV-102:\n    approved_kms_keys: [\"1234abcd-12ab\"]\n", []string{"line 3", `rules.INV-102.approved_kms_keys.0 "1234abcd-12ab": want a KMS key ARN`}},
		{"bucket pattern not an ARN", "rules:\n  INV-105:\n    approved_buckets: [\"central-*\"]\n", []string{"line 3", `approved_buckets.0 "central-*": want a bucket ARN pattern`}},
		{"bad bucket glob", "rules:\n  INV-105:\n    approved_buckets: [\"arn:aws:s3:::central-[\"]\n", []string{"line 3", "path.Match syntax"}},
		{"bad field name", "rules:\n  INV-109:\n    required_fields: [\"encryption status\"]\n", []string{"line 3", `required_fields.0 "encryption status": want an S3 Inventory optional field name`}},
		{"coverage disabled", "rules:\n  SCAN-003: {enabled: false}\n", []string{"line 2", "coverage findings cannot be disabled"}},
		{"fold disabled", "rules:\n  SCAN-006: {enabled: false}\n", []string{"line 2", "coverage findings cannot be disabled"}},
		{"fold's severity set", "rules:\n  SCAN-006: {severity: LOW}\n", []string{"line 2", `rules.SCAN-006.severity "LOW": the folded findings' worst severity is SCAN-006's: want no severity`}},
		{"fold's severity in an override", "overrides:\n  - match: {accounts: [\"111111111111\"]}\n    rules:\n      SCAN-006: {severity: INFO}\n",
			[]string{"line 4", `overrides.0.rules.SCAN-006.severity "INFO"`}},
		{"limit zero", "limits:\n  findings_per_bucket: 0\n", []string{"line 2", `limits.findings_per_bucket "0": want a whole number, 1 to 10000`}},
		{"limit too large", "limits: {findings_per_bucket: 10001}\n", []string{"line 1", `limits.findings_per_bucket "10001": want a whole number, 1 to 10000`}},
		{"limit quoted", "limits:\n  findings_per_bucket: \"100\"\n", []string{"line 2", `limits.findings_per_bucket "100": want a whole number`}},
		{"limit not a number", "limits:\n  findings_per_bucket: all\n", []string{"line 2", `limits.findings_per_bucket "all": want a whole number`}},
		{"limits not a mapping", "limits: 100\n", []string{"line 1", `limits "100": want a mapping of findings_per_bucket`}},
		{"unknown limit", "limits:\n  findings_per_account: 10\n", []string{"line 2", `limits "findings_per_account": unknown key: want findings_per_bucket`}},
		{"override without match", "overrides:\n  - name: x\n    rules: {INV-001: {enabled: false}}\n", []string{"overrides.0.match", "want at least one of ous, accounts, buckets"}},
		{"override without rules", "overrides:\n  - match: {accounts: [\"111111111111\"]}\n", []string{"overrides.0.rules", "want the settings of at least one rule"}},
		{"bad OU", "overrides:\n  - match:\n      ous: [ou-1]\n    rules: {INV-001: {enabled: false}}\n", []string{"line 3", `overrides.0.match.ous.0 "ou-1": want an OU ID`}},
		{"bad override account", "overrides:\n  - match: {accounts: [\"12345\"]}\n    rules: {INV-001: {enabled: false}}\n", []string{"line 2", `overrides.0.match.accounts.0 "12345"`}},
		{"bad override glob", "overrides:\n  - match: {buckets: [\"tmp-[\"]}\n    rules: {INV-001: {enabled: false}}\n", []string{"line 2", `overrides.0.match.buckets.0 "tmp-["`}},
		{"unknown match key", "overrides:\n  - match: {bucket: [tmp-*]}\n    rules: {INV-001: {enabled: false}}\n", []string{"line 2", `"bucket": unknown key: want one of ous, accounts, buckets`}},
		{"override unknown rule", "overrides:\n  - match: {buckets: [tmp-*]}\n    rules:\n      INV-01: {enabled: false}\n", []string{"line 4", `overrides.0.rules "INV-01": unknown rule ID`}},
		{"waiver unknown rule", "waivers:\n  - rule: INV-999\n    account: \"*\"\n    reason: r\n    expires: 2027-01-01\n", []string{"line 2", `waivers.0.rule "INV-999"`}},
		{"waiver bad account", "waivers:\n  - rule: INV-101\n    account: all\n    reason: r\n    expires: 2027-01-01\n", []string{"line 3", `waivers.0.account "all": want a 12-digit account ID or "*"`}},
		{"waiver no reason", "waivers:\n  - rule: INV-101\n    account: \"*\"\n    expires: 2027-01-01\n", []string{"waivers.0.reason", "want the reason"}},
		{"waiver impossible date", "waivers:\n  - rule: INV-101\n    account: \"*\"\n    reason: r\n    expires: 2027-02-30\n", []string{"line 5", `waivers.0.expires "2027-02-30": want a date YYYY-MM-DD`}},
		{"waiver date typo", "waivers:\n  - rule: INV-101\n    account: \"*\"\n    reason: r\n    expires: 27-03-31\n", []string{"line 5", `"27-03-31"`}},
		{"waiver no expiry", "waivers:\n  - rule: INV-101\n    account: \"*\"\n    reason: r\n", []string{"waivers.0.expires", "want a date"}},
		{"waiver unknown key", "waivers:\n  - rule: INV-101\n    acount: \"*\"\n", []string{"line 3", `waivers.0 "acount": unknown key: want one of rule, account, bucket, reason, expires`}},
		{"JSON unknown key", `{"rules": {"INV-101": {"severty": "LOW"}}}`, []string{"line 1", `"severty": unknown key`}},
		{"JSON bad value", "{\n  \"rules\": {\n    \"INV-101\": {\"severity\": \"urgent\"}\n  }\n}", []string{"line 3", `rules.INV-101.severity "urgent"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := LoadPolicy([]byte(c.doc), "test.yaml")
			if err == nil {
				t.Fatalf("loaded: %+v", p.doc)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if !strings.HasPrefix(msg, "policy test.yaml") {
				t.Errorf("error does not name the source: %q", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Errorf("error is %T, want *PolicyError", err)
			}
		})
	}
}

func TestLoadPolicyNormalises(t *testing.T) {
	p := mustLoad(t, `
rules:
  INV-101: {severity: critical}
  INV-106: {formats: [parquet, PARQUET, orc]}
  INV-107: {frequency: daily}
  INV-108: {versions: all}
  INV-109: {required_fields: [encryptionstatus, Size, ObjectAccessControlListV2]}
`)
	st := p.base
	if st[index("INV-101")].severity != SeverityCritical {
		t.Error("severity not parsed case-insensitively")
	}
	if got := approvedFormats.get(st[index("INV-106")]); !reflect.DeepEqual(got, []string{"Parquet", "ORC"}) {
		t.Errorf("formats %v", got)
	}
	if requiredFrequency.get(st[index("INV-107")]) != "Daily" || requiredVersions.get(st[index("INV-108")]) != "All" {
		t.Error("frequency or versions not canonical")
	}
	if got := requiredFields.get(st[index("INV-109")]); !reflect.DeepEqual(got, []string{"EncryptionStatus", "Size", "ObjectAccessControlListV2"}) {
		t.Errorf("required fields %v", got)
	}
	if w := p.Warnings(); len(w) != 1 || !strings.Contains(w[0], "ObjectAccessControlListV2") {
		t.Errorf("warnings %v, want one about the unknown field", w)
	}
}

func TestPolicyRoundTrip(t *testing.T) {
	data, err := os.ReadFile("../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{string(data), string(defaultPolicyYAML), "rules:\n  INV-102: {approved_kms_keys: []}\n"} {
		p := mustLoad(t, doc)
		j1, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		q, err := LoadPolicy(j1, "normalised")
		if err != nil {
			t.Fatalf("normalised policy does not load: %v\n%s", err, j1)
		}
		j2, _ := q.MarshalJSON()
		if string(j1) != string(j2) {
			t.Errorf("normalising twice differs:\n%s\n%s", j1, j2)
		}
		if !reflect.DeepEqual(p.base, q.base) || !reflect.DeepEqual(p.waivers, q.waivers) || len(p.overrides) != len(q.overrides) {
			t.Error("normalised policy means something else")
		}
	}
}

func TestLoadPolicyFile(t *testing.T) {
	if _, err := LoadPolicyFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
	path := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(path, []byte("rules:\n  INV-101: {severity: nope}\n"), 0o600)
	if _, err := LoadPolicyFile(path); err == nil || !strings.HasPrefix(err.Error(), "policy "+path+" line 2: ") {
		t.Errorf("bad file: %v", err)
	}
}

// TestExamplePolicy loads examples/policy.yaml and checks that it says what
// its comments say.
func TestExamplePolicy(t *testing.T) {
	p, err := LoadPolicyFile("../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings()) != 0 {
		t.Errorf("warnings: %v", p.Warnings())
	}
	if len(p.overrides) == 0 || len(p.waivers) == 0 {
		t.Fatal("the example has no override or no waiver")
	}
	prod := inventory.Account{ID: "111111111111", OUID: "ou-prod-11111111"}
	sandbox := inventory.Account{ID: "333333333333", OUID: "ou-sand-33333333"}
	inv001 := index("INV-001")
	if !p.settingsFor(inv001, prod, "data").enabled || p.settingsFor(inv001, sandbox, "scratch").enabled {
		t.Error("INV-001 should be on in production and off in the sandbox OU")
	}
	st := p.base[index("INV-107")]
	if requiredFrequency.get(st) != "Daily" {
		t.Error("the strict example should require Daily reports")
	}
}

func TestOverridePrecedence(t *testing.T) {
	p := mustLoad(t, `
overrides:
  - name: bucket glob, written first
    match: {buckets: ["logs-*"]}
    rules: {INV-001: {severity: CRITICAL}}
  - name: account
    match: {accounts: ["111111111111"]}
    rules: {INV-001: {severity: HIGH}}
  - name: OU, written last
    match: {ous: [ou-abcd-11111111]}
    rules: {INV-001: {severity: LOW, enabled: true}}
  - name: second account override wins over the first
    match: {accounts: ["222222222222"]}
    rules: {INV-001: {severity: INFO}}
  - name: later account override
    match: {accounts: ["222222222222"]}
    rules: {INV-001: {severity: MEDIUM}}
  - name: account and bucket ranks as bucket
    match: {accounts: ["111111111111"], buckets: ["tmp-*"]}
    rules: {INV-001: {enabled: false}}
`)
	acct2 := inventory.Account{ID: "222222222222", OUID: "ou-abcd-11111111"}
	static := inventory.Account{ID: "333333333333"}
	cases := []struct {
		a       inventory.Account
		bucket  string
		sev     Severity
		enabled bool
	}{
		{testAcct, "data", SeverityHigh, true},       // OU then account
		{testAcct, "logs-1", SeverityCritical, true}, // OU, account, then bucket
		{testAcct, "", SeverityHigh, true},           // account level: bucket globs never match
		{testAcct, "tmp-1", SeverityHigh, false},     // account+bucket override
		{acct2, "tmp-1", SeverityMedium, true},       // not account 1: only OU and account 2
		{acct2, "logs-1", SeverityCritical, true},    // bucket beats account
		{static, "data", SeverityMedium, true},       // no OU: registry default
		{inventory.Account{ID: "444444444444", OUID: "ou-abcd-11111111"}, "x", SeverityLow, true},
	}
	for _, c := range cases {
		st := p.settingsFor(index("INV-001"), c.a, c.bucket)
		if got := st.severity; got != c.sev {
			t.Errorf("%s/%s: severity %v, want %v", c.a.ID, c.bucket, got, c.sev)
		}
		if got := st.enabled; got != c.enabled {
			t.Errorf("%s/%s: enabled %v, want %v", c.a.ID, c.bucket, got, c.enabled)
		}
	}
	if p.settingsFor(index("INV-002"), testAcct, "logs-1").severity != SeverityMedium {
		t.Error("an override changed a rule it does not name")
	}
}

func TestOverrideParameters(t *testing.T) {
	p := mustLoad(t, `
rules:
  INV-102: {approved_kms_keys: ["`+testKey+`"]}
  INV-109: {required_fields: [EncryptionStatus]}
overrides:
  - name: sandbox accepts any key and needs no fields
    match: {ous: [ou-sand-11111111]}
    rules:
      INV-102: {approved_kms_keys: []}
      INV-109: {required_fields: []}
  - name: the vault needs more fields
    match: {buckets: [vault-*]}
    rules:
      INV-109: {required_fields: [EncryptionStatus, ObjectLockMode]}
`)
	sandbox := inventory.Account{ID: "333333333333", OUID: "ou-sand-11111111"}
	kms, fields := index("INV-102"), index("INV-109")
	if st := p.settingsFor(kms, sandbox, "x"); len(approvedKMSKeys.get(st)) != 0 || len(requiredFields.get(p.settingsFor(fields, sandbox, "x"))) != 0 {
		t.Errorf("empty lists in an override do not clear: %+v", st)
	}
	if st := p.settingsFor(kms, testAcct, "x"); !reflect.DeepEqual(approvedKMSKeys.get(st), []string{testKey}) {
		t.Error("top-level list lost outside the override")
	}
	if st := p.settingsFor(fields, sandbox, "vault-1"); !reflect.DeepEqual(requiredFields.get(st), []string{"EncryptionStatus", "ObjectLockMode"}) {
		t.Errorf("bucket override does not replace the list: %v", requiredFields.get(st))
	}
	if len(approvedKMSKeys.get(p.base[index("INV-102")])) == 0 {
		t.Error("applying an override changed the policy")
	}
}

func TestWaivers(t *testing.T) {
	p := mustLoad(t, `
waivers:
  - {rule: INV-101, account: "111111111111", bucket: "legacy-*", reason: "SEC-1", expires: 2027-03-31}
  - {rule: INV-101, account: "*", bucket: "shared", reason: "SEC-2", expires: 2027-03-31}
  - {rule: SCAN-001, account: "222222222222", reason: "SEC-3", expires: 2027-03-31}
  - {rule: SCAN-002, account: "222222222222", bucket: "x-*", reason: "SEC-4", expires: 2027-03-31}
  - {rule: INV-103, account: "*", bucket: "*", reason: "SEC-5", expires: 2020-01-01}
`)
	last := time.Date(2027, 3, 31, 23, 59, 59, 0, time.UTC)
	after := time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC)
	sydney := time.FixedZone("AEST", 10*3600)
	cases := []struct {
		name, rule, account, bucket string
		now                         time.Time
		want                        string // reason, "" for none
	}{
		{"glob matches on the last day", "INV-101", testAccount, "legacy-a", last, "SEC-1"},
		{"expired the day after", "INV-101", testAccount, "legacy-a", after, ""},
		{"UTC date decides, not local", "INV-101", testAccount, "legacy-a", time.Date(2027, 4, 1, 9, 0, 0, 0, sydney), "SEC-1"},
		{"other account", "INV-101", otherAcct, "legacy-a", last, ""},
		{"other rule", "INV-103", testAccount, "legacy-a", last, ""},
		{"glob does not match", "INV-101", testAccount, "new-a", last, ""},
		{"any account", "INV-101", otherAcct, "shared", last, "SEC-2"},
		{"account-level, no bucket pattern", "SCAN-001", otherAcct, "", last, "SEC-3"},
		{"account-level needs an any-bucket pattern", "SCAN-002", otherAcct, "", last, ""},
		{"long expired", "INV-103", testAccount, "b", last, ""},
	}
	for _, c := range cases {
		w := p.waiverFor(c.rule, c.account, c.bucket, c.now)
		got := ""
		if w != nil {
			got = w.Reason
		}
		if got != c.want {
			t.Errorf("%s: waiver %q, want %q", c.name, got, c.want)
		}
	}
	if exp := p.ExpiredWaivers(after); len(exp) != 5 {
		t.Errorf("expired after 2027-03-31: %d, want 5", len(exp))
	}
	if exp := p.ExpiredWaivers(last); len(exp) != 1 || exp[0].Reason != "SEC-5" {
		t.Errorf("expired on 2027-03-31: %v", exp)
	}
}

func TestPolicyNotices(t *testing.T) {
	p := mustLoad(t, `
rules:
  INV-109: {required_fields: [Size, ObjectAccessControlListV2]}
waivers:
  - {rule: INV-101, account: "111111111111", bucket: "legacy-*", reason: "SEC-1", expires: 2027-03-31}
  - {rule: SCAN-001, account: "*", reason: "SEC-2", expires: 2099-01-01}
`)
	got := p.Notices(time.Date(2027, 4, 1, 0, 0, 0, 0, time.UTC))
	want := []string{
		`rules.INV-109.required_fields: "ObjectAccessControlListV2" is not an optional field this scanner knows; kept as written`,
		`the waiver of INV-101 for account 111111111111, buckets "legacy-*", expired on 2027-03-31: its findings are open again`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("notices:\n%q\nwant\n%q", got, want)
	}
	if n := DefaultPolicy().Notices(testNow); len(n) != 0 {
		t.Errorf("default policy notices: %q", n)
	}
}
