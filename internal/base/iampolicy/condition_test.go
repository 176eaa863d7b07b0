package iampolicy

import (
	"strings"
	"testing"
)

// TestConditions evaluates one Allow statement whose only condition is
// the one under test, so the outcome is Allow when the condition holds,
// NotAllowed when it does not and Unknown when it cannot be decided.
func TestConditions(t *testing.T) {
	const (
		acct = "111122223333"
		src  = "arn:aws:s3:::source-bucket"
	)
	full := map[string][]string{
		"aws:SourceAccount": {acct},
		"aws:SourceArn":     {src},
		"s3:x-amz-acl":      {"bucket-owner-full-control"},
		"aws:SourceOrgID":   {"o-abc123"},
	}
	none := map[string][]string{}
	multi := map[string][]string{"aws:SourceAccount": {acct, "444455556666"}}
	tests := []struct {
		name      string
		condition string
		ctx       map[string][]string
		want      Outcome
	}{
		// StringEquals and its negation; values ORed; keys case-insensitive, values not.
		{"StringEquals match", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, full, Allow},
		{"StringEquals mismatch", `{"StringEquals":{"aws:SourceAccount":"444455556666"}}`, full, NotAllowed},
		{"StringEquals values ORed", `{"StringEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}`, full, Allow},
		{"StringEquals key case-insensitive", `{"StringEquals":{"AWS:SOURCEACCOUNT":"111122223333"}}`, full, Allow},
		{"StringEquals value case-sensitive", `{"StringEquals":{"s3:x-amz-acl":"Bucket-Owner-Full-Control"}}`, full, NotAllowed},
		{"StringEquals absent key", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, none, NotAllowed},
		{"StringEquals number value", `{"StringEquals":{"aws:SourceAccount":111122223333}}`, full, Allow},
		{"StringEqualsIfExists absent key", `{"StringEqualsIfExists":{"aws:SourceAccount":"444455556666"}}`, none, Allow},
		{"StringEqualsIfExists present mismatch", `{"StringEqualsIfExists":{"aws:SourceAccount":"444455556666"}}`, full, NotAllowed},
		{"StringNotEquals match", `{"StringNotEquals":{"aws:SourceAccount":"444455556666"}}`, full, Allow},
		{"StringNotEquals mismatch", `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, full, NotAllowed},
		{"StringNotEquals none of the values", `{"StringNotEquals":{"aws:SourceAccount":["444455556666","111122223333"]}}`, full, NotAllowed},
		{"StringNotEquals absent key", `{"StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, none, Allow},
		{"StringEqualsIgnoreCase", `{"StringEqualsIgnoreCase":{"s3:x-amz-acl":"BUCKET-OWNER-FULL-CONTROL"}}`, full, Allow},
		{"StringNotEqualsIgnoreCase", `{"StringNotEqualsIgnoreCase":{"s3:x-amz-acl":"BUCKET-OWNER-FULL-CONTROL"}}`, full, NotAllowed},
		// StringLike.
		{"StringLike star", `{"StringLike":{"aws:SourceAccount":"1111*"}}`, full, Allow},
		{"StringLike question", `{"StringLike":{"aws:SourceAccount":"11112222333?"}}`, full, Allow},
		{"StringLike mismatch", `{"StringLike":{"aws:SourceArn":"arn:aws:s3:::other-*"}}`, full, NotAllowed},
		{"StringNotLike", `{"StringNotLike":{"aws:SourceArn":"arn:aws:s3:::other-*"}}`, full, Allow},
		{"StringNotLike matching", `{"StringNotLike":{"aws:SourceArn":"arn:aws:s3:::source-*"}}`, full, NotAllowed},
		{"StringLikeIfExists absent", `{"StringLikeIfExists":{"aws:SourceArn":"arn:aws:s3:::other-*"}}`, none, Allow},
		// ARN operators match per segment.
		{"ArnLike exact", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::source-bucket"}}`, full, Allow},
		{"ArnLike wildcard segments", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:source-*"}}`, full, Allow},
		{"ArnLike other bucket", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::other-bucket"}}`, full, NotAllowed},
		{"ArnLike prefix is not a match", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::source"}}`, full, NotAllowed},
		{"ArnEquals also takes wildcards", `{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::source-*"}}`, full, Allow},
		{"ArnEquals key case-insensitive", `{"ArnEquals":{"aws:SourceARN":"arn:aws:s3:::source-bucket"}}`, full, Allow},
		{"ArnNotEquals", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::source-bucket"}}`, full, NotAllowed},
		{"ArnNotLike", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::other-*"}}`, full, Allow},
		{"ArnLike absent", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`, none, NotAllowed},
		{"ArnNotLike absent", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`, none, Allow},
		{"ArnLike context value not an ARN", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`, map[string][]string{"aws:SourceArn": {"source-bucket"}}, NotAllowed},
		{"ArnLike pattern not an ARN", `{"ArnLike":{"aws:SourceArn":"source-bucket"}}`, full, Unknown},
		// Keys ANDed, operators ANDed.
		{"two keys both hold", `{"StringEquals":{"aws:SourceAccount":"111122223333","s3:x-amz-acl":"bucket-owner-full-control"}}`, full, Allow},
		{"two keys one fails", `{"StringEquals":{"aws:SourceAccount":"111122223333","s3:x-amz-acl":"private"}}`, full, NotAllowed},
		{"two operators one fails", `{"StringEquals":{"aws:SourceAccount":"111122223333"},"ArnLike":{"aws:SourceArn":"arn:aws:s3:::other"}}`, full, NotAllowed},
		{"aws:SourceOrgID", `{"StringEquals":{"aws:SourceOrgID":"o-abc123"}}`, full, Allow},
		{"aws:SourceOrgID absent", `{"StringEquals":{"aws:SourceOrgID":"o-abc123"}}`, none, NotAllowed},
		// Set operators.
		{"ForAnyValue one matches", `{"ForAnyValue:StringEquals":{"aws:SourceAccount":"444455556666"}}`, multi, Allow},
		{"ForAnyValue none matches", `{"ForAnyValue:StringEquals":{"aws:SourceAccount":"999999999999"}}`, multi, NotAllowed},
		{"ForAnyValue absent", `{"ForAnyValue:StringEquals":{"aws:SourceAccount":"111122223333"}}`, none, NotAllowed},
		{"ForAnyValue IfExists absent", `{"ForAnyValue:StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`, none, Allow},
		{"ForAnyValue negated", `{"ForAnyValue:StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, multi, Allow},
		{"ForAllValues all match", `{"ForAllValues:StringEquals":{"aws:SourceAccount":["111122223333","444455556666"]}}`, multi, Allow},
		{"ForAllValues one outside", `{"ForAllValues:StringEquals":{"aws:SourceAccount":"111122223333"}}`, multi, NotAllowed},
		{"ForAllValues absent", `{"ForAllValues:StringEquals":{"aws:SourceAccount":"999999999999"}}`, none, Allow},
		{"ForAllValues StringLike", `{"ForAllValues:StringLike":{"aws:SourceAccount":["1111*","4444*"]}}`, multi, Allow},
		{"ForAllValues negated", `{"ForAllValues:StringNotEquals":{"aws:SourceAccount":"111122223333"}}`, multi, NotAllowed},
		{"single-valued operator on many values", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`, multi, Unknown},
		// Bool and Null.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, map[string][]string{"aws:SecureTransport": {"true"}}, Allow},
		{"Bool JSON boolean", `{"Bool":{"aws:SecureTransport":true}}`, map[string][]string{"aws:SecureTransport": {"true"}}, Allow},
		{"Bool value case", `{"Bool":{"aws:SecureTransport":"TRUE"}}`, map[string][]string{"aws:SecureTransport": {"true"}}, Allow},
		{"Bool mismatch", `{"Bool":{"aws:SecureTransport":"false"}}`, map[string][]string{"aws:SecureTransport": {"true"}}, NotAllowed},
		{"Bool absent", `{"Bool":{"aws:SecureTransport":"false"}}`, none, NotAllowed},
		{"BoolIfExists absent", `{"BoolIfExists":{"aws:SecureTransport":"false"}}`, none, Allow},
		{"Bool not a boolean", `{"Bool":{"aws:SecureTransport":"yes"}}`, map[string][]string{"aws:SecureTransport": {"true"}}, Unknown},
		{"Null true absent", `{"Null":{"aws:SourceArn":"true"}}`, none, Allow},
		{"Null true present", `{"Null":{"aws:SourceArn":"true"}}`, full, NotAllowed},
		{"Null false present", `{"Null":{"aws:SourceArn":false}}`, full, Allow},
		{"Null false absent", `{"Null":{"aws:SourceArn":"false"}}`, none, NotAllowed},
		{"Null not a boolean", `{"Null":{"aws:SourceArn":"maybe"}}`, full, Unknown},
		{"Null empty values are absent", `{"Null":{"aws:SourceArn":"true"}}`, map[string][]string{"aws:SourceArn": {}}, Allow},
		// What the evaluator does not implement is Unknown.
		{"unknown operator", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}`, full, Unknown},
		{"numeric operator", `{"NumericLessThan":{"s3:max-keys":"10"}}`, full, Unknown},
		{"operator in wrong case", `{"stringequals":{"aws:SourceAccount":"111122223333"}}`, full, Unknown},
		{"NullIfExists is not an operator", `{"NullIfExists":{"aws:SourceArn":"true"}}`, full, Unknown},
		{"set prefix on Null", `{"ForAnyValue:Null":{"aws:SourceArn":"true"}}`, full, Unknown},
		{"unknown set prefix", `{"ForSomeValues:StringEquals":{"aws:SourceAccount":"111122223333"}}`, full, Unknown},
		{"unknown key", `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`, full, Unknown},
		{"unknown key given in context", `{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}`, map[string][]string{"aws:PrincipalOrgID": {"o-abc123"}}, Allow},
		{"unknown key with IfExists", `{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123"}}`, full, Unknown},
		{"Null on unknown key", `{"Null":{"aws:PrincipalOrgID":"true"}}`, full, Unknown},
		{"policy variable", `{"StringEquals":{"aws:SourceAccount":"${aws:PrincipalAccount}"}}`, full, Unknown},
		{"unknown and false is false", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},"StringEquals":{"aws:SourceAccount":"444455556666"}}`, full, NotAllowed},
		{"unknown and true is unknown", `{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"},"StringEquals":{"aws:SourceAccount":"111122223333"}}`, full, Unknown},
		{"unknown value or true is true", `{"ArnLike":{"aws:SourceArn":["not-an-arn","arn:aws:s3:::source-bucket"]}}`, full, Allow},
		{"unknown value or false is unknown", `{"ArnLike":{"aws:SourceArn":["not-an-arn","arn:aws:s3:::other"]}}`, full, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Sid":"c","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
				"Action":"s3:PutObject","Resource":"arn:aws:s3:::dest/*","Condition":`+tt.condition+`}}`)
			d, err := p.Decide(Request{Service: S3Service, Action: "s3:PutObject", Resource: "arn:aws:s3:::dest/k", Context: tt.ctx})
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want {
				t.Fatalf("Decide = %+v, want %v", d, tt.want)
			}
			checkDecision(t, d)
		})
	}
}

// checkDecision asserts a decision's explanation fits its outcome.
func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	switch d.Outcome {
	case Unknown:
		if d.Reason == "" || len(d.Statements) == 0 {
			t.Errorf("Unknown decision %+v: want statements and a reason", d)
		}
		if strings.Contains(d.Reason, "\n") {
			t.Errorf("reason %q spans lines", d.Reason)
		}
	case Allow, Deny:
		if len(d.Statements) == 0 || d.Reason != "" {
			t.Errorf("%v decision %+v: want statements and no reason", d.Outcome, d)
		}
	case NotAllowed:
		if len(d.Statements) != 0 || d.Reason != "" {
			t.Errorf("NotAllowed decision %+v: want no statements and no reason", d)
		}
	default:
		t.Errorf("decision %+v: invalid outcome", d)
	}
}
