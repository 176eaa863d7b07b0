package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestSCAN004(t *testing.T) {
	deadline := &inventory.Failure{Code: "Deadline", Message: "the run ended before the account was finished"}
	runRuleCases(t, "SCAN-004", []ruleCase{
		{name: "incomplete", account: accountResult(inventory.AccountIncomplete, deadline), want: fail,
			message:  "ended after 4 of 10 buckets: Deadline",
			evidence: map[string]string{"error_code": "Deadline", "buckets": "10", "visited": "4"}},
		{name: "complete", account: accountResult(inventory.AccountComplete, nil), want: pass},
		{name: "role unavailable is SCAN-001's", account: accountResult(inventory.AccountRoleUnavailable, deadline), want: notApplicable},
	})
}
