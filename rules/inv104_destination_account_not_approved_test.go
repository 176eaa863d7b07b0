package rules

import (
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

func TestINV104(t *testing.T) {
	to := func(acct string) *inventory.Config {
		return ptr(with(goodConfig("a"), func(c *inventory.Config) { c.Destination.AccountID = acct }))
	}
	listed := setParam(approvedAccounts, []string{centralAcct})
	org := &orgView{fromOrganizations: true, members: map[string]bool{testAccount: true, centralAcct: true}}
	static := &orgView{members: map[string]bool{testAccount: true, centralAcct: true}}
	runRuleCases(t, "INV-104", []ruleCase{
		{name: "policy list: approved", config: to(centralAcct), set: listed, org: org, want: pass},
		{name: "policy list: member of the organization but not listed", config: to(testAccount), set: listed, org: org,
			want: fail, message: "account 111111111111, which is not an approved destination account",
			evidence: map[string]string{"account_id": testAccount, "approved_accounts": centralAcct}},
		{name: "policy list wins over a static list", config: to(otherAcct), set: listed, org: static, want: fail},
		{name: "policy list wins over a static list: listed but not scanned", config: to(centralAcct),
			set: setParam(approvedAccounts, []string{centralAcct}), org: &orgView{members: map[string]bool{testAccount: true}}, want: pass},
		{name: "organization: member", config: to(centralAcct), org: org, want: pass},
		{name: "organization: outsider", config: to(otherAcct), org: org, want: fail,
			message: "outside the organization", evidence: map[string]string{"account_id": otherAcct}},
		{name: "static accounts, no policy list: a scanned account", config: to(centralAcct), org: static, want: pass},
		{name: "static accounts, no policy list: an account outside the list", config: to(otherAcct), org: static, want: fail,
			message:  "account 222222222222, which is not one of the scanned accounts",
			evidence: map[string]string{"account_id": otherAcct, "approved_accounts": "(the scanned accounts)"}},
		{name: "no scope known and no policy list", config: to(otherAcct), org: &orgView{}, want: notApplicable},
		{name: "no account: INV-103's case", config: to(""), set: listed, org: org, want: notApplicable},
	})
}
