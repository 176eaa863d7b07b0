package rules

import (
	"regexp"
	"strings"

	"github.com/s3inv/scanner/internal/base/inventory"
)

var kmsKeyNotApproved = Rule{
	ID:        "INV-102",
	Name:      "kms-key-not-approved",
	Title:     "Inventory report is encrypted with a KMS key that is not approved",
	Severity:  SeverityHigh,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "SSE-KMS names a key outside the policy's approved keys (only when the policy lists keys)",
	Rationale: "Whoever controls the KMS key controls who can read the report. A key outside the approved set may " +
		"belong to another team or account, or have a key policy nobody reviewed.",
	Remediation: "Point the configuration's SSE-KMS KeyId at one of the approved key ARNs, or add the key to " +
		"approved_kms_keys after reviewing its key policy.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_SSEKMS.html",
		"https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html",
	},
	params: []paramSpec{approvedKMSKeys},
	check:  checkKMSKeyNotApproved,
}

// approvedKMSKeys are the keys SSE-KMS may use; empty: the rule does not
// apply.
var approvedKMSKeys = listParam("approved_kms_keys", ParamDoc{
	Values:  "list of KMS key ARNs",
	Default: "`[]` (the rule does not apply)",
	Meaning: "keys SSE-KMS may use",
}, func(k string) string {
	if kmsKeyARNRe.MatchString(k) {
		return ""
	}
	return "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID or alias/NAME)"
})

var kmsKeyARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:(key/[A-Za-z0-9-]{1,128}|alias/[A-Za-z0-9/_-]{1,250})$`)

func checkKMSKeyNotApproved(s subject) result {
	d := dest(s)
	keys := approvedKMSKeys.get(s.settings)
	if len(keys) == 0 || d.Encryption != inventory.EncryptionSSEKMS {
		return skipped()
	}
	if has(keys, d.KMSKeyID) {
		return passed()
	}
	return failed(configName(s)+" encrypts reports with KMS key "+orNone(d.KMSKeyID)+", which is not an approved key",
		map[string]string{"kms_key_id": orNone(d.KMSKeyID), "approved_kms_keys": strings.Join(keys, ",")})
}
