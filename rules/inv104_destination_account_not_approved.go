package rules

import "strings"

var destinationAccountNotApproved = Rule{
	ID:       "INV-104",
	Name:     "destination-account-not-approved",
	Title:    "Inventory reports go to an account that is not approved",
	Severity: SeverityCritical,
	Level:    LevelConfig,
	Kind:     KindConfiguration,
	FailsWhen: "AccountId is set but not an approved account: the policy's list when it has one, otherwise any account " +
		"of the organization (accounts from Organizations) or one of the scanned accounts (a static account list)",
	Rationale: "The destination account can read every report it receives, and with it the metadata of every object " +
		"of the source bucket. Reports that leave the approved accounts, or the organization, are a data leak. With " +
		"a static account list nothing is known of the organization: the scanned accounts are the only ones known to " +
		"be yours.",
	Remediation: "Deliver the reports to the central inventory bucket in an approved account, or add the account to " +
		"approved_accounts after review (with a static account list, or add it to the list).",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
		"https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html",
	},
	params: []paramSpec{approvedAccounts},
	check:  checkDestinationAccountNotApproved,
}

// approvedAccounts are the accounts reports may go to; empty: the
// organization, or the scanned accounts of a static list.
var approvedAccounts = listParam("approved_accounts", ParamDoc{
	Values:  "list of 12-digit account IDs",
	Default: "`[]` (the organization; with a static account list, the scanned accounts)",
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
	case s.org == nil || len(s.org.members) == 0:
		return skipped() // no scope known to compare with
	case s.org.members[acct]:
		return passed()
	case s.org.fromOrganizations:
		return failed(configName(s)+" delivers reports to account "+acct+", which is outside the organization",
			map[string]string{"account_id": acct, "approved_accounts": "(the organization)"})
	}
	return failed(configName(s)+" delivers reports to account "+acct+", which is not one of the scanned accounts",
		map[string]string{"account_id": acct, "approved_accounts": "(the scanned accounts)"})
}
