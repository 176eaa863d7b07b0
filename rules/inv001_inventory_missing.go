package rules

var inventoryMissing = Rule{
	ID:        "INV-001",
	Name:      "inventory-missing",
	Title:     "Bucket has no S3 Inventory configuration",
	Severity:  SeverityMedium,
	Level:     LevelBucket,
	Kind:      KindBucket,
	FailsWhen: "the bucket has no inventory configuration",
	Rationale: "Without an S3 Inventory report nobody can audit the objects of the bucket at scale: " +
		"their encryption, replication and Object Lock status, storage class or size. " +
		"Inventory reports are the data-governance control that answers those questions without listing every object.",
	Remediation: "Add an inventory configuration to the bucket (S3 console: Management > Inventory configurations, " +
		"or PutBucketInventoryConfiguration) that delivers to the central inventory bucket, encrypted with SSE-KMS.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	check: checkInventoryMissing,
}

func checkInventoryMissing(s subject) result {
	if len(s.bucket.Configs) > 0 {
		return passed()
	}
	return failed("bucket "+s.bucket.Bucket.Name+" has no S3 Inventory configuration",
		map[string]string{"configurations": "0"})
}
