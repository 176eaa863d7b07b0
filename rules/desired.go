package rules

import (
	"slices"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Desired is what the policy requires of the configurations of one bucket,
// read from the rules' own parameters in the bucket's scope (overrides
// applied): the desired state of a fix. Enabled says which rules run in
// the scope: a fix is planned only for an enabled rule's finding.
type Desired struct {
	// Formats are the approved report formats (INV-106), in the policy's
	// order: a created configuration uses the first.
	Formats []string
	// Frequency is the least frequent schedule accepted (INV-107).
	Frequency string
	// Versions are the versions a report must include at least (INV-108).
	Versions string
	// RequiredFields must be in OptionalFields (INV-109).
	RequiredFields []string
	// SensitiveFields may not go to another account (INV-115).
	SensitiveFields []string
	// ApprovedKMSKeys, ApprovedBuckets (ARN patterns) and
	// ApprovedAccounts; empty: any (INV-102, INV-105, INV-104).
	ApprovedKMSKeys  []string
	ApprovedBuckets  []string
	ApprovedAccounts []string
	// Enabled reports, per rule ID, whether the rule runs in the scope.
	Enabled map[string]bool
}

// Desired returns what the policy requires of the configurations of the
// bucket of account a.
func (p *Policy) Desired(a inventory.Account, bucket string) Desired {
	pol := p.get()
	matched := pol.matching(nil, a, bucket)
	get := func(id string) settings { return pol.ruleSettings(index(id), matched) }
	d := Desired{
		Formats:          slices.Clone(approvedFormats.get(get("INV-106"))),
		Frequency:        requiredFrequency.get(get("INV-107")),
		Versions:         requiredVersions.get(get("INV-108")),
		RequiredFields:   slices.Clone(requiredFields.get(get("INV-109"))),
		SensitiveFields:  slices.Clone(sensitiveFields.get(get("INV-115"))),
		ApprovedKMSKeys:  slices.Clone(approvedKMSKeys.get(get("INV-102"))),
		ApprovedBuckets:  slices.Clone(approvedBuckets.get(get("INV-105"))),
		ApprovedAccounts: slices.Clone(approvedAccounts.get(get("INV-104"))),
		Enabled:          map[string]bool{},
	}
	for i, r := range catalogue() {
		d.Enabled[r.ID] = pol.ruleSettings(i, matched).enabled
	}
	return d
}
