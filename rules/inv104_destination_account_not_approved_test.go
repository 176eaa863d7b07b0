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
	static := &orgView{}
	runRuleCases(t, "INV-104", []ruleCase{
		{name: "policy list: approved", config: to(centralAcct), set: listed, org: org, want: pass},
		{name: "policy list: member of the organization but not listed", config: to(testAccount), set: listed, org: org,
			want: fail, message: "account 111111111111, which is not an approved destination account",
			evidence: map[string]string{"account_id": testAccount, "approved_accounts": centralAcct}},
		{name: "policy list wins over a static list", config: to(otherAcct), set: listed, org: static, want: fail},
		{name: "organization: member", config: to(centralAcct), org: org, want: pass},
		{name: "organization: outsider", config: to(otherAcct), org: org, want: fail,
			message: "outside the organization", evidence: map[string]string{"account_id": otherAcct}},
		{name: "static accounts and no policy list", config: to(otherAcct), org: static, want: notApplicable},
		{name: "no account: INV-103's case", config: to(""), set: listed, org: org, want: notApplicable},
	})
}
