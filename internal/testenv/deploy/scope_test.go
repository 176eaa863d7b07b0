package deploy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// stackOrg is the organization of the stack's account in these checks:
// what IAM puts in ${aws:PrincipalOrgID} for the functions' roles.
const stackOrg = "o-stack0example"

// assumes reports whether role r's statements allow sts:AssumeRole on
// roleARN, whose account is in organization org ("" for an account in
// no organization), as IAM decides an identity policy: the statements
// that name sts:AssumeRole, the principal's policy variable
// ${aws:PrincipalOrgID} filled in with stackOrg, the role's account and
// organization as aws:ResourceAccount and aws:ResourceOrgID. Decided by
// internal/iampolicy, as a resource policy of principal "*" (an identity
// policy applies to its own principal only); anything it cannot decide
// fails the test.
func assumes(t *testing.T, r *role, roleARN, org string) bool {
	t.Helper()
	var sts []map[string]any
	for _, st := range r.statements {
		for _, a := range st.actions {
			if iamMatch(a, "sts:AssumeRole") {
				s := map[string]any{"Principal": "*"}
				for k, v := range st.raw {
					s[k] = v
				}
				sts = append(sts, s)
				break
			}
		}
	}
	if len(sts) == 0 {
		return false
	}
	doc, err := json.Marshal(map[string]any{"Version": iampolicy.Version2012, "Statement": sts})
	if err != nil {
		t.Fatal(err)
	}
	p, err := iampolicy.Parse([]byte(strings.ReplaceAll(string(doc), "${aws:PrincipalOrgID}", stackOrg)))
	if err != nil {
		t.Fatalf("%s: sts:AssumeRole statements %s: %v", r.name, doc, err)
	}
	account := strings.Split(roleARN, ":")[4]
	ctx := map[string][]string{"aws:ResourceAccount": {account}, "aws:ResourceOrgID": {}, "aws:PrincipalOrgID": {stackOrg}}
	if org != "" {
		ctx["aws:ResourceOrgID"] = []string{org}
	}
	d, err := p.Decide(iampolicy.Request{AWS: "arn:aws:sts::111122223333:assumed-role/" + r.name + "/scan",
		Action: "sts:AssumeRole", Resource: roleARN, Context: ctx})
	if err != nil || d.Outcome == iampolicy.Unknown {
		t.Fatalf("%s: sts:AssumeRole on %s: %v %v (%s)", r.name, roleARN, d.Outcome, err, d.Reason)
	}
	return d.Outcome == iampolicy.Allow
}

// TestAssumeRoleStaysInScope: the scanner's and the workers' roles may
// assume the member role in the accounts of the scan's scope and in no
// other: with AccountSource organizations, accounts of the stack's own
// organization (aws:ResourceOrgID); with static, the listed accounts,
// even of the same organization. So a configuration that names a
// destination elsewhere cannot make the scanner enter that account, even
// if the code tried.
func TestAssumeRoleStaysInScope(t *testing.T) {
	const member = "arn:aws:iam::%s:role/S3InventoryScannerMember"
	role := func(acct string) string { return strings.Replace(member, "%s", acct, 1) }
	tpl := loadTemplate(t, "template.yaml")
	for _, c := range []struct {
		name   string
		params map[string]string
		// want: role ARN, its organization → allowed
		want []struct {
			arn, org string
			ok       bool
		}
	}{
		{"organizations", map[string]string{"ExternalId": "ext-0123"}, []struct {
			arn, org string
			ok       bool
		}{
			{role("444455556666"), stackOrg, true},
			{role("444455556666"), "o-another00org", false}, // another organization's account
			{role("999988887777"), "", false},               // an account in no organization
			{strings.Replace(role("444455556666"), "S3InventoryScannerMember", "OrganizationAccountAccessRole", 1), stackOrg, false},
		}},
		{"static", map[string]string{"ExternalId": "ext-0123", "AccountSource": "static", "Accounts": "111111111111, 222222222222"}, []struct {
			arn, org string
			ok       bool
		}{
			{role("111111111111"), stackOrg, true},
			{role("222222222222"), stackOrg, true},  // after ", ": spaces are not part of the account
			{role("333333333333"), stackOrg, false}, // of the organization, but not listed
			{role("999988887777"), "", false},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := newStack(tpl, c.params)
			if err != nil {
				t.Fatal(err)
			}
			rs := roles(t, s)
			for _, fn := range []string{"ScannerFunction", "WorkerFunction"} {
				r := rs[roleOf(t, s, fn)]
				for _, w := range c.want {
					if got := assumes(t, r, w.arn, w.org); got != w.ok {
						t.Errorf("%s (%s): sts:AssumeRole on %s (organization %q) allowed: %v; want %v", r.name, fn, w.arn, w.org, got, w.ok)
					}
				}
			}
		})
	}
}
