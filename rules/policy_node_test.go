package rules

import (
	"reflect"
	"strings"
	"testing"
)

// TestPolicyScalars: the conversion from the syntax tree keeps plain
// scalars as written where a string is wanted, takes only true and false
// as booleans, looks through tags except !!str, and accepts block scalars.
func TestPolicyScalars(t *testing.T) {
	p := mustLoad(t, `
version: 0x1
rules:
  INV-104: {approved_accounts: [012345678901, 111111111111]}
  INV-101: {enabled: !!bool true, severity: !!str low}
  INV-107:
    frequency: |-
      daily
overrides:
  - match: {accounts: [222222222222]}
    rules: !!map {INV-001: {enabled: False}}
waivers:
  - {rule: INV-101, account: "*", reason: 2027, expires: 2027-01-01}
`)
	st := p.base
	if got := approvedAccounts.get(st[index("INV-104")]); !reflect.DeepEqual(got, []string{"012345678901", "111111111111"}) {
		t.Errorf("approved accounts %q: want the IDs as written", got)
	}
	if st[index("INV-101")].severity != SeverityLow || requiredFrequency.get(st[index("INV-107")]) != "Daily" {
		t.Error("a tagged or block scalar was not read")
	}
	if len(p.overrides) != 1 || p.overrides[0].accounts[0] != "222222222222" || *p.overrides[0].rules[index("INV-001")].enabled {
		t.Errorf("override %+v", p.overrides)
	}
	if len(p.waivers) != 1 || p.waivers[0].Reason != "2027" || p.waivers[0].Expires != "2027-01-01" {
		t.Errorf("waivers %+v", p.waivers)
	}

	for doc, want := range map[string]string{
		"version: !!str 1\n": `line 1: version "1": want the integer 1`,
		"version: [1]\n":     "line 1: version: want the integer 1",
		"version: 1.0\n":     `version "1.0": want the integer 1`,
		"rules:\n  INV-101: {enabled: !!str true}\n":                `line 2: rules.INV-101.enabled "true": want true or false`,
		"rules:\n  INV-101: {severity: [LOW]}\n":                    "line 2: rules.INV-101.severity: want a string",
		"rules:\n  INV-104:\n    approved_accounts:\n      - [1]\n": "line 4: rules.INV-104.approved_accounts.0: want a string",
		"rules:\n  INV-101: x\n":                                    `line 2: rules.INV-101 "x": want a mapping of enabled, severity`,
		"rules:\n  INV-106: 5\n":                                    `rules.INV-106 "5": want a mapping of enabled, severity, formats`,
		"overrides: x\n":                                            `line 1: overrides "x": want a list`,
		"overrides:\n  - 5\n":                                       `line 2: overrides.0 "5": want a mapping`,
		"overrides:\n  - name: [x]\n":                               "line 2: overrides.0.name: want a string",
		"waivers:\n  - rule: {a: b}\n":                              "line 2: waivers.0.rule: want a string",
		"<<: {version: 1}\n":                                        `line 1 "<<": unknown key`,
		"!!str\n":                                                   "line 1",
	} {
		_, err := LoadPolicy([]byte(doc), "test.yaml")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line with %q", doc, err, want)
		}
	}
}
