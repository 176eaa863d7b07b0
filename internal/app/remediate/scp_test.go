package remediate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/app/remediate"
	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// fullAWSAccess is the SCP AWS Organizations attaches everywhere by
// default; a deny-list SCP works beside it.
const fullAWSAccess = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func parseSCP(t *testing.T, doc []byte) *iampolicy.Policy {
	t.Helper()
	p, err := iampolicy.ParseIdentity(doc)
	if err != nil {
		t.Fatalf("the SCP does not parse as an identity policy: %v\n%s", err, doc)
	}
	return p
}

// effect is what the SCP, beside FullAWSAccess, lets through: Deny when
// the SCP denies, Unknown when it cannot be decided, else what
// FullAWSAccess decides (Allow); with the statements behind a Deny.
func effect(t *testing.T, scp *iampolicy.Policy, r iampolicy.Request) (iampolicy.Outcome, []string) {
	t.Helper()
	d, err := scp.Decide(r)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome == iampolicy.Deny || d.Outcome == iampolicy.Unknown {
		return d.Outcome, d.Statements
	}
	full, err := parseSCP(t, []byte(fullAWSAccess)).Decide(r)
	if err != nil {
		t.Fatal(err)
	}
	return full.Outcome, nil
}

// put is a PutBucketInventoryConfiguration by a session of role (the
// role's ARN is aws:PrincipalArn) of a configuration exporting fields.
func put(role string, fields ...string) iampolicy.Request {
	return iampolicy.Request{AWS: role, Action: "s3:PutInventoryConfiguration", Resource: "arn:aws:s3:::payments-ledger",
		Context: map[string][]string{"aws:PrincipalArn": {role}, "s3:InventoryAccessibleOptionalFields": fields}}
}

// TestSCPDecisions: under the SCP (beside FullAWSAccess) the
// remediation role puts and deletes clean configurations in any account
// and partition, the break-glass roles too; every other principal is
// denied by the first statement; a configuration exporting an object's
// ACL or owner is denied by the second, whoever puts it; reads are
// untouched.
func TestSCPDecisions(t *testing.T) {
	doc, err := remediate.SCP(remediate.SCPOptions{BreakGlass: []string{"BreakGlass", "arn:aws:iam::111122223333:role/ops/Emergency"}})
	if err != nil {
		t.Fatal(err)
	}
	scp := parseSCP(t, doc)
	const acct = "arn:aws:iam::444455556666:"
	remediation := acct + "role/" + remediate.DefaultRoleName
	only, fields := []string{remediate.SidOnlyRemediation}, []string{remediate.SidSensitiveFields}
	for _, c := range []struct {
		name       string
		req        iampolicy.Request
		want       iampolicy.Outcome
		statements []string
	}{
		{"the remediation role puts a clean configuration", put(remediation, "Size", "EncryptionStatus"), iampolicy.Allow, nil},
		{"the remediation role deletes one (no fields)", put(remediation), iampolicy.Allow, nil},
		{"the remediation role of another partition", put("arn:aws-us-gov:iam::444455556666:role/"+remediate.DefaultRoleName, "Size"), iampolicy.Allow, nil},
		{"another role", put(acct+"role/Developer", "Size"), iampolicy.Deny, only},
		{"the account's root user", put(acct+"root", "Size"), iampolicy.Deny, only},
		{"a role whose name ends like the remediation role's", put(acct+"role/X"+remediate.DefaultRoleName, "Size"), iampolicy.Deny, only},
		{"the remediation role's name under a path", put(acct+"role/team/"+remediate.DefaultRoleName, "Size"), iampolicy.Deny, only},
		{"the remediation role exporting ObjectOwner", put(remediation, "Size", "ObjectOwner"), iampolicy.Deny, fields},
		{"the remediation role exporting the ACL", put(remediation, "ObjectAccessControlList"), iampolicy.Deny, fields},
		{"a break-glass name, any account", put(acct+"role/BreakGlass", "Size"), iampolicy.Allow, nil},
		{"a break-glass ARN, its account", put("arn:aws:iam::111122223333:role/ops/Emergency", "Size"), iampolicy.Allow, nil},
		{"a break-glass ARN's role in another account", put(acct+"role/ops/Emergency", "Size"), iampolicy.Deny, only},
		{"a break-glass role exporting ObjectOwner", put(acct+"role/BreakGlass", "ObjectOwner"), iampolicy.Deny, fields},
		{"another role exporting ObjectOwner", put(acct+"role/Developer", "ObjectOwner"), iampolicy.Deny, append(slices.Clone(only), fields...)},
		{"another role reads configurations", iampolicy.Request{AWS: acct + "role/Developer", Action: "s3:GetInventoryConfiguration", Resource: "arn:aws:s3:::payments-ledger",
			Context: map[string][]string{"aws:PrincipalArn": {acct + "role/Developer"}}}, iampolicy.Allow, nil},
		{"another role's other S3 writes", iampolicy.Request{AWS: acct + "role/Developer", Action: "s3:PutBucketPolicy", Resource: "arn:aws:s3:::payments-ledger",
			Context: map[string][]string{"aws:PrincipalArn": {acct + "role/Developer"}}}, iampolicy.Allow, nil},
	} {
		got, sts := effect(t, scp, c.req)
		if got != c.want || !slices.Equal(sts, c.statements) {
			t.Errorf("%s: %v by %v; want %v by %v", c.name, got, sts, c.want, c.statements)
		}
	}
}

// TestSCPSize: the SCP is printed minified and within AWS's 5,120 bytes;
// the longest break-glass list that fits is accepted, one more role is a
// one-line error naming the limit.
func TestSCPSize(t *testing.T) {
	doc, err := remediate.SCP(remediate.SCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil || compact.String() != string(doc) {
		t.Errorf("the SCP is not minified JSON: %v\n%s", err, doc)
	}
	var roles []string
	last := len(doc)
	for i := 0; ; i++ {
		roles = append(roles, fmt.Sprintf("arn:aws:iam::%012d:role/break-glass/Emergency%03d", 100000000000+i, i))
		doc, err := remediate.SCP(remediate.SCPOptions{BreakGlass: roles})
		if err != nil {
			if i == 0 || last > remediate.MaxSCPSize || last+len(roles[i])+3 <= remediate.MaxSCPSize {
				t.Fatalf("refused %d roles after %d fit in %d bytes: %v", len(roles), i, last, err)
			}
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "5120") || !strings.Contains(msg, fmt.Sprint(len(roles))+" break-glass roles") {
				t.Errorf("the size error %q: want one line naming the roles and the limit", msg)
			}
			break
		}
		if len(doc) > remediate.MaxSCPSize {
			t.Fatalf("accepted %d bytes", len(doc))
		}
		last = len(doc)
	}
	if len(roles) < 50 {
		t.Errorf("only %d break-glass ARNs fit; want room for about 80", len(roles)-1)
	}
}

// TestSCPRefusesBadRoles: wildcards, other principals and malformed
// names are one-line errors naming the input; a duplicate is exempt once.
func TestSCPRefusesBadRoles(t *testing.T) {
	for _, c := range []struct {
		name string
		o    remediate.SCPOptions
		in   string
	}{
		{"a wildcard name", remediate.SCPOptions{BreakGlass: []string{"Break*"}}, "Break*"},
		{"every role", remediate.SCPOptions{BreakGlass: []string{"*"}}, `"*"`},
		{"a wildcard account", remediate.SCPOptions{BreakGlass: []string{"arn:aws:iam::*:role/Ops"}}, "arn:aws:iam::*:role/Ops"},
		{"a user ARN", remediate.SCPOptions{BreakGlass: []string{"arn:aws:iam::111122223333:user/bob"}}, "user/bob"},
		{"an S3 ARN", remediate.SCPOptions{BreakGlass: []string{"arn:aws:s3:::bucket"}}, "arn:aws:s3:::bucket"},
		{"a name of 65 characters", remediate.SCPOptions{BreakGlass: []string{strings.Repeat("r", 65)}}, strings.Repeat("r", 65)},
		{"an empty name", remediate.SCPOptions{BreakGlass: []string{""}}, `""`},
		{"the remediation role as an ARN", remediate.SCPOptions{RemediationRole: "arn:aws:iam::111122223333:role/Fix"}, "not an ARN"},
		{"a remediation role with a space", remediate.SCPOptions{RemediationRole: "Fix It"}, "Fix It"},
	} {
		_, err := remediate.SCP(c.o)
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), c.in) {
			t.Errorf("%s: %v; want a one-line error naming %s", c.name, err, c.in)
		}
	}
	doc, err := remediate.SCP(remediate.SCPOptions{RemediationRole: "security/Fixer", BreakGlass: []string{"security/Fixer", "Ops", "Ops"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(doc), "role/security/Fixer"); n != 1 || strings.Count(string(doc), "role/Ops") != 1 {
		t.Errorf("duplicates exempt more than once: %s", doc)
	}
}

func ExampleSCP() {
	doc, err := remediate.SCP(remediate.SCPOptions{BreakGlass: []string{"arn:aws:iam::111122223333:role/BreakGlass"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	var out bytes.Buffer
	_ = json.Indent(&out, doc, "", "  ")
	fmt.Println(out.String())
	// Output:
	// {
	//   "Version": "2012-10-17",
	//   "Statement": [
	//     {
	//       "Sid": "OnlyTheRemediationRolePutsInventory",
	//       "Effect": "Deny",
	//       "Action": "s3:PutInventoryConfiguration",
	//       "Resource": "*",
	//       "Condition": {
	//         "ArnNotLike": {
	//           "aws:PrincipalArn": [
	//             "arn:*:iam::*:role/S3InventoryScannerRemediation",
	//             "arn:aws:iam::111122223333:role/BreakGlass"
	//           ]
	//         }
	//       }
	//     },
	//     {
	//       "Sid": "NoSensitiveInventoryFields",
	//       "Effect": "Deny",
	//       "Action": "s3:PutInventoryConfiguration",
	//       "Resource": "*",
	//       "Condition": {
	//         "ForAnyValue:StringEquals": {
	//           "s3:InventoryAccessibleOptionalFields": [
	//             "ObjectAccessControlList",
	//             "ObjectOwner"
	//           ]
	//         }
	//       }
	//     }
	//   ]
	// }
}
