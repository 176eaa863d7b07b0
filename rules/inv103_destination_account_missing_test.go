package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV103(t *testing.T) {
	runRuleCases(t, "INV-103", []ruleCase{
		{name: "account set", config: ptr(goodConfig("a")), want: pass},
		{name: "account missing", config: ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.AccountID = "" })),
			want: fail, message: "arn:aws:s3:::central-inventory-us-east-1 without naming the destination account",
			evidence: map[string]string{"account_id": "(none)", "bucket_arn": "arn:aws:s3:::central-inventory-us-east-1"}},
	})
}
