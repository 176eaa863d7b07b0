package lifecycle_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report/internal/lifecycle"
	"github.com/s3inv/scanner/rules"
)

// TestResolverKeepsTheFoldOfUnverifiedDestinations: a bucket whose
// destinations could not all be verified keeps the SCAN-006 finding that
// folds its destination findings, as it keeps those findings; the fold
// of its configurations' findings is resolved as usual.
func TestResolverKeepsTheFoldOfUnverifiedDestinations(t *testing.T) {
	p, err := rules.LoadPolicy([]byte("limits: {findings_per_bucket: 1}\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 15, 6, 0, 0, 0, time.UTC)
	acct := inventory.Account{ID: "111111111111"}
	bucket := inventory.Bucket{Name: "data", Region: "us-east-1"}
	org := inventory.Org{FromOrganizations: true, Members: map[string]bool{acct.ID: true}}
	e := rules.NewEvaluator(p, org)
	var ds []inventory.DestinationCheck
	var configs []inventory.Config
	for i := range 3 {
		c := inventory.Config{ID: fmt.Sprintf("c-%d", i), Enabled: true, Frequency: "Daily", IncludedVersions: "All",
			Destination: inventory.Destination{AccountID: acct.ID, BucketARN: "arn:aws:s3:::gone", Format: "CSV"}}
		configs = append(configs, c)
		ds = append(ds, inventory.DestinationCheck{Account: acct, Bucket: bucket, Config: c, Owner: acct.ID, OwnerListed: true,
			Partition: "aws", Policy: &inventory.PolicyRead{Missing: true}}) // INV-110 each
	}
	dest, _ := e.Destinations(ds, "s1", now)
	conf := e.Bucket(inventory.BucketResult{Account: acct, Bucket: bucket, Configs: configs}, "s1", now)
	fold := func(fs []rules.Finding) rules.Finding {
		t.Helper()
		f := fs[len(fs)-1]
		if f.RuleID != "SCAN-006" {
			t.Fatalf("findings %+v; want a SCAN-006 last", fs)
		}
		return f
	}
	destFold, confFold := fold(dest), fold(conf)
	unverified := lifecycle.NewResolver(inventory.AccountResult{Account: acct, Status: inventory.AccountComplete, Unverified: []string{"data"}})
	verified := lifecycle.NewResolver(inventory.AccountResult{Account: acct, Status: inventory.AccountComplete})
	if unverified.Resolves(destFold, false) || !verified.Resolves(destFold, false) {
		t.Error("the fold of the destination findings: resolved while unverified, or kept once verified")
	}
	if !unverified.Resolves(confFold, false) {
		t.Error("the fold of the configurations' findings kept because the destinations were unverified")
	}
}
