package iampolicy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary documents to Parse and, when one parses,
// evaluates it: neither may panic, and every decision must be explained.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`,
		`{"Version":"2008-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b/*"}]}`,
		`{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"aws:SourceArn":["arn:aws:s3:::*",1,true]},"Null":{"aws:SourceOrgID":"false"}}}]}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},"Statement":{}}`,
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]`,
		`{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r"},"Action":"*","Resource":"${aws:username}","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`,
	} {
		f.Add([]byte(s))
	}
	src := Source{Account: "111122223333", Bucket: "source-bucket", ConfigID: "cfg", OrgID: "o-abc"}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			if p != nil {
				t.Fatalf("Parse returned a policy with error %v", err)
			}
			return
		}
		if len(doc) > MaxPolicySize || len(p.Statements) == 0 {
			t.Fatalf("Parse accepted %d bytes with %d statements", len(doc), len(p.Statements))
		}
		for _, req := range []Request{
			{Service: S3Service, Action: "s3:PutObject", Resource: "arn:aws:s3:::dest/k", Context: src.context(true)},
			{AWS: "arn:aws:sts::111122223333:assumed-role/r/s", Action: "kms:Decrypt", Resource: "arn:aws:kms:us-east-1:111122223333:key/k"},
		} {
			d, err := p.Decide(req)
			if err != nil {
				t.Fatalf("Decide(%+v): %v", req, err)
			}
			checkDecision(t, d)
		}
		if _, err := p.InventoryDelivery(src, "arn:aws:s3:::dest", "inv"); err != nil {
			t.Fatal(err)
		}
		if _, err := p.KMSGenerateDataKey(src, "arn:aws:kms:us-east-1:111122223333:key/k"); err != nil {
			t.Fatal(err)
		}
		p.UnscopedServiceAllows(S3Service, "s3:PutObject")
	})
}
