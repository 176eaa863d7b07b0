package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV107(t *testing.T) {
	freq := func(f string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Frequency = f }))
	}
	daily := setParam(requiredFrequency, "Daily")
	runRuleCases(t, "INV-107", []ruleCase{
		{name: "default policy: Weekly accepted", config: freq("Weekly"), want: pass},
		{name: "Daily required, Daily", config: freq("Daily"), set: daily, want: pass},
		{name: "Daily required, Weekly", config: freq("Weekly"), set: daily, want: fail,
			message: "runs Weekly; the policy requires Daily", evidence: map[string]string{"frequency": "Weekly", "required": "Daily"}},
	})
}
