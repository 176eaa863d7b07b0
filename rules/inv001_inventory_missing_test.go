package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV001(t *testing.T) {
	runRuleCases(t, "INV-001", []ruleCase{
		{name: "no configuration", bucket: ptr(bucketWith()), want: fail, message: "bucket data has no S3 Inventory configuration", evidence: map[string]string{"configurations": "0"}},
		{name: "an enabled configuration", bucket: ptr(bucketWith(goodConfig("a"))), want: pass},
		{name: "only disabled configurations", bucket: ptr(bucketWith(with(goodConfig("a"), func(c *inventory.Config) { c.Enabled = false }))), want: pass},
	})
}
