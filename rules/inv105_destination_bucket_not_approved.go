package rules

import (
	"path"
	"regexp"
	"strings"
)

var destinationBucketNotApproved = Rule{
	ID:        "INV-105",
	Name:      "destination-bucket-not-approved",
	Title:     "Inventory reports go to a bucket that is not approved",
	Severity:  SeverityHigh,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "the destination bucket ARN matches none of the policy's approved bucket patterns (only when the policy lists some)",
	Rationale: "Reports belong in the buckets built for them (central, locked down, with lifecycle and access logging). " +
		"A report in any other bucket escapes those controls.",
	Remediation: "Deliver the reports to an approved destination bucket, or add its ARN pattern to approved_buckets.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
	},
	params: []paramSpec{approvedBuckets},
	check:  checkDestinationBucketNotApproved,
}

// approvedBuckets are path.Match patterns on the destination bucket ARN;
// empty: the rule does not apply.
var approvedBuckets = listParam("approved_buckets", ParamDoc{
	Values:  "list of bucket ARN patterns",
	Default: "`[]` (the rule does not apply)",
	Meaning: "buckets reports may go to",
}, func(p string) string {
	if !bucketARNRe.MatchString(p) {
		return "a bucket ARN pattern (arn:aws:s3:::NAME-GLOB)"
	}
	if !validGlob(p) {
		return "a bucket ARN pattern (arn:aws:s3:::NAME-GLOB) in path.Match syntax (* ? [a-z])"
	}
	return ""
})

var bucketARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:s3:::.+$`)

func checkDestinationBucketNotApproved(s subject) result {
	approved := approvedBuckets.get(s.settings)
	if len(approved) == 0 {
		return skipped()
	}
	arn := dest(s).BucketARN
	for _, p := range approved {
		if ok, _ := path.Match(p, arn); ok {
			return passed()
		}
	}
	return failed(configName(s)+" delivers reports to "+orNone(arn)+", which matches no approved destination bucket",
		map[string]string{"bucket_arn": orNone(arn), "approved_buckets": strings.Join(approved, ",")})
}
