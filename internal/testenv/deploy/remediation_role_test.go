package deploy

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/app/remediate"
	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// remediationParams turn the remediation role on, with two trusted roles,
// a bucket pattern and a bucket name, and one key.
var remediationParams = map[string]string{
	"CreateRemediationRole":         "true",
	"RemediationPrincipals":         "arn:aws:iam::111122223333:role/scanner-ScannerRole-ABC,arn:aws:iam::111122223333:role/SecurityEngineers",
	"RemediationDestinationBuckets": "org-inventory-*,central-reports",
	"RemediationKeyArns":            reportKeyARN,
}

const reportKeyARN = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// memberStack evaluates member-role.yaml with memberParams and more.
func memberStack(t *testing.T, more ...map[string]string) *stack {
	t.Helper()
	p := maps.Clone(memberParams)
	for _, m := range more {
		maps.Copy(p, m)
	}
	s, err := newStack(loadTemplate(t, "member-role.yaml"), p)
	if err != nil {
		t.Fatalf("member-role.yaml: %v", err)
	}
	return s
}

// identityPolicy reads a role's statements, as the stack evaluates
// them, with the project's policy evaluator.
func identityPolicy(t *testing.T, r *role) *iampolicy.Policy {
	t.Helper()
	var sts []map[string]any
	for _, st := range r.statements {
		sts = append(sts, st.raw)
	}
	doc, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": sts})
	if err != nil {
		t.Fatal(err)
	}
	p, err := iampolicy.ParseIdentity(doc)
	if err != nil {
		t.Fatalf("%s: its policies do not parse as an identity policy: %v\n%s", r.name, err, doc)
	}
	return p
}

// decide asks p about action on resource by a session of the role.
func decide(t *testing.T, p *iampolicy.Policy, role, action, resource string) iampolicy.Outcome {
	t.Helper()
	d, err := p.Decide(iampolicy.Request{AWS: "arn:aws:sts::111122223333:assumed-role/" + role + "/fix", Action: action, Resource: resource})
	if err != nil {
		t.Fatal(err)
	}
	return d.Outcome
}

// readOnlyVerbs begin the names of the actions that read: every action
// the member role grants begins with one of them.
var readOnlyVerbs = []string{"Get", "List", "Describe"}

// TestMemberRoleIsReadOnly: whatever the parameters (the remediation
// role on or off), every action the member role grants is a read (Get*,
// List*, Describe*) but the Security Hub import its own parameter asks
// for, and the project's evaluator allows it none of the writes a fix
// makes.
func TestMemberRoleIsReadOnly(t *testing.T) {
	for _, sc := range []struct {
		name   string
		params map[string]string
	}{
		{"defaults", nil},
		{"no destination checks", map[string]string{"DestinationChecks": "false"}},
		{"security hub export", map[string]string{"SecurityHubExport": "true"}},
		{"with the remediation role", remediationParams},
	} {
		t.Run(sc.name, func(t *testing.T) {
			s := memberStack(t, sc.params)
			r := roles(t, s)["MemberRole"]
			if r == nil {
				t.Fatal("member-role.yaml: no MemberRole")
			}
			for _, st := range r.statements {
				for _, a := range st.actions {
					_, verb, _ := strings.Cut(a, ":")
					if a == securityHubAction && s.params["SecurityHubExport"] == "true" {
						continue
					}
					if st.effect == "Allow" && !slices.ContainsFunc(readOnlyVerbs, func(v string) bool { return strings.HasPrefix(verb, v) }) {
						t.Errorf("%s: grants %s, which is not a read (%v): the member role stays read-only", st.where(), a, readOnlyVerbs)
					}
				}
			}
			p := identityPolicy(t, r)
			for _, w := range [][2]string{
				{"s3:PutInventoryConfiguration", "arn:aws:s3:::payments-ledger"},
				{"s3:PutBucketPolicy", "arn:aws:s3:::org-inventory-eu"},
				{"s3:DeleteBucketPolicy", "arn:aws:s3:::org-inventory-eu"},
				{"s3:PutObject", "arn:aws:s3:::org-inventory-eu/k"},
				{"kms:PutKeyPolicy", "arn:aws:kms:eu-west-1:111122223333:key/k"},
				{"kms:ScheduleKeyDeletion", "arn:aws:kms:eu-west-1:111122223333:key/k"},
			} {
				if got := decide(t, p, "S3InventoryScannerMember", w[0], w[1]); got != iampolicy.NotAllowed {
					t.Errorf("the member role, %s on %s: %v; want NotAllowed", w[0], w[1], got)
				}
			}
		})
	}
}

// TestRemediationRole: off by default; with CreateRemediationRole a role
// of its own, named as `scanner scp` expects, trusted only by the named
// roles with the ExternalId and within the organization, granted exactly
// the six actions a fix needs, each on its resources only: the project's
// evaluator allows the fixes and nothing beside them.
func TestRemediationRole(t *testing.T) {
	def := memberStack(t)
	if rs := roles(t, def); len(rs) != 1 || rs["RemediationRole"] != nil || def.conds["RemediationOn"] {
		t.Fatalf("member-role.yaml with its defaults creates %d roles (remediation %v); want the member role alone", len(rs), def.conds["RemediationOn"])
	}
	if got := def.params["RemediationRoleName"]; got != remediate.DefaultRoleName {
		t.Errorf("member-role.yaml: RemediationRoleName defaults to %q; scanner scp exempts %q", got, remediate.DefaultRoleName)
	}

	s := memberStack(t, remediationParams)
	rs := roles(t, s)
	r := rs["RemediationRole"]
	if len(rs) != 2 || r == nil {
		t.Fatalf("member-role.yaml with CreateRemediationRole: roles %v; want MemberRole and RemediationRole", slices.Sorted(maps.Keys(rs)))
	}
	_, props, err := s.t.Resource("RemediationRole")
	if err != nil {
		t.Fatal(err)
	}
	if refName(props["RoleName"]) != "RemediationRoleName" || refName(props["Path"]) != "RolePath" || props["MaxSessionDuration"] != float64(3600) {
		t.Errorf("RemediationRole: RoleName %v, Path %v, MaxSessionDuration %v; want the RemediationRoleName and RolePath parameters, 3600", props["RoleName"], props["Path"], props["MaxSessionDuration"])
	}
	if len(r.trust) != 1 {
		t.Fatalf("RemediationRole: %d trust statements; want one", len(r.trust))
	}
	st := r.trust[0]
	principal, _ := st["Principal"].(map[string]any)
	eq, _ := raw(st, "Condition", "StringEquals").(map[string]any)
	if want := strings.Split(remediationParams["RemediationPrincipals"], ","); len(principal) != 1 || !slices.Equal(stringList(principal["AWS"]), want) ||
		!slices.Equal(stringList(st["Action"]), []string{"sts:AssumeRole"}) || st["Effect"] != "Allow" {
		t.Errorf("RemediationRole: trusts %v for %v; want only the AWS principals %v, sts:AssumeRole", st["Principal"], st["Action"], want)
	}
	if eq["sts:ExternalId"] != memberParams["ExternalId"] || eq["aws:PrincipalOrgID"] != memberParams["OrganizationId"] || len(eq) != 2 {
		t.Errorf("RemediationRole: trust conditions %v; want the ExternalId and the organization", st["Condition"])
	}
	want := []string{"kms:GetKeyPolicy", "kms:PutKeyPolicy", "s3:GetBucketPolicy", "s3:GetInventoryConfiguration", "s3:PutBucketPolicy", "s3:PutInventoryConfiguration"}
	if got := r.granted(""); !slices.Equal(got, want) {
		t.Errorf("RemediationRole grants %v; want exactly %v", got, want)
	}
	for _, st := range r.statements {
		if _, ok := st.raw["NotAction"]; ok || st.effect != "Allow" || st.raw["NotResource"] != nil {
			t.Errorf("%s: %v; want Allow statements naming their actions and resources", st.where(), st.raw)
		}
	}

	p := identityPolicy(t, r)
	name := s.params["RemediationRoleName"]
	for _, c := range []struct {
		action, resource string
		want             iampolicy.Outcome
	}{
		{"s3:PutInventoryConfiguration", "arn:aws:s3:::payments-ledger", iampolicy.Allow},
		{"s3:GetInventoryConfiguration", "arn:aws:s3:::payments-ledger", iampolicy.Allow},
		{"s3:PutBucketPolicy", "arn:aws:s3:::org-inventory-eu-west-1", iampolicy.Allow},
		{"s3:GetBucketPolicy", "arn:aws:s3:::central-reports", iampolicy.Allow},
		{"kms:PutKeyPolicy", reportKeyARN, iampolicy.Allow},
		{"kms:GetKeyPolicy", reportKeyARN, iampolicy.Allow},
		{"s3:PutBucketPolicy", "arn:aws:s3:::payments-ledger", iampolicy.NotAllowed},
		{"s3:PutBucketPolicy", "arn:aws:s3:::central-reports-2", iampolicy.NotAllowed},
		{"s3:DeleteBucketPolicy", "arn:aws:s3:::org-inventory-eu-west-1", iampolicy.NotAllowed},
		{"s3:PutObject", "arn:aws:s3:::org-inventory-eu-west-1/inventory/x", iampolicy.NotAllowed},
		{"s3:DeleteBucket", "arn:aws:s3:::payments-ledger", iampolicy.NotAllowed},
		{"kms:PutKeyPolicy", "arn:aws:kms:eu-west-1:222222222222:key/0badc0de-0000-4000-8000-000000000001", iampolicy.NotAllowed},
		{"kms:Decrypt", reportKeyARN, iampolicy.NotAllowed},
		{"kms:ScheduleKeyDeletion", reportKeyARN, iampolicy.NotAllowed},
		{"iam:PassRole", "arn:aws:iam::111122223333:role/Admin", iampolicy.NotAllowed},
	} {
		if got := decide(t, p, name, c.action, c.resource); got != c.want {
			t.Errorf("the remediation role, %s on %s: %v; want %v", c.action, c.resource, got, c.want)
		}
	}

	// Without buckets or keys named, nothing on bucket or key policies.
	for _, c := range []struct {
		param, gone string
	}{{"RemediationDestinationBuckets", "s3:PutBucketPolicy"}, {"RemediationKeyArns", "kms:PutKeyPolicy"}} {
		p := maps.Clone(remediationParams)
		p[c.param] = ""
		r := roles(t, memberStack(t, p))["RemediationRole"]
		if got := r.granted(""); slices.Contains(got, c.gone) || len(got) != 4 {
			t.Errorf("RemediationRole with %s empty grants %v; want none of its two actions", c.param, got)
		}
	}
}

// TestRemediationParameters: the patterns take what they describe and
// refuse wildcards that would widen the grants; CreateRemediationRole
// without principals is refused by the template's rule.
func TestRemediationParameters(t *testing.T) {
	tpl := loadTemplate(t, "member-role.yaml")
	for name, cases := range map[string]map[string]bool{
		"RemediationDestinationBuckets": {"": true, "org-inventory-*": true, "org-inventory-*,central-reports": true, "central.reports-2026": true,
			"*": false, "?*": false, "org-inventory-*,*": false, "Org-Inventory": false, "a b": false, "org,": false},
		"RemediationPrincipals": {"": true, "arn:aws:iam::111122223333:role/Ops": true, "arn:aws:iam::111122223333:role/Ops,arn:aws-us-gov:iam::111122223333:role/path/Sec": true,
			"*": false, "arn:aws:iam::111122223333:root": false, "arn:aws:iam::111122223333:user/alice": false, "arn:aws:iam::*:role/Ops": false, "arn:aws:iam::111122223333:role/Ops,": false},
		"RemediationKeyArns": {"": true, reportKeyARN: true, reportKeyARN + "," + strings.Replace(reportKeyARN, "eu-west-1", "us-east-1", 1): true,
			"arn:aws:kms:eu-west-1:222222222222:key/*": false, "arn:aws:kms:eu-west-1:222222222222:alias/reports": false, "1234abcd-12ab-34cd-56ef-1234567890ab": false},
		"RemediationRoleName": {"S3InventoryScannerRemediation": true, "path/Name": false, "Fix*": false},
	} {
		pattern, _ := raw(tpl.Raw, "Parameters", name, "AllowedPattern").(string)
		re, err := regexp.Compile(pattern)
		if err != nil || pattern == "" {
			t.Fatalf("member-role.yaml: %s's AllowedPattern %q: %v", name, pattern, err)
		}
		for v, ok := range cases {
			if re.MatchString(v) != ok {
				t.Errorf("member-role.yaml: %s %q matches the AllowedPattern: %v; want %v", name, v, !ok, ok)
			}
		}
	}

	rule, _ := raw(tpl.Raw, "Rules", "RemediationNamesItsPrincipals").(map[string]any)
	asserts, _ := rule["Assertions"].([]any)
	if rule == nil || len(asserts) != 1 {
		t.Fatalf("member-role.yaml: no rule RemediationNamesItsPrincipals with one assertion")
	}
	for _, c := range []struct {
		create, principals string
		applies, holds     bool
	}{
		{"true", "", true, false},
		{"true", "arn:aws:iam::111122223333:role/Ops", true, true},
		{"false", "", false, true},
	} {
		s := memberStack(t, map[string]string{"CreateRemediationRole": c.create, "RemediationPrincipals": c.principals})
		applies, err := s.boolean(rule["RuleCondition"], 0)
		if err != nil {
			t.Fatal(err)
		}
		holds, err := s.boolean(raw(asserts[0], "Assert"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if applies != c.applies || applies && holds != c.holds {
			t.Errorf("CreateRemediationRole %s, RemediationPrincipals %q: the rule applies %v, holds %v; want %v, %v", c.create, c.principals, applies, holds, c.applies, c.holds)
		}
	}
}
