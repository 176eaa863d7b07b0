package iampolicy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t testing.TB, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return p
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseTestdata(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata policies: %v", err)
	}
	for _, f := range files {
		p := mustParse(t, readTestdata(t, filepath.Base(f)))
		if len(p.Statements) == 0 {
			t.Errorf("%s: no statements", f)
		}
	}
}

func TestParseShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want *Policy
	}{
		{
			name: "statement as a single object, no version",
			doc:  `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*"}}`,
			want: &Policy{Statements: []Statement{{Effect: EffectDeny, Principal: &Principal{All: true}, Action: []string{"s3:PutObject"}, Resource: []string{"*"}}}},
		},
		{
			name: "version 2008 with id and lists",
			doc: `{"Version":"2008-10-17","Id":"P1","Statement":[{"Sid":"a","Effect":"Allow",
				"Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root"],"Service":"s3.amazonaws.com"},
				"NotAction":["s3:Delete*","s3:Put*"],"NotResource":"arn:aws:s3:::b/x/*"}]}`,
			want: &Policy{Version: Version2008, ID: "P1", Statements: []Statement{{
				Sid: "a", Effect: EffectAllow,
				Principal: &Principal{AWS: []string{"111122223333", "arn:aws:iam::444455556666:root"}, Service: []string{"s3.amazonaws.com"}},
				NotAction: []string{"s3:Delete*", "s3:Put*"}, NotResource: []string{"arn:aws:s3:::b/x/*"},
			}}},
		},
		{
			name: "not principal, federated and canonical user, conditions of every value type sorted",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"*","Resource":"*"},
				{"Effect":"Deny","NotPrincipal":{"CanonicalUser":"abc"},"Action":"*","Resource":"*",
				"Condition":{"StringLike":{"s3:prefix":["a/*","b"]},"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":10}}}]}`,
			want: &Policy{Version: Version2012, Statements: []Statement{
				{Effect: EffectAllow, Principal: &Principal{Federated: []string{"cognito-identity.amazonaws.com"}}, Action: []string{"*"}, Resource: []string{"*"}},
				{Index: 1, Effect: EffectDeny, NotPrincipal: &Principal{CanonicalUser: []string{"abc"}}, Action: []string{"*"}, Resource: []string{"*"},
					Conditions: []Condition{
						{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}},
						{Operator: "NumericLessThan", Key: "s3:max-keys", Values: []string{"10"}},
						{Operator: "StringLike", Key: "s3:prefix", Values: []string{"a/*", "b"}},
					}},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.doc)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const ok = `"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"`
	tests := []struct {
		name, doc, want string
	}{
		{"empty", ``, "invalid JSON"},
		{"not an object", `[]`, "want a JSON object"},
		{"trailing data", `{"Statement":{` + ok + `}} {}`, "data after"},
		{"truncated", `{"Statement":{` + ok, "invalid JSON"},
		{"unknown top-level key", `{"Statement":{` + ok + `},"Extra":1}`, `unknown element "Extra"`},
		{"top-level key in wrong case", `{"statement":{` + ok + `}}`, `unknown element "statement"`},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"empty statement list", `{"Statement":[]}`, "empty"},
		{"statement a string", `{"Statement":"x"}`, "want an object or an array"},
		{"statement item a string", `{"Statement":["x"]}`, "statement #0: want a JSON object"},
		{"bad version", `{"Version":"2012-10-18","Statement":{` + ok + `}}`, `Version "2012-10-18"`},
		{"version not a string", `{"Version":2012,"Statement":{` + ok + `}}`, "Version: want a string"},
		{"unknown statement key", `{"Statement":{"Sid":"s1",` + ok + `,"Principals":"*"}}`, `statement "s1": unknown element "Principals"`},
		{"statement key in wrong case", `{"Statement":{` + ok + `,"condition":{}}}`, `unknown element "condition"`},
		{"no effect", `{"Statement":{"Principal":"*","Action":"*","Resource":"*"}}`, "no Effect"},
		{"effect lower case", `{"Statement":{"Effect":"allow","Principal":"*","Action":"*","Resource":"*"}}`, `Effect "allow"`},
		{"no principal", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, "no Principal or NotPrincipal"},
		{"both principals", `{"Statement":{` + ok + `,"NotPrincipal":"*"}}`, "both Principal and NotPrincipal"},
		{"principal string not star", `{"Statement":{"Effect":"Allow","Principal":"s3.amazonaws.com","Action":"*","Resource":"*"}}`, `want "*" or an object`},
		{"unknown principal type", `{"Statement":{"Effect":"Allow","Principal":{"Services":"s3.amazonaws.com"},"Action":"*","Resource":"*"}}`, `unknown element "Services"`},
		{"empty principal", `{"Statement":{"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"}}`, "Principal: empty"},
		{"principal number", `{"Statement":{"Effect":"Allow","Principal":{"AWS":1},"Action":"*","Resource":"*"}}`, "want a string or an array"},
		{"principal empty list", `{"Statement":{"Effect":"Allow","Principal":{"AWS":[]},"Action":"*","Resource":"*"}}`, "empty array"},
		{"no action", `{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}`, "no Action or NotAction"},
		{"both actions", `{"Statement":{` + ok + `,"NotAction":"s3:*"}}`, "both Action and NotAction"},
		{"action without service", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"PutObject","Resource":"*"}}`, `action "PutObject"`},
		{"action list with number", `{"Statement":{"Effect":"Allow","Principal":"*","Action":["s3:*",1],"Resource":"*"}}`, "want a string"},
		{"no resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}`, "no Resource or NotResource"},
		{"both resources", `{"Statement":{` + ok + `,"NotResource":"*"}}`, "both Resource and NotResource"},
		{"condition not an object", `{"Statement":{` + ok + `,"Condition":[]}}`, "Condition: want a JSON object"},
		{"condition operator body not an object", `{"Statement":{` + ok + `,"Condition":{"StringEquals":"x"}}}`, "StringEquals: want a JSON object"},
		{"condition operator without keys", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{}}}}`, "no condition keys"},
		{"condition empty values", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"aws:SourceAccount":[]}}}}`, "empty array"},
		{"condition null value", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"aws:SourceAccount":null}}}}`, "want a string, boolean or number"},
		{"condition object value", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"aws:SourceAccount":{"a":"b"}}}}}`, "want a string, boolean or number"},
		{"duplicate top-level key", `{"Statement":{` + ok + `},"Statement":{` + ok + `}}`, `duplicate key "Statement" at $`},
		{"duplicate statement key", `{"Statement":{"Effect":"Deny",` + ok + `}}`, `duplicate key "Effect" at $.Statement`},
		{"duplicate condition key", `{"Statement":{` + ok + `,"Condition":{"StringEquals":{"aws:SourceAccount":"1","aws:SourceAccount":"2"}}}}`, `duplicate key "aws:SourceAccount" at $.Statement.Condition.StringEquals`},
		{"too deep", strings.Repeat("[", 20) + strings.Repeat("]", 20), "nested deeper than 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want an error containing %q", p, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse error %q spans lines, want one line", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	stmt := `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}`
	build := func(size int) []byte {
		doc := `{"Id":"` + strings.Repeat("x", size) + `","Statement":` + stmt + `}`
		pad := len(doc) - size
		return []byte(`{"Id":"` + strings.Repeat("x", size-pad) + `","Statement":` + stmt + `}`)
	}
	if doc := build(MaxPolicySize); len(doc) != MaxPolicySize {
		t.Fatalf("built %d bytes, want %d", len(doc), MaxPolicySize)
	} else if _, err := Parse(doc); err != nil {
		t.Errorf("Parse of %d bytes: %v, want it read", len(doc), err)
	}
	doc := build(MaxPolicySize + 1)
	_, err := Parse(doc)
	if err == nil || !strings.Contains(err.Error(), "want at most 65536") {
		t.Errorf("Parse of %d bytes: %v, want a size error", len(doc), err)
	}
}

func TestStatementLabel(t *testing.T) {
	p := mustParse(t, `{"Statement":[{"Sid":"named","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`)
	if got := p.Statements[0].Label(); got != "named" {
		t.Errorf("Label = %q, want named", got)
	}
	if got := p.Statements[1].Label(); got != "#1" {
		t.Errorf("Label = %q, want #1", got)
	}
}
