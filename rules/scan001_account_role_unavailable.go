package rules

import "github.com/s3inv/scanner/internal/base/inventory"

var accountRoleUnavailable = Rule{
	ID:        "SCAN-001",
	Name:      "account-role-unavailable",
	Title:     "The scanner could not assume the member role in the account",
	Severity:  SeverityHigh,
	Level:     LevelAccount,
	Kind:      KindCoverage,
	covers:    inventory.AccountRoleUnavailable,
	FailsWhen: "the member role could not be assumed",
	Rationale: "The account was not scanned at all: none of its buckets is known to be compliant. " +
		"A missing or misconfigured member role hides the whole account.",
	Remediation: "Deploy the member role (member-role.yaml) to the account, check its trust policy names the " +
		"scanner's role and ExternalId, and that no SCP denies sts:AssumeRole.",
	Links: []string{
		"https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_permissions-to-switch.html",
		"https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html",
	},
	check: checkAccountRoleUnavailable,
}

func checkAccountRoleUnavailable(s subject) result {
	switch s.account.Status {
	case inventory.AccountComplete:
		return passed()
	case inventory.AccountRoleUnavailable:
	default:
		return skipped() // another coverage finding
	}
	return failed("the member role of account "+s.account.Account.ID+" could not be assumed"+failureText(s.account.Failure),
		failureEvidence(s.account.Failure))
}

// failureText renders a failure for messages: ": Code: message".
func failureText(f *inventory.Failure) string {
	if f == nil {
		return ""
	}
	t := ": " + orNone(f.Code)
	if f.Message != "" {
		t += ": " + f.Message
	}
	return t
}

// failureEvidence is the evidence of a coverage finding.
func failureEvidence(f *inventory.Failure) map[string]string {
	if f == nil {
		return map[string]string{"error_code": "(none)"}
	}
	return map[string]string{"error_code": orNone(f.Code), "error_message": f.Message}
}
