package rules

import "github.com/s3inv/scanner/internal/base/inventory"

var destinationBucketMissing = Rule{
	ID:       "INV-110",
	Name:     "destination-bucket-missing",
	Title:    "Inventory reports go to a bucket that does not exist",
	Severity: SeverityHigh,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "the destination bucket is in an account of the organization that was listed completely in this scan, " +
		"and no such bucket exists there",
	Rationale: "S3 accepts a configuration whose destination bucket was deleted, and then delivers nothing: the " +
		"configuration looks compliant while no report is written. Worse, anyone can create a bucket of that name " +
		"and receive the reports.",
	Remediation: "Create the destination bucket in the destination account, in the source bucket's Region, with the " +
		"bucket-policy statement of INV-111 (the finding's `statement` evidence), or point the configuration at an " +
		"existing destination bucket.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html",
	},
	check: checkDestinationBucketMissing,
}

func checkDestinationBucketMissing(s subject) result {
	d := s.dest
	switch {
	case d.Failure != nil:
		return unverified("destination", d.Failure)
	case d.Policy == nil:
		return skipped()
	case d.Policy.Failure != nil:
		return unverified("bucket policy", d.Policy.Failure)
	case !d.Policy.Missing:
		return passed()
	case !d.OwnerListed:
		return unverified("bucket", &inventory.Failure{Code: "NoSuchBucket",
			Message: "S3 answered NoSuchBucket, but account " + d.Owner + " was not listed completely in this scan"})
	}
	return failed(destName(s)+" does not exist in account "+d.Owner,
		map[string]string{"destination": s.config.Destination.BucketARN, "owner": d.Owner, "statement": deliveryStatement(s)})
}
