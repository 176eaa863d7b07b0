package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestSCAN002(t *testing.T) {
	denied := &inventory.Failure{Code: "AccessDenied", Message: "s3:ListAllMyBuckets denied"}
	runRuleCases(t, "SCAN-002", []ruleCase{
		{name: "buckets unlisted", account: accountResult(inventory.AccountBucketsUnlisted, denied), want: fail,
			message: "the buckets of account 111111111111 could not be listed: AccessDenied", evidence: map[string]string{"error_code": "AccessDenied"}},
		{name: "complete", account: accountResult(inventory.AccountComplete, nil), want: pass},
		{name: "role unavailable is SCAN-001's", account: accountResult(inventory.AccountRoleUnavailable, denied), want: notApplicable},
	})
}
