package rules

import "github.com/s3inv/scanner/internal/base/inventory"

var destinationNotSSEKMS = Rule{
	ID:        "INV-101",
	Name:      "destination-not-sse-kms",
	Title:     "Inventory report is not encrypted with SSE-KMS",
	Severity:  SeverityHigh,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "the report is not encrypted with SSE-KMS (no encryption, or SSE-S3) while the policy requires SSE-KMS",
	Rationale: "An inventory report lists the metadata of every object of the bucket. With SSE-KMS, reading it also " +
		"needs kms:Decrypt on a key whose policy you control and whose use CloudTrail records; with SSE-S3 or no " +
		"encryption, anyone who can read the destination bucket can read the report.",
	Remediation: "Set Destination.S3BucketDestination.Encryption to SSE-KMS with a customer managed key, and grant " +
		"s3.amazonaws.com kms:GenerateDataKey on that key. Disable the rule in the policy where SSE-S3 is accepted.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryEncryption.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
		"https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html",
	},
	check: checkDestinationNotSSEKMS,
}

func checkDestinationNotSSEKMS(s subject) result {
	enc := dest(s).Encryption
	if enc == inventory.EncryptionSSEKMS {
		return passed()
	}
	what := "unencrypted"
	if enc != inventory.EncryptionNone {
		what = "encrypted with " + string(enc)
	}
	return failed(configName(s)+" writes reports "+what+", not SSE-KMS",
		map[string]string{"encryption": orNone(string(enc))})
}
