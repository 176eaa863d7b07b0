package rules

import (
	"strconv"

	"github.com/s3inv/scanner/internal/base/inventory"
)

var accountScanIncomplete = Rule{
	ID:        "SCAN-004",
	Name:      "account-scan-incomplete",
	Title:     "The scan of the account ended before every bucket was read",
	Severity:  SeverityMedium,
	Level:     LevelAccount,
	Kind:      KindCoverage,
	covers:    inventory.AccountIncomplete,
	FailsWhen: "the run ended (deadline) before the account was finished",
	Rationale: "The buckets not visited were not checked, and the account's earlier findings cannot be resolved " +
		"until a complete scan.",
	Remediation: "Raise the function's timeout or concurrency, or scan large organizations in several invocations; " +
		"the next complete scan clears the finding.",
	Links: []string{
		"https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html",
	},
	check: checkAccountScanIncomplete,
}

func checkAccountScanIncomplete(s subject) result {
	a := s.account
	switch a.Status {
	case inventory.AccountComplete:
		return passed()
	case inventory.AccountIncomplete:
	default:
		return skipped() // another coverage finding
	}
	ev := failureEvidence(a.Failure)
	ev["buckets"] = strconv.Itoa(a.Buckets)
	ev["visited"] = strconv.Itoa(a.Visited)
	return failed("the scan of account "+a.Account.ID+" ended after "+strconv.Itoa(a.Visited)+" of "+strconv.Itoa(a.Buckets)+" buckets"+failureText(a.Failure), ev)
}
