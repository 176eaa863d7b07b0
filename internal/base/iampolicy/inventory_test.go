package iampolicy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

var docSource = Source{Account: "111122223333", Bucket: "amzn-s3-demo-source-bucket", ConfigID: "daily", OrgID: "o-exampleorg1"}

const docDest = "arn:aws:s3:::amzn-s3-demo-destination-bucket"

func TestInventoryDelivery(t *testing.T) {
	docPolicy := readTestdata(t, "inventory-destination.json")
	otherAccount := docSource
	otherAccount.Account = "999988887777"
	otherBucket := docSource
	otherBucket.Bucket = "another-bucket"
	const scoped = `{"Sid":"Inv","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-destination-bucket/%s","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`
	tests := []struct {
		name       string
		policy     string
		src        Source
		prefix     string
		want       Outcome
		statements []string
	}{
		{"documented example", docPolicy, docSource, "inventory", Allow, []string{"InventoryExamplePolicy"}},
		{"documented example, no prefix", docPolicy, docSource, "", Allow, []string{"InventoryExamplePolicy"}},
		{"documented example, other source account", docPolicy, otherAccount, "inventory", NotAllowed, nil},
		{"documented example, other source bucket", docPolicy, otherBucket, "inventory", NotAllowed, nil},
		{"documented example with a deny on puts", strings.Replace(docPolicy, `]
}`, `,{"Sid":"Freeze","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::amzn-s3-demo-destination-bucket/*"}]}`, 1), docSource, "inventory", Deny, []string{"Freeze"}},
		{"documented example with an undecidable deny", strings.Replace(docPolicy, `]
}`, `,{"Sid":"Vpce","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}]}`, 1), docSource, "inventory", Unknown, []string{"Vpce"}},
		{"allow everything", readTestdata(t, "allow-everything.json"), docSource, "inventory", Allow, []string{"#0"}},
		{"prefix scoped", doc(fmt.Sprintf(scoped, "inventory/*")), docSource, "inventory/", Allow, []string{"Inv"}},
		{"other prefix", doc(fmt.Sprintf(scoped, "inventory/*")), docSource, "reports", NotAllowed, nil},
		{"manifests only: data files blocked", doc(fmt.Sprintf(scoped, "*/manifest.json")), docSource, "inventory", NotAllowed, nil},
		{"acl condition not met", doc(`{"Sid":"Private","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-acl":"private"}}}`), docSource, "inventory", NotAllowed, nil},
		{"organization scoped", doc(`{"Sid":"Org","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceOrgID":"o-exampleorg1"}}}`), docSource, "inventory", Allow, []string{"Org"}},
		{"organization unknown to the caller", doc(`{"Sid":"Org","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceOrgID":"o-exampleorg1"}}}`), Source{Account: "111122223333", Bucket: "b", ConfigID: "c"}, "inventory", NotAllowed, nil},
		{"TLS-only deny does not block", doc(`{"Sid":"TLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`, fmt.Sprintf(scoped, "*")), docSource, "inventory", Allow, []string{"Inv"}},
		{"no statement for s3", readTestdata(t, "kms-inventory-key.json"), docSource, "inventory", NotAllowed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustParse(t, tt.policy).InventoryDelivery(tt.src, docDest, tt.prefix)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want || !slices.Equal(d.Statements, tt.statements) {
				t.Fatalf("InventoryDelivery = %+v, want %v by %q", d, tt.want, tt.statements)
			}
			checkDecision(t, d)
		})
	}
}

func TestInventoryDeliveryInvalid(t *testing.T) {
	p := mustParse(t, readTestdata(t, "inventory-destination.json"))
	tests := []struct {
		name string
		src  Source
		dest string
		want string
	}{
		{"bad account", Source{Account: "1111", Bucket: "b", ConfigID: "c"}, docDest, `source account "1111"`},
		{"no bucket", Source{Account: "111122223333", ConfigID: "c"}, docDest, `source bucket ""`},
		{"no config", Source{Account: "111122223333", Bucket: "b"}, docDest, `source configuration ID ""`},
		{"destination not an ARN", docSource, "amzn-s3-demo-destination-bucket", "want a bucket ARN"},
		{"destination an object", docSource, docDest + "/key", "want a bucket ARN"},
		{"destination not s3", docSource, "arn:aws:sqs:us-east-1:111122223333:q", "want a bucket ARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.InventoryDelivery(tt.src, tt.dest, ""); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("InventoryDelivery error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestReportKeys(t *testing.T) {
	for _, prefix := range []string{"inv", "inv/"} {
		for _, k := range ReportKeys(prefix, docSource) {
			if !strings.HasPrefix(k, "inv/amzn-s3-demo-source-bucket/daily/") {
				t.Errorf("ReportKeys(%q) key %q, want it under inv/amzn-s3-demo-source-bucket/daily/", prefix, k)
			}
		}
	}
	keys := ReportKeys("", docSource)
	if !strings.HasPrefix(keys[0], "amzn-s3-demo-source-bucket/daily/") || !strings.HasSuffix(keys[0], "/manifest.json") {
		t.Errorf("ReportKeys(\"\")[0] = %q, want amzn-s3-demo-source-bucket/daily/.../manifest.json", keys[0])
	}
}

func TestKMSGenerateDataKey(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	keyPolicy := readTestdata(t, "kms-inventory-key.json")
	otherBucket := docSource
	otherBucket.Bucket = "another-bucket"
	tests := []struct {
		name       string
		policy     string
		src        Source
		want       Outcome
		statements []string
	}{
		{"documented key policy", keyPolicy, docSource, Allow, []string{"Allow Amazon S3 use of the customer managed key"}},
		{"documented key policy, other bucket", keyPolicy, otherBucket, NotAllowed, nil},
		{"default key policy only", doc(`{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}`), docSource, NotAllowed, nil},
		{"wildcard action", doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111122223333"}}}`), docSource, Allow, []string{"S3"}},
		{"encrypt only", doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:Encrypt","Resource":"*"}`), docSource, NotAllowed, nil},
		{"the S3 ACL header is not in a KMS request", doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}`), docSource, NotAllowed, nil},
		{"encryption context key is unknown", doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:s3:arn":"arn:aws:s3:::dest*"}}}`), docSource, Unknown, []string{"S3"}},
		{"explicit deny for s3", doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:*","Resource":"*"}`, `{"Sid":"NoS3","Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey","Resource":"*"}`), docSource, Deny, []string{"NoS3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := mustParse(t, tt.policy).KMSGenerateDataKey(tt.src, key)
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want || !slices.Equal(d.Statements, tt.statements) {
				t.Fatalf("KMSGenerateDataKey = %+v, want %v by %q", d, tt.want, tt.statements)
			}
			checkDecision(t, d)
		})
	}
	if _, err := mustParse(t, keyPolicy).KMSGenerateDataKey(docSource, docDest); err == nil || !strings.Contains(err.Error(), "want a KMS key ARN") {
		t.Errorf("KMSGenerateDataKey of a bucket ARN: %v, want a key ARN error", err)
	}
}

func TestUnscopedServiceAllows(t *testing.T) {
	stmt := func(sid, principal, action, condition string) string {
		s := `{"Sid":"` + sid + `","Effect":"Allow","Principal":` + principal + `,"Action":"` + action + `","Resource":"arn:aws:s3:::dest/*"`
		if condition != "" {
			s += `,"Condition":` + condition
		}
		return s + `}`
	}
	const s3 = `{"Service":"s3.amazonaws.com"}`
	tests := []struct {
		name   string
		policy string
		want   []string
	}{
		{"documented example is scoped", readTestdata(t, "inventory-destination.json"), nil},
		{"no condition", doc(stmt("Open", s3, "s3:PutObject", "")), []string{"Open"}},
		{"everyone", doc(stmt("Star", `"*"`, "s3:*", "")), []string{"Star"}},
		{"allow everything", readTestdata(t, "allow-everything.json"), []string{"#0"}},
		{"AWS star", doc(stmt("AwsStar", `{"AWS":"*"}`, "s3:Put*", "")), []string{"AwsStar"}},
		{"only the acl condition", doc(stmt("Acl", s3, "s3:PutObject", `{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}`)), []string{"Acl"}},
		{"only the organization", doc(stmt("Org", s3, "s3:PutObject", `{"StringEquals":{"aws:SourceOrgID":"o-abc"}}`)), []string{"Org"}},
		{"source account", doc(stmt("Acct", s3, "s3:PutObject", `{"StringEquals":{"aws:SourceAccount":"111122223333"}}`)), nil},
		{"source account list", doc(stmt("Acct", s3, "s3:PutObject", `{"StringEquals":{"aws:SourceAccount":["111122223333","444455556666"]}}`)), nil},
		{"source arn", doc(stmt("Arn", s3, "s3:PutObject", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::src"}}`)), nil},
		{"source arn key case", doc(stmt("Arn", s3, "s3:PutObject", `{"ArnEquals":{"AWS:SOURCEARN":"arn:aws:s3:::src"}}`)), nil},
		{"source arn with wildcard region and account", doc(stmt("Arn", s3, "s3:PutObject", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:*:*:src"}}`)), nil},
		{"source arn any bucket", doc(stmt("AnyBucket", s3, "s3:PutObject", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}`)), []string{"AnyBucket"}},
		{"source arn bucket prefix", doc(stmt("Prefix", s3, "s3:PutObject", `{"StringLike":{"aws:SourceArn":"arn:aws:s3:::corp-*"}}`)), []string{"Prefix"}},
		{"source account wildcard", doc(stmt("Wild", s3, "s3:PutObject", `{"StringLike":{"aws:SourceAccount":"*"}}`)), []string{"Wild"}},
		{"source account literal star with StringEquals", doc(stmt("Literal", s3, "s3:PutObject", `{"StringEquals":{"aws:SourceAccount":"*"}}`)), nil},
		{"negated source condition", doc(stmt("Not", s3, "s3:PutObject", `{"StringNotEquals":{"aws:SourceAccount":"999988887777"}}`)), []string{"Not"}},
		{"IfExists does not scope", doc(stmt("IfExists", s3, "s3:PutObject", `{"StringEqualsIfExists":{"aws:SourceAccount":"111122223333"}}`)), []string{"IfExists"}},
		{"ForAllValues does not scope", doc(stmt("All", s3, "s3:PutObject", `{"ForAllValues:StringEquals":{"aws:SourceAccount":"111122223333"}}`)), []string{"All"}},
		{"ForAnyValue scopes", doc(stmt("Any", s3, "s3:PutObject", `{"ForAnyValue:StringEquals":{"aws:SourceAccount":"111122223333"}}`)), nil},
		{"other service", doc(stmt("Trail", `{"Service":"cloudtrail.amazonaws.com"}`, "s3:PutObject", "")), nil},
		{"an account", doc(stmt("Acct", `{"AWS":"111122223333"}`, "s3:PutObject", "")), nil},
		{"other action", doc(stmt("Read", s3, "s3:GetObject", "")), nil},
		{"deny is not an allow", doc(`{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}`), nil},
		{"not-principal excluding s3", doc(`{"Sid":"NP","Effect":"Allow","NotPrincipal":{"Service":"s3.amazonaws.com"},"Action":"*","Resource":"*"}`), nil},
		{"not-principal naming someone else", doc(`{"Sid":"NP","Effect":"Allow","NotPrincipal":{"AWS":"111122223333"},"Action":"*","Resource":"*"}`), []string{"NP"}},
		{"not-action covering put", doc(`{"Sid":"NA","Effect":"Allow","Principal":"*","NotAction":"s3:Delete*","Resource":"*"}`), []string{"NA"}},
		{"not-action excluding put", doc(`{"Sid":"NA","Effect":"Allow","Principal":"*","NotAction":"s3:Put*","Resource":"*"}`), nil},
		{"service in other case counts", doc(stmt("Case", `{"Service":"S3.AMAZONAWS.COM"}`, "s3:PutObject", "")), []string{"Case"}},
		{"Control Tower inventory statement scoped by organization only", readTestdata(t, "control-tower-log-archive.json"), []string{"S3InventoryDelivery"}},
		{"several", doc(stmt("A", s3, "s3:PutObject", ""), stmt("B", s3, "s3:PutObject", `{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::src"}}`), stmt("", `"*"`, "*", "")), []string{"A", "#2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.policy).UnscopedServiceAllows(S3Service, "s3:PutObject")
			if !slices.Equal(got, tt.want) {
				t.Errorf("UnscopedServiceAllows = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("kms key policy", func(t *testing.T) {
		p := mustParse(t, doc(`{"Sid":"S3","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*"}`))
		if got := p.UnscopedServiceAllows(S3Service, "kms:GenerateDataKey"); !slices.Equal(got, []string{"S3"}) {
			t.Errorf("UnscopedServiceAllows = %q, want [S3]", got)
		}
		if got := mustParse(t, readTestdata(t, "kms-inventory-key.json")).UnscopedServiceAllows(S3Service, "kms:GenerateDataKey"); got != nil {
			t.Errorf("documented key policy: UnscopedServiceAllows = %q, want none", got)
		}
	})
	if got := mustParse(t, doc(allowAll)).UnscopedServiceAllows("", "s3:PutObject"); got != nil {
		t.Errorf("UnscopedServiceAllows without a service = %q, want nil", got)
	}
}
