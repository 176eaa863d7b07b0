package rules

import "strings"

var destinationAccountNotApproved = Rule{
	ID:        "INV-104",
	Name:      "destination-account-not-approved",
	Title:     "Inventory reports go to an account that is not approved",
	Severity:  SeverityCritical,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "AccountId is set but not an approved account: the policy's list when it has one, otherwise any account of the organization (accounts from Organizations only)",
	Rationale: "The destination account can read every report it receives, and with it the metadata of every object " +
		"of the source bucket. Reports that leave the approved accounts, or the organization, are a data leak.",
	Remediation: "Deliver the reports to the central inventory bucket in an approved account, or add the account to " +
		"approved_accounts after review.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
		"https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html",
	},
	params: []paramSpec{approvedAccounts},
	check:  checkDestinationAccountNotApproved,
}

// approvedAccounts are the accounts reports may go to; empty: the
// organization.
var approvedAccounts = listParam("approved_accounts", ParamDoc{
	Values:  "list of 12-digit account IDs",
	Default: "`[]` (the organization)",
	Meaning: "accounts reports may go to",
}, func(id string) string {
	if accountIDRe.MatchString(id) {
		return ""
	}
	return "a 12-digit account ID"
})

func checkDestinationAccountNotApproved(s subject) result {
	acct := dest(s).AccountID
	if acct == "" {
		return skipped() // INV-103
	}
	approved := approvedAccounts.get(s.settings)
	switch {
	case len(approved) > 0:
		if has(approved, acct) {
			return passed()
		}
		return failed(configName(s)+" delivers reports to account "+acct+", which is not an approved destination account",
			map[string]string{"account_id": acct, "approved_accounts": strings.Join(approved, ",")})
	case s.org != nil && s.org.fromOrganizations:
		if s.org.members[acct] {
			return passed()
		}
		return failed(configName(s)+" delivers reports to account "+acct+", which is outside the organization",
			map[string]string{"account_id": acct, "approved_accounts": "(the organization)"})
	default:
		return skipped()
	}
}
