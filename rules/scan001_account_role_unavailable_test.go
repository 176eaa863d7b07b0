package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func accountResult(status inventory.AccountStatus, f *inventory.Failure) *inventory.AccountResult {
	return &inventory.AccountResult{Account: testAcct, Status: status, Failure: f, Buckets: 10, Visited: 4}
}

func TestSCAN001(t *testing.T) {
	denied := &inventory.Failure{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}
	runRuleCases(t, "SCAN-001", []ruleCase{
		{name: "role unavailable", account: accountResult(inventory.AccountRoleUnavailable, denied), want: fail,
			message:  "the member role of account 111111111111 could not be assumed: AccessDenied: not authorized",
			evidence: map[string]string{"error_code": "AccessDenied", "error_message": denied.Message}},
		{name: "complete", account: accountResult(inventory.AccountComplete, nil), want: pass},
		{name: "other failure", account: accountResult(inventory.AccountBucketsUnlisted, denied), want: notApplicable},
		{name: "failure without details", account: accountResult(inventory.AccountRoleUnavailable, nil), want: fail, evidence: map[string]string{"error_code": "(none)"}},
	})
}
