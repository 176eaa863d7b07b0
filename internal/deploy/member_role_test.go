package deploy

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/scan"
)

// memberParams are values for member-role.yaml's required parameters.
var memberParams = map[string]string{
	"ScannerRoleArn": "arn:aws:iam::111122223333:role/scanner-ScannerRole-ABC",
	"ExternalId":     "ext-0123",
	"OrganizationId": "o-abcdefghij",
}

// TestMemberRole checks member-role.yaml: one role, trusted only by the
// scanner's role with the ExternalId and within the organization, allowed
// only to list buckets and read their inventory configurations, named as
// the scanner expects.
func TestMemberRole(t *testing.T) {
	tpl := loadTemplate(t, "member-role.yaml")
	s, err := newStack(tpl, memberParams)
	if err != nil {
		t.Fatalf("member-role.yaml: %v", err)
	}
	rs := roles(t, s)
	if len(rs) != 1 {
		t.Fatalf("member-role.yaml: %d roles; want exactly one", len(rs))
	}
	var r *role
	var name string
	for n, v := range rs {
		name, r = n, v
	}

	// Trust: the scanner's role, with both conditions, nothing else.
	if len(r.trust) != 1 {
		t.Fatalf("%s: %d trust statements; want one", name, len(r.trust))
	}
	st := r.trust[0]
	if st["Effect"] != "Allow" || !slices.Equal(stringList(st["Action"]), []string{"sts:AssumeRole"}) {
		t.Errorf("%s: trust statement %v %v; want Allow sts:AssumeRole", name, st["Effect"], st["Action"])
	}
	principal, _ := st["Principal"].(map[string]any)
	if len(principal) != 1 || !slices.Equal(stringList(principal["AWS"]), []string{memberParams["ScannerRoleArn"]}) {
		t.Errorf("%s: trusts %v; want only the ScannerRoleArn parameter (AWS principal)", name, st["Principal"])
	}
	cond, _ := st["Condition"].(map[string]any)
	eq, _ := cond["StringEquals"].(map[string]any)
	if eq["sts:ExternalId"] != memberParams["ExternalId"] {
		t.Errorf("%s: trust has no StringEquals sts:ExternalId = the ExternalId parameter (got %v)", name, cond)
	}
	if eq["aws:PrincipalOrgID"] != memberParams["OrganizationId"] {
		t.Errorf("%s: trust has no StringEquals aws:PrincipalOrgID = the OrganizationId parameter (got %v)", name, cond)
	}

	// Permissions: exactly the two S3 actions.
	want := map[string]bool{"s3:ListAllMyBuckets": true, "s3:GetInventoryConfiguration": true}
	for _, st := range r.statements {
		if _, ok := st.raw["NotAction"]; ok {
			t.Errorf("%s: NotAction; name the actions", st.where())
		}
		if _, ok := st.raw["NotResource"]; ok {
			t.Errorf("%s: NotResource; name the resources", st.where())
		}
		if st.effect != "Allow" {
			continue
		}
		for _, a := range st.actions {
			if !want[a] {
				t.Errorf("%s: grants %s; the member role may only grant s3:ListAllMyBuckets and s3:GetInventoryConfiguration", st.where(), a)
			}
			if a == "s3:GetInventoryConfiguration" {
				for _, res := range st.resources {
					if res != "arn:aws:s3:::*" && res != "*" {
						t.Errorf("%s: s3:GetInventoryConfiguration on %q; want every bucket (arn:${AWS::Partition}:s3:::*)", st.where(), res)
					}
				}
			}
		}
	}
	if got, w := r.granted("s3:"), []string{"s3:GetInventoryConfiguration", "s3:ListAllMyBuckets"}; !slices.Equal(got, w) {
		t.Errorf("%s: grants %v; want %v", name, got, w)
	}

	// Name, path and session length.
	_, props, err := tpl.Resource(name)
	if err != nil {
		t.Fatal(err)
	}
	if props["MaxSessionDuration"] != float64(3600) {
		t.Errorf("%s.MaxSessionDuration = %v; want 3600 (role chaining caps sessions at an hour)", name, props["MaxSessionDuration"])
	}
	nameParam, pathParam := refName(props["RoleName"]), refName(props["Path"])
	if nameParam == "" || pathParam == "" {
		t.Fatalf("%s: RoleName = %v, Path = %v; want both from parameters", name, props["RoleName"], props["Path"])
	}
	var defaultRole string
	for _, e := range config.Env {
		if e.Name == "SCANNER_ROLE_NAME" {
			defaultRole = e.Default
		}
	}
	if got := s.params[nameParam]; got != defaultRole {
		t.Errorf("member-role.yaml: %s defaults to %q; the scanner's SCANNER_ROLE_NAME defaults to %q", nameParam, got, defaultRole)
	}

	// The ARN the scanner assumes is the role this template creates, with
	// and without a path.
	for _, c := range []struct{ path, scannerName string }{
		{"/", defaultRole},
		{"/security/", "security/" + defaultRole},
	} {
		p := map[string]string{pathParam: c.path}
		for k, v := range memberParams {
			p[k] = v
		}
		ms, err := newStack(tpl, p)
		if err != nil {
			t.Fatal(err)
		}
		const acct = "444455556666"
		created := fmt.Sprintf("arn:aws:iam::%s:role%s%s", acct, ms.params[pathParam], ms.params[nameParam])
		assumed := scan.Role{Name: c.scannerName, Partition: "aws"}.ARN(acct)
		if created != assumed {
			t.Errorf("member role with Path %q is %s; the scanner with MemberRoleName %q assumes %s", c.path, created, c.scannerName, assumed)
		}
		// And the scanner's policy allows assuming it.
		sc, err := newStack(loadTemplate(t, "template.yaml"), map[string]string{"ExternalId": "ext-0123", "MemberRoleName": c.scannerName})
		if err != nil {
			t.Fatal(err)
		}
		var allowed bool
		for _, st := range roles(t, sc)[functionRole(t, sc)].statements {
			if slices.Contains(st.actions, "sts:AssumeRole") && slices.ContainsFunc(st.resources, func(pat string) bool { return iamMatch(pat, created) }) {
				allowed = true
			}
			if slices.Contains(st.actions, "sts:AssumeRole") && slices.ContainsFunc(st.resources, func(pat string) bool {
				return iamMatch(pat, strings.Replace(created, ms.params[nameParam], "OrganizationAccountAccessRole", 1))
			}) {
				t.Errorf("the scanner's sts:AssumeRole %v also matches OrganizationAccountAccessRole", st.resources)
			}
		}
		if !allowed {
			t.Errorf("the scanner (MemberRoleName %q) may not assume %s", c.scannerName, created)
		}
	}

	if len(tpl.ResourcesOfType("AWS::IAM::User"))+len(tpl.ResourcesOfType("AWS::IAM::Policy"))+len(tpl.ResourcesOfType("AWS::IAM::ManagedPolicy")) > 0 {
		t.Errorf("member-role.yaml: creates IAM users or policies besides the role")
	}
}
