package scan

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFilterSelects(t *testing.T) {
	// 111 sits in ou-a (under the root), 222 in ou-b under ou-a, 333 at the root.
	anc := map[string][]string{
		"111111111111": {"ou-aaaa-11111111", "r-root"},
		"222222222222": {"ou-bbbb-22222222", "ou-aaaa-11111111", "r-root"},
		"333333333333": {"r-root"},
	}
	tests := []struct {
		name string
		f    Filter
		want string // selected accounts, in order
	}{
		{"everything", Filter{}, "111111111111 222222222222 333333333333"},
		{"include an OU and its children", Filter{IncludeOUs: []string{"ou-aaaa-11111111"}}, "111111111111 222222222222"},
		{"include a nested OU", Filter{IncludeOUs: []string{"ou-bbbb-22222222"}}, "222222222222"},
		{"include an account", Filter{IncludeAccounts: []string{"333333333333"}}, "333333333333"},
		{"include OU or account", Filter{IncludeOUs: []string{"ou-bbbb-22222222"}, IncludeAccounts: []string{"333333333333"}}, "222222222222 333333333333"},
		{"exclude an OU", Filter{ExcludeOUs: []string{"ou-bbbb-22222222"}}, "111111111111 333333333333"},
		{"exclude wins over include", Filter{IncludeOUs: []string{"ou-aaaa-11111111"}, ExcludeAccounts: []string{"111111111111"}}, "222222222222"},
		{"exclude the root", Filter{ExcludeOUs: []string{"r-root"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, id := range []string{"111111111111", "222222222222", "333333333333"} {
				if tt.f.selects(id, anc[id]) {
					got = append(got, id)
				}
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("selected %q, want %q", s, tt.want)
			}
		})
	}
}

func TestFilterValidate(t *testing.T) {
	for _, tt := range []struct {
		f    Filter
		want string
	}{
		{Filter{IncludeAccounts: []string{"12345"}}, `include accounts: "12345" is not a 12-digit account ID`},
		{Filter{ExcludeOUs: []string{"ou-x"}}, `exclude OUs: "ou-x" is not an OU ID`},
		{Filter{IncludeOUs: []string{"ou-ab12-abcdefgh", "r-ab12"}}, ""},
	} {
		err := tt.f.Validate()
		if (err == nil) != (tt.want == "") || (err != nil && !strings.HasPrefix(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.f, err, tt.want)
		}
	}
}

func TestStaticAccounts(t *testing.T) {
	org, err := StaticAccounts([]string{"222222222222", " 111111111111", "222222222222"})
	if err != nil {
		t.Fatal(err)
	}
	if org.FromOrganizations || len(org.Targets) != 2 || org.Targets[0].ID != "111111111111" || org.Targets[1].ID != "222222222222" {
		t.Errorf("org = %+v, want two sorted, de-duplicated targets", org)
	}
	// The list is the scan's scope: its accounts, and no other, are members.
	if len(org.Members) != 2 || !org.Members["111111111111"] || !org.Members["222222222222"] {
		t.Errorf("members %v, want the two listed accounts", org.Members)
	}
	for _, bad := range [][]string{{"11111111111"}, {"1111111111111"}, {"11111111111a"}, {}} {
		if _, err := StaticAccounts(bad); err == nil {
			t.Errorf("StaticAccounts(%q) accepted", bad)
		}
	}
}

func TestRole(t *testing.T) {
	r := Role{Name: "InventoryScanner", SessionName: "s3-inventory-scanner", Partition: "aws"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := r.ARN("111111111111"); got != "arn:aws:iam::111111111111:role/InventoryScanner" {
		t.Errorf("ARN = %s", got)
	}
	r.Name, r.Partition = "security/scanner-{account_id}", "aws-cn"
	if got := r.ARN("111111111111"); got != "arn:aws-cn:iam::111111111111:role/security/scanner-111111111111" {
		t.Errorf("ARN with path and placeholder = %s", got)
	}
	bad := []Role{
		{Name: "", SessionName: "ok"},
		{Name: "has space", SessionName: "ok"},
		{Name: strings.Repeat("a", 65), SessionName: "ok"},
		{Name: "ok", SessionName: "x"},
		{Name: "ok", SessionName: "ok", ExternalID: "a"},
		{Name: "ok", SessionName: "ok", ExternalID: "bad id"},
		{Name: "ok", SessionName: "ok", Duration: 2 * time.Hour},
	}
	for _, r := range bad {
		if err := r.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", r)
		}
	}
}

// TestRoleNameTemplates: a role name template is refused, with one line
// naming it, when it is no IAM role name once {account_id} is replaced,
// or when its name is the placeholder alone (every role, where IAM grants
// the template with * for the placeholder).
func TestRoleNameTemplates(t *testing.T) {
	for _, name := range []string{"S3InventoryScannerMember", "scanner-{account_id}", "{account_id}-scanner",
		"security/scanner-{account_id}", "/security/S3InventoryScannerMember", "{account_id}/scanner",
		strings.Repeat("p/", 255) + "scanner"} {
		if err := (Role{Name: name, SessionName: "ok"}).Validate(); err != nil {
			t.Errorf("Validate(%q) = %v; want it accepted", name, err)
		}
	}
	for name, want := range map[string]string{
		"{account_id}":             "alone is every role",
		"security/{account_id}":    "alone is every role",
		"{account_id}{account_id}": "alone is every role",
		"/{account_id}":            "alone is every role",
		"*":                        "want an IAM role name",
		"scanner-*":                "want an IAM role name",
		"scanner-{account}":        "want an IAM role name",
		"{ACCOUNT_ID}":             "want an IAM role name",
		"security/":                "want an IAM role name",
		"x{account_id}" + strings.Repeat("a", 52): "want an IAM role name", // 65 characters once replaced
		strings.Repeat("p/", 256) + "scanner":     "want an IAM role name", // a path of 513 characters
	} {
		err := (Role{Name: name, SessionName: "ok"}).Validate()
		var re *RoleError
		if !errors.As(err, &re) || re.Field != "Name" || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Validate(%.40q) = %v; want a one-line Name error saying %q", name, err, want)
		}
	}
}
