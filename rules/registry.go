package rules

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Level is what a rule's findings are about: an account, a bucket or one
// inventory configuration of a bucket. It decides a finding's key.
type Level string

// The levels of rules.
const (
	LevelAccount Level = "account"
	LevelBucket  Level = "bucket"
	LevelConfig  Level = "config"
	// LevelDestination findings are about a destination of the source
	// account's configurations (SCAN-005): the account is the source
	// account, the bucket the destination bucket.
	LevelDestination Level = "destination"
)

// Kind is what a rule checks, and so when the evaluator runs it.
type Kind string

// The kinds of rules.
const (
	// KindBucket rules look at the inventory configurations of a bucket as
	// a whole (INV-0nn); they run on every bucket that could be read.
	KindBucket Kind = "bucket"
	// KindConfiguration rules look at each enabled inventory configuration
	// (INV-101 to INV-109).
	KindConfiguration Kind = "configuration"
	// KindDestination rules follow an enabled configuration to its
	// destination bucket, key and reports, read once per destination
	// (INV-110 to INV-115). The evaluator runs them on the scan's
	// DestinationChecks (Evaluator.Destinations), once the destinations
	// of an account's configurations have been read.
	KindDestination Kind = "destination"
	// KindCoverage rules say what the scan could not see (SCAN-nnn): an
	// account that ended with the status the rule covers, or a bucket that
	// could not be read. They cannot be disabled, only waived.
	KindCoverage Kind = "coverage"
)

// Rule is one entry of the catalogue: its permanent ID, its texts, its
// default severity and the check behind it.
type Rule struct {
	// ID is permanent: INV-nnn for inventory rules, SCAN-nnn for coverage
	// findings. IDs are never reused.
	ID string `json:"id"`
	// Name is a short kebab-case name, such as "inventory-missing".
	Name string `json:"name"`
	// Title is the one-line summary findings carry.
	Title string `json:"title"`
	// Severity is the default severity; the policy may change it.
	Severity Severity `json:"severity"`
	// Level says what the rule's findings are about.
	Level Level `json:"level"`
	// Kind says what the rule checks.
	Kind Kind `json:"kind"`
	// FailsWhen says in one line when the rule fails.
	FailsWhen string `json:"fails_when"`
	// Rationale says why it matters.
	Rationale string `json:"rationale"`
	// Remediation says how to fix it.
	Remediation string `json:"remediation"`
	// Links point to the AWS documentation.
	Links []string `json:"links"`
	// Parameters names the policy keys the rule takes, besides enabled and
	// severity (see docs/policy.md). The catalogue fills it from params.
	Parameters []string `json:"parameters,omitempty"`

	// check evaluates the rule; never nil for a registered rule.
	check checkFunc
	// params are the rule's policy parameters, declared in its file.
	params []paramSpec
	// covers is, for a coverage rule of an account, the account status it
	// reports.
	covers inventory.AccountStatus
	// folds marks the coverage rule whose finding stands for the findings
	// of a bucket beyond the policy's limit (SCAN-006): the evaluator
	// makes it from what it folded, never from a scan result.
	folds bool
}

// SeverityText is the rule's default severity as catalogues show it: its
// name, or "the worst folded" for SCAN-006, whose finding takes the worst
// severity of the findings it stands for (Severity is only nominal).
func (r Rule) SeverityText() string {
	if r.folds {
		return "the worst folded"
	}
	return r.Severity.String()
}

// param returns the rule's parameter with the policy key key.
func (r *Rule) param(key string) (paramSpec, bool) {
	for _, p := range r.params {
		if p.Key() == key {
			return p, true
		}
	}
	return nil, false
}

// verdict is the outcome of one check.
type verdict int

const (
	pass verdict = iota
	fail
	notApplicable
	// unverifiable: what the check needs could not be read or decided;
	// the destination rules' gaps become SCAN-005 findings, never a pass.
	unverifiable
)

// result is what a check returns: the verdict and, on failure, a sentence
// and the offending values.
type result struct {
	verdict  verdict
	message  string
	evidence map[string]string
	gap      *gap // set when unverifiable
}

func passed() result  { return result{verdict: pass} }
func skipped() result { return result{verdict: notApplicable} }
func failed(msg string, ev map[string]string) result {
	return result{verdict: fail, message: msg, evidence: ev}
}

// subject is what a check looks at. Account-level checks get account;
// bucket-level checks get bucket; configuration-level checks get bucket and
// config. settings are the rule's effective settings for that scope: a
// check reads its parameters with param.get(s.settings).
type subject struct {
	account  *inventory.AccountResult
	bucket   *inventory.BucketResult
	config   *inventory.Config
	settings settings
	org      *orgView
	// dest is what was read of the configuration's destination
	// (destination rules only); now is the evaluation's time.
	dest *inventory.DestinationCheck
	now  time.Time
	// gaps are the destination checks that could not be made, for
	// SCAN-005; findingKey then tells its findings apart (cause).
	gaps       *destinationGap
	findingKey string
	// fold is what a bucket's SCAN-006 finding stands for.
	fold *foldTally
}

type checkFunc func(s subject) result

// ruleList is the catalogue: one line per rule, each declared in its own
// file (inv102_kms_key_not_approved.go declares kmsKeyNotApproved). Adding
// a rule adds its line here.
var ruleList = []*Rule{
	&inventoryMissing,
	&inventoryDisabled,
	&inventoryPartialCoverage,
	&destinationNotSSEKMS,
	&kmsKeyNotApproved,
	&destinationAccountMissing,
	&destinationAccountNotApproved,
	&destinationBucketNotApproved,
	&formatNotApproved,
	&scheduleTooInfrequent,
	&versionsNotIncluded,
	&optionalFieldsMissing,
	&destinationBucketMissing,
	&destinationPolicyBlocksDelivery,
	&destinationPolicyConfusedDeputy,
	&kmsKeyUnusable,
	&reportStale,
	&sensitiveFieldsCrossAccount,
	&accountRoleUnavailable,
	&accountBucketsUnlisted,
	&bucketUnreadable,
	&accountScanIncomplete,
	&destinationUnverifiable,
	&findingsFolded,
}

var (
	byID       map[string]int // index into sorted, built once
	sortedOnce sync.Once
	sorted     []Rule
)

func catalogue() []Rule {
	sortedOnce.Do(func() {
		sorted = make([]Rule, 0, len(ruleList))
		for _, r := range ruleList {
			rule := *r
			rule.Parameters = nil
			for i, p := range rule.params {
				p.bind(i)
				rule.Parameters = append(rule.Parameters, p.Key())
			}
			sorted = append(sorted, rule)
		}
		slices.SortFunc(sorted, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
		byID = make(map[string]int, len(sorted))
		for i, r := range sorted {
			byID[r.ID] = i
		}
	})
	return sorted
}

// All returns the whole catalogue, INV-* and SCAN-* rules, sorted by ID.
// The slice is a copy; changing it changes nothing.
func All() []Rule {
	rs := slices.Clone(catalogue())
	for i := range rs {
		rs[i] = rs[i].clone()
	}
	return rs
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	i := index(id)
	if i < 0 {
		return Rule{}, false
	}
	return catalogue()[i].clone(), true
}

// IsCoverage reports whether id is a coverage rule (SCAN-nnn): a finding
// of what the scan could not see, rather than of what it saw.
func IsCoverage(id string) bool {
	i := index(id)
	return i >= 0 && catalogue()[i].Kind == KindCoverage
}

// AccountCoverage returns the coverage rule that reports an account whose
// scan ended with status s; false for a complete account.
func AccountCoverage(s inventory.AccountStatus) (Rule, bool) {
	for _, r := range catalogue() {
		if r.Kind == KindCoverage && r.Level == LevelAccount && r.covers == s {
			return r.clone(), true
		}
	}
	return Rule{}, false
}

// BucketCoverage returns the coverage rule that reports a bucket whose
// inventory configurations could not be read.
func BucketCoverage() (Rule, bool) {
	for _, r := range catalogue() {
		if r.Kind == KindCoverage && r.Level == LevelBucket && !r.folds {
			return r.clone(), true
		}
	}
	return Rule{}, false
}

// clone returns r with lists of its own.
func (r Rule) clone() Rule {
	r.Links = slices.Clone(r.Links)
	r.Parameters = slices.Clone(r.Parameters)
	return r
}

// index returns the position of rule id in catalogue(), or -1.
func index(id string) int {
	catalogue()
	if i, ok := byID[id]; ok {
		return i
	}
	return -1
}
