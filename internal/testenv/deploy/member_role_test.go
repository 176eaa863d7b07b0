package deploy

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/scan"
)

// memberParams are values for member-role.yaml's required parameters.
var memberParams = map[string]string{
	"ScannerRoleArn":           "arn:aws:iam::111122223333:role/scanner-ScannerRole-ABC",
	"ExternalId":               "ext-0123",
	"OrganizationId":           "o-abcdefghij",
	"DestinationBucketPattern": "org-inventory-*",
}

// TestMemberRole checks member-role.yaml: one role, trusted only by the
// scanner's role with the ExternalId and within the organization, allowed
// only to list buckets and read their inventory configurations (and, with
// DestinationChecks, to read destination bucket policies, list their keys
// and describe the account's KMS keys), named as the scanner expects.
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

	// Permissions: the two S3 actions, and the destination checks' four
	// under their parameter.
	checkMemberPermissions(t, name, r, true, "arn:aws:s3:::org-inventory-*", false)
	for _, sc := range []struct {
		name    string
		params  map[string]string
		on      bool
		buckets string
		hub     bool
	}{
		{"destination checks off", map[string]string{"DestinationChecks": "false"}, false, "", false},
		{"destination bucket pattern", map[string]string{"DestinationBucketPattern": "acme-inventory-??-*"}, true, "arn:aws:s3:::acme-inventory-??-*", false},
		{"security hub export", map[string]string{"SecurityHubExport": "true"}, true, "arn:aws:s3:::org-inventory-*", true},
		{"security hub export, no destination checks", map[string]string{"SecurityHubExport": "true", "DestinationChecks": "false"}, false, "", true},
	} {
		t.Run(sc.name, func(t *testing.T) {
			p := maps.Clone(memberParams)
			maps.Copy(p, sc.params)
			ss, err := newStack(tpl, p)
			if err != nil {
				t.Fatalf("member-role.yaml: %v", err)
			}
			checkMemberPermissions(t, name, roles(t, ss)[name], sc.on, sc.buckets, sc.hub)
		})
	}

	// The destination pattern: required, and never every bucket.
	dp, _ := raw(tpl.Raw, "Parameters", "DestinationBucketPattern").(map[string]any)
	if _, ok := dp["Default"]; ok {
		t.Errorf("member-role.yaml: DestinationBucketPattern has the default %v; want none (required)", dp["Default"])
	}
	re := regexp.MustCompile(fmt.Sprint(dp["AllowedPattern"]))
	for v, ok := range map[string]bool{"org-inventory-*": true, "acme-inventory-us-east-1": true, "*-inventory": true, "inv?-*": true,
		"*": false, "**": false, "?": false, "*a*": false, "ab*": false, "*a?b*": false, "": false, "Org-Inventory": false, "arn:aws:s3:::x": false} {
		if re.MatchString(v) != ok {
			t.Errorf("member-role.yaml: DestinationBucketPattern %q matches the AllowedPattern: %v; want %v", v, !ok, ok)
		}
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

// destinationActions are the member role's grants for the destination
// checks, allowed only with DestinationChecks "true".
var destinationActions = []string{"kms:DescribeKey", "kms:GetKeyPolicy", "s3:GetBucketPolicy", "s3:ListBucket"}

// securityHubAction is the member role's grant for the Security Hub
// export (report/securityhub calls nothing else), allowed only with
// SecurityHubExport "true", on the account's default product only.
const securityHubAction = "securityhub:BatchImportFindings"

// checkMemberPermissions checks the member role's Allow statements: the
// two S3 actions on every bucket, and, when destinations is set, exactly
// destinationActions, the S3 ones on buckets only and the KMS ones on the
// stack account's keys only; when securityHub is set, securityHubAction
// on the stack account's default product, in any Region.
func checkMemberPermissions(t *testing.T, name string, r *role, destinations bool, buckets string, securityHub bool) {
	t.Helper()
	if r == nil {
		t.Fatalf("member-role.yaml: no role %s", name)
	}
	const keys = "arn:aws:kms:*:111122223333:key/*" // pseudo AWS::AccountId
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
		only := func(a string, want ...string) {
			for _, res := range st.resources {
				if !slices.Contains(want, res) {
					t.Errorf("%s: %s on %q; want it only on %v", st.where(), a, res, want)
				}
			}
		}
		for _, a := range st.actions {
			switch {
			case a == "s3:ListAllMyBuckets":
			case a == "s3:GetInventoryConfiguration":
				only(a, "arn:aws:s3:::*", "*")
			case a == securityHubAction:
				if !securityHub {
					t.Errorf("%s: grants %s with SecurityHubExport false", st.where(), a)
				}
				only(a, "arn:aws:securityhub:*:111122223333:product/111122223333/default")
			case !slices.Contains(destinationActions, a):
				t.Errorf("%s: grants %s; the member role may only grant s3:ListAllMyBuckets, s3:GetInventoryConfiguration and, for destination checks, %v", st.where(), a, destinationActions)
			case !destinations:
				t.Errorf("%s: grants %s with DestinationChecks false", st.where(), a)
			case strings.HasPrefix(a, "s3:"):
				only(a, buckets)
			default:
				only(a, keys)
			}
			if len(st.resources) == 0 {
				t.Errorf("%s: %s on no resource", st.where(), a)
			}
		}
	}
	want := []string{"s3:GetInventoryConfiguration", "s3:ListAllMyBuckets"}
	if destinations {
		want = append(want, destinationActions...)
	}
	if securityHub {
		want = append(want, securityHubAction)
	}
	slices.Sort(want)
	if got := r.granted(""); !slices.Equal(got, want) {
		t.Errorf("%s: grants %v; want %v", name, got, want)
	}
}

// TestMemberRoleTrustsTheWorkers: with WorkerRoleArn set (the scanner
// stack's output of that name, for a fan-out) the member role trusts the
// scanner's role and the workers' role, under the same ExternalId and
// organization conditions; without it, the scanner's role alone. The
// template's WorkerRoleArn output is the role WorkerFunction runs as.
func TestMemberRoleTrustsTheWorkers(t *testing.T) {
	tpl := loadTemplate(t, "member-role.yaml")
	const worker = "arn:aws:iam::111122223333:role/scanner-WorkerRole-DEF"
	for _, c := range []struct {
		name, worker string
		want         []string
	}{
		{"without WorkerRoleArn", "", []string{memberParams["ScannerRoleArn"]}},
		{"with WorkerRoleArn", worker, []string{memberParams["ScannerRoleArn"], worker}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := maps.Clone(memberParams)
			if c.worker != "" {
				p["WorkerRoleArn"] = c.worker
			}
			s, err := newStack(tpl, p)
			if err != nil {
				t.Fatalf("member-role.yaml: %v", err)
			}
			for name, r := range roles(t, s) {
				if len(r.trust) != 1 {
					t.Fatalf("%s: %d trust statements; want one", name, len(r.trust))
				}
				st := r.trust[0]
				principal, _ := st["Principal"].(map[string]any)
				if got := stringList(principal["AWS"]); len(principal) != 1 || !slices.Equal(got, c.want) {
					t.Errorf("%s: trusts %v; want the AWS principals %v", name, st["Principal"], c.want)
				}
				eq, _ := raw(st, "Condition", "StringEquals").(map[string]any)
				if eq["sts:ExternalId"] != memberParams["ExternalId"] || eq["aws:PrincipalOrgID"] != memberParams["OrganizationId"] {
					t.Errorf("%s: trust conditions %v; want the ExternalId and the organization for every principal", name, st["Condition"])
				}
			}
		})
	}
	pattern, _ := raw(tpl.Raw, "Parameters", "WorkerRoleArn", "AllowedPattern").(string)
	re, err := regexp.Compile(pattern)
	if err != nil || pattern == "" {
		t.Fatalf("member-role.yaml: WorkerRoleArn's AllowedPattern %q: %v", pattern, err)
	}
	for v, ok := range map[string]bool{"": true, worker: true, "WorkerRole": false, "arn:aws:iam::1111:role/x": false, worker + " ": false} {
		if re.MatchString(v) != ok {
			t.Errorf("member-role.yaml: WorkerRoleArn %q matches the AllowedPattern: %v; want %v", v, !ok, ok)
		}
	}

	sc := loadTemplate(t, "template.yaml")
	out, _ := raw(sc.Raw, "Outputs", "WorkerRoleArn", "Value").(map[string]any)
	_, props, err := sc.Resource("WorkerFunction")
	if err != nil {
		t.Fatal(err)
	}
	if role := getAttName(props["Role"]); getAttName(out) == "" || getAttName(out) != role {
		t.Errorf("template.yaml: output WorkerRoleArn is %v; WorkerFunction runs as %v", out, props["Role"])
	}
}
