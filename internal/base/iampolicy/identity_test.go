package iampolicy

import (
	"slices"
	"strings"
	"testing"
)

func TestParseIdentity(t *testing.T) {
	ok := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetInventoryConfiguration","Resource":"arn:aws:s3:::*"}]}`
	p, err := ParseIdentity([]byte(ok))
	if err != nil || !p.Identity || p.Statements[0].Principal != nil {
		t.Fatalf("ParseIdentity(%s) = %+v, %v; want an identity policy without principals", ok, p, err)
	}
	if _, err := Parse([]byte(ok)); err == nil || !strings.Contains(err.Error(), "no Principal") {
		t.Errorf("Parse of a statement without Principal: %v; want an error (a resource policy names its principals)", err)
	}
	for _, el := range []string{`"Principal":"*"`, `"NotPrincipal":{"AWS":"111122223333"}`} {
		doc := `{"Statement":[{"Effect":"Deny",` + el + `,"Action":"*","Resource":"*"}]}`
		if _, err := ParseIdentity([]byte(doc)); err == nil || !strings.Contains(err.Error(), "identity policy") {
			t.Errorf("ParseIdentity with %s: %v; want an error naming the identity policy", el, err)
		}
	}
	if _, err := ParseIdentity([]byte(`{"Statement":[{"Effect":"Allow","Action":"*"}]}`)); err == nil || !strings.Contains(err.Error(), "Resource") {
		t.Errorf("ParseIdentity without Resource: %v; want an error", err)
	}
}

// guardrail is a service control policy of the deny-list kind: only the
// remediation role (in any account and partition) and one break-glass
// role may put inventory configurations, and nobody may export the
// sensitive fields.
const guardrail = `{"Version":"2012-10-17","Statement":[
 {"Sid":"OnlyRemediation","Effect":"Deny","Action":"s3:PutInventoryConfiguration","Resource":"*",
  "Condition":{"ArnNotLike":{"aws:PrincipalArn":["arn:*:iam::*:role/Remediation","arn:aws:iam::111122223333:role/BreakGlass"]}}},
 {"Sid":"NoSensitiveFields","Effect":"Deny","Action":"s3:PutInventoryConfiguration","Resource":"*",
  "Condition":{"ForAnyValue:StringEquals":{"s3:InventoryAccessibleOptionalFields":["ObjectAccessControlList","ObjectOwner"]}}}]}`

func TestDecideServiceControlPolicy(t *testing.T) {
	p, err := ParseIdentity([]byte(guardrail))
	if err != nil {
		t.Fatal(err)
	}
	put := func(role string, fields []string) Request {
		ctx := map[string][]string{"aws:PrincipalArn": {role}, "s3:InventoryAccessibleOptionalFields": fields}
		if role == "" {
			delete(ctx, "aws:PrincipalArn")
		}
		if fields == nil {
			delete(ctx, "s3:InventoryAccessibleOptionalFields")
		}
		return Request{AWS: "arn:aws:sts::444455556666:assumed-role/x/s", Action: "s3:PutInventoryConfiguration", Resource: "arn:aws:s3:::data", Context: ctx}
	}
	const remediation = "arn:aws:iam::444455556666:role/Remediation"
	for _, c := range []struct {
		name       string
		req        Request
		want       Outcome
		statements []string
		reason     string
	}{
		{"the remediation role, clean fields", put(remediation, []string{"Size", "ETag"}), NotAllowed, nil, ""},
		{"the remediation role, no fields (an empty key)", put(remediation, []string{}), NotAllowed, nil, ""},
		{"the remediation role in another partition", put("arn:aws-cn:iam::444455556666:role/Remediation", []string{"Size"}), NotAllowed, nil, ""},
		{"the break-glass role of its account", put("arn:aws:iam::111122223333:role/BreakGlass", []string{"Size"}), NotAllowed, nil, ""},
		{"the break-glass name in another account", put("arn:aws:iam::444455556666:role/BreakGlass", []string{"Size"}), Deny, []string{"OnlyRemediation"}, ""},
		{"another role", put("arn:aws:iam::444455556666:role/Developer", []string{"Size"}), Deny, []string{"OnlyRemediation"}, ""},
		{"the remediation role under a path", put("arn:aws:iam::444455556666:role/team/Remediation", []string{"Size"}), Deny, []string{"OnlyRemediation"}, ""},
		{"the remediation role exporting ObjectOwner", put(remediation, []string{"Size", "ObjectOwner"}), Deny, []string{"NoSensitiveFields"}, ""},
		{"another role exporting the ACL", put("arn:aws:iam::444455556666:role/Developer", []string{"ObjectAccessControlList"}), Deny, []string{"OnlyRemediation", "NoSensitiveFields"}, ""},
		// What it cannot decide is Unknown, never a pass.
		{"no aws:PrincipalArn in the request", put("", []string{"Size"}), Unknown, []string{"OnlyRemediation"}, "aws:PrincipalArn"},
		{"the fields not in the request", put(remediation, nil), Unknown, []string{"NoSensitiveFields"}, "s3:InventoryAccessibleOptionalFields"},
		{"another action", Request{AWS: remediation, Action: "s3:GetInventoryConfiguration", Resource: "arn:aws:s3:::data"}, NotAllowed, nil, ""},
	} {
		d, err := p.Decide(c.req)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if d.Outcome != c.want || !slices.Equal(d.Statements, c.statements) || !strings.Contains(d.Reason, c.reason) {
			t.Errorf("%s: %v %v %q; want %v %v (reason with %q)", c.name, d.Outcome, d.Statements, d.Reason, c.want, c.statements, c.reason)
		}
	}
	if _, err := p.Decide(Request{Service: S3Service, Action: "s3:PutInventoryConfiguration", Resource: "arn:aws:s3:::data"}); err == nil {
		t.Error("Decide of an identity policy for a service principal: no error; want one (SCPs govern IAM principals)")
	}
}

// TestUndecidableDenyOfAnIdentityPolicyIsUnknown: alone, a resource
// policy's undecidable Deny cannot make anything allowed, so the
// outcome stays NotAllowed; an identity policy is combined with others,
// so the same statement makes it Unknown.
func TestUndecidableDenyOfAnIdentityPolicyIsUnknown(t *testing.T) {
	deny := `{"Effect":"Deny",%s"Action":"s3:PutObject","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}`
	resource, err := Parse([]byte(doc(strings.Replace(deny, "%s", `"Principal":"*",`, 1))))
	if err != nil {
		t.Fatal(err)
	}
	identity, err := ParseIdentity([]byte(doc(strings.Replace(deny, "%s", "", 1))))
	if err != nil {
		t.Fatal(err)
	}
	req := Request{AWS: "arn:aws:iam::111122223333:role/R", Action: "s3:PutObject", Resource: destObject}
	if d, _ := resource.Decide(req); d.Outcome != NotAllowed {
		t.Errorf("resource policy: %v; want NotAllowed", d.Outcome)
	}
	if d, _ := identity.Decide(req); d.Outcome != Unknown || !strings.Contains(d.Reason, "NumericLessThan") {
		t.Errorf("identity policy: %v (%s); want Unknown naming the operator", d.Outcome, d.Reason)
	}
}

// FuzzParseIdentity feeds arbitrary documents to ParseIdentity and, when
// one parses, evaluates it for an IAM principal: neither may panic, and
// every decision must be explained.
func FuzzParseIdentity(f *testing.F) {
	for _, s := range []string{
		guardrail,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Deny","NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/*","Condition":{"ArnNotLikeIfExists":{"aws:PrincipalArn":"arn:*:iam::*:role/*"}}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := ParseIdentity(doc)
		if err != nil {
			return
		}
		for _, st := range p.Statements {
			if st.Principal != nil || st.NotPrincipal != nil {
				t.Fatalf("ParseIdentity accepted a principal: %s", doc)
			}
		}
		d, err := p.Decide(Request{AWS: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "s3:PutInventoryConfiguration", Resource: "arn:aws:s3:::b",
			Context: map[string][]string{"aws:PrincipalArn": {"arn:aws:iam::111122223333:role/r"}, "s3:InventoryAccessibleOptionalFields": {"Size"}}})
		if err != nil {
			t.Fatal(err)
		}
		checkDecision(t, d)
	})
}
