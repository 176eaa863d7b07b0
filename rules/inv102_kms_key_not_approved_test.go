package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV102(t *testing.T) {
	approved := setParam(approvedKMSKeys, []string{testKey})
	other := "arn:aws:kms:us-east-1:222222222222:key/ffffffff-12ab-34cd-56ef-1234567890ab"
	runRuleCases(t, "INV-102", []ruleCase{
		{name: "approved key", config: ptr(goodConfig("a")), set: approved, want: pass},
		{name: "other key", config: ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.KMSKeyID = other })),
			set: approved, want: fail, message: other, evidence: map[string]string{"kms_key_id": other, "approved_kms_keys": testKey}},
		{name: "SSE-KMS without a key ID", config: ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.KMSKeyID = "" })),
			set: approved, want: fail, evidence: map[string]string{"kms_key_id": "(none)"}},
		{name: "no approved list", config: ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.KMSKeyID = other })), want: notApplicable},
		{name: "not SSE-KMS: INV-101's case", config: ptr(with(goodConfig("a"), func(c *inventory.Config) {
			c.Destination.Encryption, c.Destination.KMSKeyID = inventory.EncryptionSSES3, ""
		})), set: approved, want: notApplicable},
	})
}
