package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV106(t *testing.T) {
	format := func(f string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.Format = f }))
	}
	parquet := setParam(approvedFormats, []string{"Parquet"})
	runRuleCases(t, "INV-106", []ruleCase{
		{name: "default policy: any format", config: format("CSV"), want: pass},
		{name: "approved", config: format("Parquet"), set: parquet, want: pass},
		{name: "not approved", config: format("CSV"), set: parquet, want: fail,
			message: "writes CSV reports; approved formats: Parquet", evidence: map[string]string{"format": "CSV", "formats": "Parquet"}},
		{name: "unknown format from a newer API", config: format("JSON"), want: fail, evidence: map[string]string{"format": "JSON"}},
	})
}
