package rules

import (
	"strings"
	"testing"
)

// FuzzLoadPolicy: LoadPolicy never panics, its errors are one line naming
// the source, and a policy that loads re-validates: its normalised form
// loads again and normalises to itself.
func FuzzLoadPolicy(f *testing.F) {
	// Small seeds: the fuzzer minimises every interesting input, and the
	// full default and example policies make that slow. The unit tests
	// load those.
	for _, s := range []string{
		"", "{}", "version: 1\n", "rules: {INV-101: {severity: low}}",
		`{"rules": {"INV-106": {"formats": ["csv"]}}}`,
		"overrides:\n  - match: {ous: [r-abcd]}\n    rules: {INV-109: {required_fields: [Size]}}\n",
		"waivers:\n  - {rule: SCAN-001, account: \"*\", reason: r, expires: 2027-01-01}\n",
		"rules:\n  INV-102:\n    approved_kms_keys: [arn:aws:kms:us-east-1:111111111111:key/abc]\n  INV-104: {approved_accounts: [\"999999999999\"]}\n  INV-105: {approved_buckets: [\"arn:aws:s3:::inv-*\"]}\n",
		"overrides:\n  - name: x\n    match: {accounts: [\"111111111111\"], buckets: [tmp-*]}\n    rules: {INV-001: {enabled: false}, INV-107: {frequency: daily}}\n",
		"a: &a [*a, *a]\nb: *a\n", "rules: !!map {INV-101: {}}", "version: 1\n---\n",
		"limits: {findings_per_bucket: 7}\n", "rules: {SCAN-006: {}}\n",
	} {
		f.Add([]byte(s))
	}
	// Hostile documents: alias bombs, deep nesting in flow and block
	// style, a document past the size limit.
	for _, h := range hostilePolicies {
		f.Add([]byte(h.doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadPolicy(data, "fuzz")
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "policy fuzz") {
				t.Fatalf("error not one line naming the source: %q", msg)
			}
			return
		}
		j1, err := p.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		q, err := LoadPolicy(j1, "normalised")
		if err != nil {
			t.Fatalf("a loaded policy does not re-validate: %v\n%s", err, j1)
		}
		j2, _ := q.MarshalJSON()
		if string(j1) != string(j2) {
			t.Fatalf("normalised form not stable:\n%s\n%s", j1, j2)
		}
		// The policy can be evaluated.
		e := NewEvaluator(p, testOrg)
		e.Bucket(benchBucket(2), "s", testNow)
		e.Bucket(bucketWith(), "s", testNow)
	})
}

// FuzzParseSeverity: any input either parses to a valid severity whose
// name parses back to it, or fails; UnmarshalText agrees with ParseSeverity.
func FuzzParseSeverity(f *testing.F) {
	for _, s := range []string{"HIGH", "low", "Critical", "", "INFO ", "ınfo", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		s, err := ParseSeverity(name)
		var u Severity
		uerr := u.UnmarshalText([]byte(name))
		if (err == nil) != (uerr == nil) || s != u {
			t.Fatalf("ParseSeverity(%q) = %v, %v; UnmarshalText: %v, %v", name, s, err, u, uerr)
		}
		if err != nil {
			if s != 0 {
				t.Fatalf("error with a severity %v", s)
			}
			return
		}
		if !s.Valid() || !strings.EqualFold(s.String(), name) {
			t.Fatalf("ParseSeverity(%q) = %v", name, s)
		}
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseSeverity(string(b))
		if err != nil || back != s {
			t.Fatalf("round trip %v → %s → %v, %v", s, b, back, err)
		}
	})
}

func TestSeverity(t *testing.T) {
	for _, s := range Severities() {
		got, err := ParseSeverity(strings.ToLower(s.String()))
		if err != nil || got != s {
			t.Errorf("ParseSeverity(%s): %v, %v", s, got, err)
		}
	}
	if _, err := Severity(0).MarshalText(); err == nil {
		t.Error("MarshalText of the zero severity succeeded")
	}
	if !(SeverityCritical > SeverityHigh && SeverityLow > SeverityInfo) {
		t.Error("severities do not compare by rank")
	}
}
