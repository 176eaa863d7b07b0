package rules

import (
	"strings"

	"github.com/s3inv/scanner/internal/inventory"
)

func init() {
	register(Rule{
		ID:        "INV-102",
		Name:      "kms-key-not-approved",
		Title:     "Inventory report is encrypted with a KMS key that is not approved",
		Severity:  SeverityHigh,
		Level:     LevelConfig,
		FailsWhen: "SSE-KMS names a key outside the policy's approved keys (only when the policy lists keys)",
		Rationale: "Whoever controls the KMS key controls who can read the report. A key outside the approved set may " +
			"belong to another team or account, or have a key policy nobody reviewed.",
		Remediation: "Point the configuration's SSE-KMS KeyId at one of the approved key ARNs, or add the key to " +
			"approved_kms_keys after reviewing its key policy.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_SSEKMS.html",
			"https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html",
		},
		Parameters: []string{"approved_kms_keys"},
		check:      checkKMSKeyNotApproved,
	})
}

func checkKMSKeyNotApproved(s subject) result {
	d := dest(s)
	if s.settings.kmsKeys == nil || d.Encryption != inventory.EncryptionSSEKMS {
		return skipped()
	}
	if has(s.settings.kmsKeys, d.KMSKeyID) {
		return passed()
	}
	return failed(configName(s)+" encrypts reports with KMS key "+orNone(d.KMSKeyID)+", which is not an approved key",
		map[string]string{"kms_key_id": orNone(d.KMSKeyID), "approved_kms_keys": strings.Join(s.settings.kmsKeys, ",")})
}
