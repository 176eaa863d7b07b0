package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV003(t *testing.T) {
	prefixed := func(id, prefix string) inventory.Config {
		return with(goodConfig(id), func(c *inventory.Config) { c.FilterPrefix = prefix })
	}
	runRuleCases(t, "INV-003", []ruleCase{
		{name: "every enabled configuration filtered", bucket: ptr(bucketWith(prefixed("a", "logs/"), prefixed("b", "data/"))), want: fail, message: "logs/, data/", evidence: map[string]string{"filter_prefixes": "logs/,data/"}},
		{name: "a disabled whole-bucket configuration does not count",
			bucket: ptr(bucketWith(prefixed("a", "logs/"), with(goodConfig("b"), func(c *inventory.Config) { c.Enabled = false }))), want: fail, evidence: map[string]string{"filter_prefixes": "logs/"}},
		{name: "one enabled configuration covers the bucket", bucket: ptr(bucketWith(prefixed("a", "logs/"), goodConfig("b"))), want: pass},
		{name: "no enabled configuration", bucket: ptr(bucketWith(with(goodConfig("a"), func(c *inventory.Config) { c.Enabled = false }))), want: notApplicable},
		{name: "no configuration", bucket: ptr(bucketWith()), want: notApplicable},
	})
}
