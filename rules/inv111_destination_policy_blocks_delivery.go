package rules

import "github.com/s3inv/scanner/internal/base/iampolicy"

var destinationPolicyBlocksDelivery = Rule{
	ID:       "INV-111",
	Name:     "destination-policy-blocks-delivery",
	Title:    "The destination bucket policy does not let S3 deliver the report",
	Severity: SeverityHigh,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "the destination bucket policy does not allow s3.amazonaws.com to s3:PutObject the report for this " +
		"source bucket and account (no matching Allow, or a matching Deny)",
	Rationale: "S3 writes inventory reports as the service principal s3.amazonaws.com, and only the destination " +
		"bucket's policy can let it. Without an Allow for this source, or with a Deny that matches it, every " +
		"delivery fails silently and the configuration produces nothing.",
	Remediation: "Add this statement to the destination bucket's policy (the finding's `statement` evidence has it " +
		"filled in), and remove or narrow any Deny it names: " +
		"`{\"Sid\":\"InventoryDelivery\",\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"s3.amazonaws.com\"}," +
		"\"Action\":\"s3:PutObject\",\"Resource\":\"arn:aws:s3:::DESTINATION-BUCKET/*\",\"Condition\":{" +
		"\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::SOURCE-BUCKET\"},\"StringEquals\":{" +
		"\"aws:SourceAccount\":\"SOURCE-ACCOUNT-ID\",\"s3:x-amz-acl\":\"bucket-owner-full-control\"}}}`.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/example-bucket-policies.html#example-bucket-policies-s3-inventory-1",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	check: checkDestinationPolicyBlocksDelivery,
}

func checkDestinationPolicyBlocksDelivery(s subject) result {
	return reduced(s, s.dest.Owner, deliveryVerdict(s),
		"the "+destName(s)+", owned by account "+s.dest.Owner+", refuses delivery: S3 cannot deliver the report",
		map[string]string{"statement": deliveryStatement(s)})
}

func deliveryVerdict(s subject) result {
	p, res, ok := destPolicy(s)
	if !ok {
		return res
	}
	ev := map[string]string{"destination": s.config.Destination.BucketARN, "statement": deliveryStatement(s)}
	if p == nil {
		ev["decision"] = iampolicy.NotAllowed.String()
		return failed(destName(s)+" has no bucket policy, so S3 cannot deliver the report", ev)
	}
	d, err := p.InventoryDelivery(source(s.dest), s.config.Destination.BucketARN, s.config.Destination.Prefix)
	if err != nil {
		return unverified("bucket policy", failureOf("InvalidDestination", err))
	}
	switch d.Outcome {
	case iampolicy.Allow:
		return passed()
	case iampolicy.Unknown:
		return undecided("bucket policy", d)
	}
	ev["decision"] = d.Outcome.String()
	if len(d.Statements) > 0 {
		ev["statements"] = joinList(d.Statements)
	}
	return failed("the bucket policy of "+destName(s)+" "+decisionText(d)+": S3 cannot deliver the report", ev)
}
