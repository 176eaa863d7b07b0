package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV002(t *testing.T) {
	off := func(id string) inventory.Config {
		return with(goodConfig(id), func(c *inventory.Config) { c.Enabled = false })
	}
	runRuleCases(t, "INV-002", []ruleCase{
		{name: "every configuration disabled", bucket: ptr(bucketWith(off("a"), off("b"))), want: fail, message: "none enabled: a, b", evidence: map[string]string{"disabled_configurations": "a,b"}},
		{name: "one enabled among disabled", bucket: ptr(bucketWith(off("a"), goodConfig("b"))), want: pass},
		{name: "no configuration: INV-001's case", bucket: ptr(bucketWith()), want: notApplicable},
	})
}
