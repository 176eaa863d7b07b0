package rules

import (
	"cmp"
	"slices"
	"sync"

	"github.com/s3inv/scanner/internal/inventory"
)

// Level is what a rule looks at: an account, a bucket or one inventory
// configuration of a bucket.
type Level string

// The levels of rules.
const (
	LevelAccount Level = "account"
	LevelBucket  Level = "bucket"
	LevelConfig  Level = "config"
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
	// Level says what the rule looks at.
	Level Level `json:"level"`
	// FailsWhen says in one line when the rule fails.
	FailsWhen string `json:"fails_when"`
	// Rationale says why it matters.
	Rationale string `json:"rationale"`
	// Remediation says how to fix it.
	Remediation string `json:"remediation"`
	// Links point to the AWS documentation.
	Links []string `json:"links"`
	// Parameters names the policy keys the rule takes, besides enabled and
	// severity (see docs/policy.md).
	Parameters []string `json:"parameters,omitempty"`

	// check evaluates the rule; nil for none (never for a registered rule).
	check checkFunc
	// defaults sets the rule's default parameters on s.
	defaults func(s *settings)
}

// verdict is the outcome of one check.
type verdict int

const (
	pass verdict = iota
	fail
	notApplicable
)

// result is what a check returns: the verdict and, on failure, a sentence
// and the offending values.
type result struct {
	verdict  verdict
	message  string
	evidence map[string]string
}

func passed() result  { return result{verdict: pass} }
func skipped() result { return result{verdict: notApplicable} }
func failed(msg string, ev map[string]string) result {
	return result{verdict: fail, message: msg, evidence: ev}
}

// subject is what a check looks at. Account-level checks get account;
// bucket-level checks get bucket; configuration-level checks get bucket and
// config. settings are the rule's effective settings for that scope.
type subject struct {
	account  *inventory.AccountResult
	bucket   *inventory.BucketResult
	config   *inventory.Config
	settings settings
	org      *orgView
}

type checkFunc func(s subject) result

var (
	registry   []Rule
	registryMu sync.Mutex
	byID       map[string]int // index into sortedRules, built once
	sortedOnce sync.Once
	sorted     []Rule
)

// register adds a rule to the catalogue; rule files call it from init.
func register(r Rule) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry = append(registry, r)
}

func catalogue() []Rule {
	sortedOnce.Do(func() {
		registryMu.Lock()
		defer registryMu.Unlock()
		sorted = slices.Clone(registry)
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
		rs[i].Links = slices.Clone(rs[i].Links)
		rs[i].Parameters = slices.Clone(rs[i].Parameters)
	}
	return rs
}

// Lookup returns the rule with the given ID.
func Lookup(id string) (Rule, bool) {
	rs := catalogue()
	i, ok := byID[id]
	if !ok {
		return Rule{}, false
	}
	r := rs[i]
	r.Links = slices.Clone(r.Links)
	r.Parameters = slices.Clone(r.Parameters)
	return r, true
}

// index returns the position of rule id in catalogue(), or -1.
func index(id string) int {
	catalogue()
	if i, ok := byID[id]; ok {
		return i
	}
	return -1
}
