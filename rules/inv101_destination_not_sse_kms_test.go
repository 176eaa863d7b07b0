package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV101(t *testing.T) {
	runRuleCases(t, "INV-101", []ruleCase{
		{name: "SSE-KMS", config: ptr(goodConfig("a")), want: pass},
		{name: "SSE-S3", config: ptr(with(goodConfig("a"), func(c *inventory.Config) {
			c.Destination.Encryption, c.Destination.KMSKeyID = inventory.EncryptionSSES3, ""
		})), want: fail, message: `inventory configuration "a" of bucket data writes reports encrypted with SSE-S3, not SSE-KMS`, evidence: map[string]string{"encryption": "SSE-S3"}},
		{name: "no encryption", config: ptr(with(goodConfig("a"), func(c *inventory.Config) {
			c.Destination.Encryption, c.Destination.KMSKeyID = inventory.EncryptionNone, ""
		})), want: fail, message: "unencrypted", evidence: map[string]string{"encryption": "(none)"}},
	})
}
