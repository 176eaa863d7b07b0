package rules

import (
	"strings"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

var destinationPolicyConfusedDeputy = Rule{
	ID:       "INV-112",
	Name:     "destination-policy-confused-deputy",
	Title:    "The destination bucket lets any account's inventory write to it",
	Severity: SeverityMedium,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "an Allow for s3.amazonaws.com on the destination has neither an aws:SourceAccount nor an " +
		"aws:SourceArn condition, so any account's inventory can write there",
	Rationale: "S3 acts for whoever configures it. An Allow for the service principal that does not name the " +
		"source accounts or buckets lets any AWS account point its inventory (or other S3 deliveries) at this " +
		"bucket and fill it with reports it trusts: the confused deputy.",
	Remediation: "Add conditions to each statement the finding names: `\"StringEquals\":{\"aws:SourceAccount\":" +
		"\"SOURCE-ACCOUNT-ID\"}` and `\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::SOURCE-BUCKET\"}` (lists of " +
		"accounts and bucket ARNs are allowed), as in the statement of INV-111.",
	Links: []string{
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1",
	},
	check: checkDestinationPolicyConfusedDeputy,
}

func checkDestinationPolicyConfusedDeputy(s subject) result {
	return reduced(s, s.dest.Owner, confusedDeputyVerdict(s),
		"the "+destName(s)+", owned by account "+s.dest.Owner+", takes S3 deliveries of any account's inventory: its bucket policy does not scope them to their sources",
		map[string]string{"statement": deliveryStatement(s)})
}

func confusedDeputyVerdict(s subject) result {
	p, res, ok := destPolicy(s)
	if !ok {
		return res
	}
	if p == nil {
		return passed() // no policy: nothing is allowed (INV-111)
	}
	sts := p.UnscopedServiceAllows(iampolicy.S3Service, "s3:PutObject")
	if len(sts) == 0 {
		return passed()
	}
	return failed("the bucket policy of "+destName(s)+" lets s3.amazonaws.com write without an aws:SourceAccount or aws:SourceArn condition (statements "+strings.Join(sts, ", ")+")",
		map[string]string{"destination": s.config.Destination.BucketARN, "statements": strings.Join(sts, ", "), "statement": deliveryStatement(s)})
}
