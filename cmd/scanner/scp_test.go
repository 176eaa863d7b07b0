package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// TestSCPCommand: `scanner scp` prints the policy as one line of JSON an
// identity policy parser reads, with the roles the flags name (repeated
// and comma-separated); text explains it; a list too long for AWS, a
// wildcard role or an unknown format is a one-line error naming the
// flag, with nothing on stdout.
func TestSCPCommand(t *testing.T) {
	code, out, errOut := runCLI("scp")
	if code != exitOK || errOut != "" || strings.Count(out, "\n") != 1 {
		t.Fatalf("scanner scp: exit %d, stderr %q, %d lines; want 0, nothing, one line", code, errOut, strings.Count(out, "\n"))
	}
	p, err := iampolicy.ParseIdentity([]byte(out))
	if err != nil || len(p.Statements) != 2 || !strings.Contains(out, `"arn:*:iam::*:role/S3InventoryScannerRemediation"`) {
		t.Fatalf("scanner scp printed %s (%v); want the SCP exempting the default remediation role", out, err)
	}

	code, out, errOut = runCLI("scp", "--remediation-role", "security/Fixer", "--break-glass", "BreakGlass,arn:aws:iam::111122223333:role/ops/Emergency",
		"--break-glass", "Oncall", "--format", "text")
	if code != exitOK || errOut != "" {
		t.Fatalf("scanner scp --format text: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"arn:*:iam::*:role/security/Fixer", "the remediation role, in every account", "arn:*:iam::*:role/BreakGlass",
		"arn:aws:iam::111122223333:role/ops/Emergency", "arn:*:iam::*:role/Oncall", "ObjectAccessControlList or ObjectOwner", "of 5120 bytes", `"Sid": "NoSensitiveInventoryFields"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the text output lacks %q:\n%s", want, out)
		}
	}

	var many []string
	for i := range 100 {
		many = append(many, fmt.Sprintf("arn:aws:iam::%012d:role/break-glass/Emergency%03d", 100000000000+i, i))
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"too many break-glass roles", []string{"--break-glass", strings.Join(many, ",")}, "at most 5120"},
		{"a wildcard role", []string{"--break-glass", "Ops,Admin*"}, `--break-glass "Admin*"`},
		{"a remediation role ARN", []string{"--remediation-role", "arn:aws:iam::111122223333:role/Fix"}, `--remediation-role "arn:aws:iam::111122223333:role/Fix"`},
		{"an unknown format", []string{"--format", "yaml"}, `--format "yaml": want json or text`},
		{"an argument", []string{"extra"}, `unexpected argument "extra"`},
	} {
		code, out, errOut := runCLI(append([]string{"scp"}, c.args...)...)
		if code != exitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, c.want) {
			t.Errorf("scanner scp, %s: exit %d, stdout %q, stderr %q; want 2, nothing, one line with %q", c.name, code, out, errOut, c.want)
		}
	}
	if code, _, errOut := runCLI("scp", "-h"); code != exitOK || !strings.Contains(errOut, "-break-glass") {
		t.Errorf("scanner scp -h: exit %d, %q; want 0 and the flags", code, errOut)
	}
	if _, out, _ := runCLI("help"); !strings.Contains(out, "scp ") {
		t.Errorf("the usage lacks the scp command:\n%s", out)
	}
}
