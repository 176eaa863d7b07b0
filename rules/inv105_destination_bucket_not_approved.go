package rules

import (
	"path"
	"strings"
)

func init() {
	register(Rule{
		ID:        "INV-105",
		Name:      "destination-bucket-not-approved",
		Title:     "Inventory reports go to a bucket that is not approved",
		Severity:  SeverityHigh,
		Level:     LevelConfig,
		FailsWhen: "the destination bucket ARN matches none of the policy's approved bucket patterns (only when the policy lists some)",
		Rationale: "Reports belong in the buckets built for them (central, locked down, with lifecycle and access logging). " +
			"A report in any other bucket escapes those controls.",
		Remediation: "Deliver the reports to an approved destination bucket, or add its ARN pattern to approved_buckets.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
			"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
		},
		Parameters: []string{"approved_buckets"},
		check:      checkDestinationBucketNotApproved,
	})
}

func checkDestinationBucketNotApproved(s subject) result {
	if s.settings.buckets == nil {
		return skipped()
	}
	arn := dest(s).BucketARN
	for _, p := range s.settings.buckets {
		if ok, _ := path.Match(p, arn); ok {
			return passed()
		}
	}
	return failed(configName(s)+" delivers reports to "+orNone(arn)+", which matches no approved destination bucket",
		map[string]string{"bucket_arn": orNone(arn), "approved_buckets": strings.Join(s.settings.buckets, ",")})
}
