package scan

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// OrganizationsAPI is the part of the Organizations client the account
// discovery uses.
type OrganizationsAPI interface {
	organizations.ListAccountsAPIClient
	organizations.ListRootsAPIClient
	organizations.ListOrganizationalUnitsForParentAPIClient
	organizations.ListAccountsForParentAPIClient
}

var _ OrganizationsAPI = (*organizations.Client)(nil)

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern      = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
)

// ValidAccountID reports whether id is a 12-digit AWS account ID.
func ValidAccountID(id string) bool { return accountIDPattern.MatchString(id) }

// ValidOUID reports whether id is an organizational unit ID (ou-…) or a
// root ID (r-…).
func ValidOUID(id string) bool { return ouIDPattern.MatchString(id) }

// Filter selects the accounts to scan. An empty Filter selects every
// account. With any include list set, an account must be named in
// IncludeAccounts or sit (directly or deeper) under one of IncludeOUs.
// Excludes win over includes.
type Filter struct {
	IncludeAccounts []string
	ExcludeAccounts []string
	IncludeOUs      []string
	ExcludeOUs      []string
}

// Validate checks every ID in the filter.
func (f Filter) Validate() error {
	for _, l := range []struct {
		name string
		ids  []string
		ok   func(string) bool
		want string
	}{
		{"include accounts", f.IncludeAccounts, ValidAccountID, "a 12-digit account ID"},
		{"exclude accounts", f.ExcludeAccounts, ValidAccountID, "a 12-digit account ID"},
		{"include OUs", f.IncludeOUs, ValidOUID, "an OU ID (ou-…) or root ID (r-…)"},
		{"exclude OUs", f.ExcludeOUs, ValidOUID, "an OU ID (ou-…) or root ID (r-…)"},
	} {
		for _, id := range l.ids {
			if !l.ok(id) {
				return fmt.Errorf("%s: %q is not %s", l.name, id, l.want)
			}
		}
	}
	return nil
}

// selects reports whether an account with the given ID and ancestors
// (parent first, root last) passes the filter.
func (f Filter) selects(id string, ancestors []string) bool {
	under := func(ous []string) bool {
		for _, a := range ancestors {
			if slices.Contains(ous, a) {
				return true
			}
		}
		return false
	}
	if slices.Contains(f.ExcludeAccounts, id) || under(f.ExcludeOUs) {
		return false
	}
	if len(f.IncludeAccounts) == 0 && len(f.IncludeOUs) == 0 {
		return true
	}
	return slices.Contains(f.IncludeAccounts, id) || under(f.IncludeOUs)
}

// StaticAccounts returns the organization of a fixed list of account IDs,
// validated, de-duplicated and sorted. The list is the scan's whole
// scope: its accounts are the members (the approved report destinations
// of INV-104 when the policy lists none, and the only accounts whose
// destinations are read).
func StaticAccounts(ids []string) (inventory.Org, error) {
	org := inventory.Org{Members: map[string]bool{}}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !ValidAccountID(id) {
			return inventory.Org{}, fmt.Errorf("account %q: want a 12-digit account ID", id)
		}
		if !org.Members[id] {
			org.Members[id] = true
			org.Targets = append(org.Targets, inventory.Account{ID: id})
		}
	}
	if len(org.Targets) == 0 {
		return inventory.Org{}, fmt.Errorf("accounts: the list is empty; want at least one 12-digit account ID")
	}
	slices.SortFunc(org.Targets, func(a, b inventory.Account) int { return strings.Compare(a.ID, b.ID) })
	return org, nil
}

// OrganizationAccounts discovers the accounts of the organization with
// ListAccounts and learns each account's place in the OU tree (ListRoots,
// ListOrganizationalUnitsForParent, ListAccountsForParent). Only ACTIVE
// accounts that pass the filter are targets; every account listed, in any
// state, is a member (an approved report destination for INV-104). A
// listing that repeats a continuation token or never ends fails the
// discovery (ErrPagination): a partial list of accounts is never taken
// for the organization. Every listed account that is not a target is in
// Org.OutOfScope with its State, or OutOfScopeExcluded when the filter
// left it out.
func OrganizationAccounts(ctx context.Context, api OrganizationsAPI, f Filter) (inventory.Org, error) {
	if err := f.Validate(); err != nil {
		return inventory.Org{}, err
	}
	var all []orgtypes.Account
	p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	guard := newPageGuard("list accounts", maxOrganizationsPages)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = guard.next(aws.ToString(page.NextToken))
		}
		if err != nil {
			return inventory.Org{}, fmt.Errorf("list accounts: %w", err)
		}
		all = append(all, page.Accounts...)
	}
	parents, err := ouTree(ctx, api)
	if err != nil {
		return inventory.Org{}, err
	}
	org := inventory.Org{FromOrganizations: true, Members: make(map[string]bool, len(all)), OutOfScope: map[string]string{}}
	for _, a := range all {
		id := aws.ToString(a.Id)
		org.Members[id] = true
		if org.ID == "" {
			org.ID = orgIDOf(aws.ToString(a.Arn))
		}
		if a.State != orgtypes.AccountStateActive {
			org.OutOfScope[id] = string(a.State)
			continue
		}
		ancestors := parents.ancestors(id)
		if !f.selects(id, ancestors) {
			org.OutOfScope[id] = inventory.OutOfScopeExcluded
			continue
		}
		acct := inventory.Account{ID: id, Name: aws.ToString(a.Name), State: string(a.State)}
		if len(ancestors) > 0 {
			acct.OUID, acct.OUName = ancestors[0], parents.names[ancestors[0]]
		}
		org.Targets = append(org.Targets, acct)
	}
	slices.SortFunc(org.Targets, func(a, b inventory.Account) int { return strings.Compare(a.ID, b.ID) })
	return org, nil
}

// orgIDOf returns the organization ID of an account ARN
// (arn:aws:organizations::<management>:account/o-<id>/<account>), or "".
func orgIDOf(accountARN string) string {
	a, err := arn.Parse(accountARN)
	if err != nil {
		return ""
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) == 3 && parts[0] == "account" && strings.HasPrefix(parts[1], "o-") {
		return parts[1]
	}
	return ""
}

// ouTreeMap is the OU tree: each account's and OU's parent, and the name
// of each root and OU, as the listings that found them returned it (no
// call of its own).
type ouTreeMap struct {
	parent map[string]string // account or OU ID → parent ID
	names  map[string]string // root or OU ID → name
}

// ancestors returns the chain of parents of id, nearest first.
func (m ouTreeMap) ancestors(id string) []string {
	var out []string
	for p, ok := m.parent[id]; ok && len(out) < 10; p, ok = m.parent[p] {
		out = append(out, p)
	}
	return out
}

// ouTree walks the organization from its roots and records every OU's and
// account's parent, and every root's and OU's name.
func ouTree(ctx context.Context, api OrganizationsAPI) (ouTreeMap, error) {
	m := ouTreeMap{parent: map[string]string{}, names: map[string]string{}}
	var queue []string
	rp := organizations.NewListRootsPaginator(api, &organizations.ListRootsInput{})
	guard := newPageGuard("list roots", maxOrganizationsPages)
	for rp.HasMorePages() {
		page, err := rp.NextPage(ctx)
		if err == nil {
			err = guard.next(aws.ToString(page.NextToken))
		}
		if err != nil {
			return ouTreeMap{}, fmt.Errorf("list roots: %w", err)
		}
		for _, r := range page.Roots {
			queue = append(queue, aws.ToString(r.Id))
			m.names[aws.ToString(r.Id)] = aws.ToString(r.Name)
		}
	}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		op := organizations.NewListOrganizationalUnitsForParentPaginator(api,
			&organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
		guard := newPageGuard("list organizational units of "+parent, maxOrganizationsPages)
		for op.HasMorePages() {
			page, err := op.NextPage(ctx)
			if err == nil {
				err = guard.next(aws.ToString(page.NextToken))
			}
			if err != nil {
				return ouTreeMap{}, fmt.Errorf("list organizational units of %s: %w", parent, err)
			}
			for _, ou := range page.OrganizationalUnits {
				id := aws.ToString(ou.Id)
				m.parent[id] = parent
				m.names[id] = aws.ToString(ou.Name)
				queue = append(queue, id)
			}
		}
		ap := organizations.NewListAccountsForParentPaginator(api,
			&organizations.ListAccountsForParentInput{ParentId: aws.String(parent), MaxResults: aws.Int32(20)})
		guard = newPageGuard("list accounts of "+parent, maxOrganizationsPages)
		for ap.HasMorePages() {
			page, err := ap.NextPage(ctx)
			if err == nil {
				err = guard.next(aws.ToString(page.NextToken))
			}
			if err != nil {
				return ouTreeMap{}, fmt.Errorf("list accounts of %s: %w", parent, err)
			}
			for _, a := range page.Accounts {
				m.parent[aws.ToString(a.Id)] = parent
			}
		}
	}
	return m, nil
}
