package rules

var destinationAccountMissing = Rule{
	ID:        "INV-103",
	Name:      "destination-account-missing",
	Title:     "Inventory destination does not name the owning account",
	Severity:  SeverityHigh,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "Destination.S3BucketDestination.AccountId is empty",
	Rationale: "Without AccountId, S3 delivers the report to whoever owns the destination bucket name at delivery time. " +
		"If that bucket is deleted and its name taken by someone else, the reports go to them. AWS strongly " +
		"recommends setting it.",
	Remediation: "Set Destination.S3BucketDestination.AccountId to the ID of the account that owns the destination bucket.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	check: checkDestinationAccountMissing,
}

func checkDestinationAccountMissing(s subject) result {
	if dest(s).AccountID != "" {
		return passed()
	}
	return failed(configName(s)+" delivers to "+orNone(dest(s).BucketARN)+" without naming the destination account",
		map[string]string{"account_id": "(none)", "bucket_arn": orNone(dest(s).BucketARN)})
}
