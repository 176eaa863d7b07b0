package rules

var bucketUnreadable = Rule{
	ID:        "SCAN-003",
	Name:      "bucket-unreadable",
	Title:     "The scanner could not read the bucket's inventory configurations",
	Severity:  SeverityMedium,
	Level:     LevelBucket,
	Kind:      KindCoverage,
	FailsWhen: "ListBucketInventoryConfigurations failed for the bucket (access denied, wrong region, other)",
	Rationale: "A bucket whose configurations could not be read is unknown, not compliant; a bucket policy that " +
		"denies the scanner can hide a bucket with no inventory at all.",
	Remediation: "Grant the member role s3:GetInventoryConfiguration on the bucket, and check the bucket policy, " +
		"SCPs and the bucket's region.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketInventoryConfigurations.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html",
	},
	check: checkBucketUnreadable,
}

func checkBucketUnreadable(s subject) result {
	if s.bucket.Failure == nil {
		return passed()
	}
	return failed("the inventory configurations of bucket "+s.bucket.Bucket.Name+" could not be read"+failureText(s.bucket.Failure),
		failureEvidence(s.bucket.Failure))
}
