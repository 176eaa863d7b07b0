package rules_test

import (
	"fmt"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

func ExampleLoadPolicy() {
	_, err := rules.LoadPolicy([]byte(`
rules:
  INV-107: {frequency: Hourly}
`), "policy.yaml")
	fmt.Println(err)
	// Output: policy policy.yaml line 3: rules.INV-107.frequency "Hourly": want Daily or Weekly (the least frequent schedule accepted)
}

func ExampleEvaluator_Bucket() {
	p, _ := rules.LoadPolicy([]byte(`
waivers:
  - {rule: INV-001, account: "111111111111", bucket: "tmp-*", reason: "scratch space, SEC-7", expires: 2027-06-30}
`), "example")
	e := rules.NewEvaluator(p, inventory.Org{})
	acct := inventory.Account{ID: "111111111111", Name: "dev"}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, name := range []string{"data", "tmp-1"} {
		for _, f := range e.Bucket(inventory.BucketResult{Account: acct, Bucket: inventory.Bucket{Name: name, Region: "eu-west-1"}}, "scan-1", now) {
			fmt.Println(f.RuleID, f.Severity, f.Status, f.Message)
		}
	}
	// Output:
	// INV-001 MEDIUM OPEN bucket data has no S3 Inventory configuration
	// INV-001 MEDIUM WAIVED bucket tmp-1 has no S3 Inventory configuration
}
