package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestSCAN003(t *testing.T) {
	unreadable := bucketWith()
	unreadable.Failure = &inventory.Failure{Code: "AccessDenied", Message: "bucket policy denies s3:GetInventoryConfiguration"}
	runRuleCases(t, "SCAN-003", []ruleCase{
		{name: "unreadable", bucket: &unreadable, want: fail,
			message:  "the inventory configurations of bucket data could not be read: AccessDenied: bucket policy denies",
			evidence: map[string]string{"error_code": "AccessDenied", "error_message": unreadable.Failure.Message}},
		{name: "read", bucket: ptr(bucketWith()), want: pass},
	})
}
