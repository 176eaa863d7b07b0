package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV108(t *testing.T) {
	versions := func(v string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.IncludedVersions = v }))
	}
	all := setParam(requiredVersions, "All")
	runRuleCases(t, "INV-108", []ruleCase{
		{name: "default policy: Current accepted", config: versions("Current"), want: pass},
		{name: "All required, All", config: versions("All"), set: all, want: pass},
		{name: "All required, Current", config: versions("Current"), set: all, want: fail,
			message: "includes Current object versions; the policy requires All", evidence: map[string]string{"included_versions": "Current", "required": "All"}},
	})
}
