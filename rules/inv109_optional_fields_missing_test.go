package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV109(t *testing.T) {
	fields := func(fs ...string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.OptionalFields = fs }))
	}
	require := setParam(requiredFields, []string{"EncryptionStatus", "ObjectLockMode", "Size"})
	runRuleCases(t, "INV-109", []ruleCase{
		{name: "all present", config: fields("Size", "ObjectLockMode", "EncryptionStatus", "ETag"), set: require, want: pass},
		{name: "two missing", config: fields("Size"), set: require, want: fail,
			message:  "lacks the optional fields EncryptionStatus, ObjectLockMode",
			evidence: map[string]string{"missing_fields": "EncryptionStatus,ObjectLockMode", "optional_fields": "Size"}},
		{name: "no fields at all", config: fields(), set: require, want: fail, evidence: map[string]string{"missing_fields": "EncryptionStatus,ObjectLockMode,Size"}},
		{name: "nothing required", config: fields(), want: notApplicable},
	})
}
