package rules

import "github.com/s3inv/scanner/internal/base/inventory"

var accountBucketsUnlisted = Rule{
	ID:          "SCAN-002",
	Name:        "account-buckets-unlisted",
	Title:       "The scanner could not list the buckets of the account",
	Severity:    SeverityHigh,
	Level:       LevelAccount,
	Kind:        KindCoverage,
	covers:      inventory.AccountBucketsUnlisted,
	FailsWhen:   "ListBuckets failed for the account",
	Rationale:   "Without the bucket list none of the account's buckets was checked; they are unknown, not compliant.",
	Remediation: "Grant the member role s3:ListAllMyBuckets and check that no SCP or permissions boundary denies it.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html",
	},
	check: checkAccountBucketsUnlisted,
}

func checkAccountBucketsUnlisted(s subject) result {
	switch s.account.Status {
	case inventory.AccountComplete:
		return passed()
	case inventory.AccountBucketsUnlisted:
	default:
		return skipped() // another coverage finding
	}
	return failed("the buckets of account "+s.account.Account.ID+" could not be listed"+failureText(s.account.Failure),
		failureEvidence(s.account.Failure))
}
