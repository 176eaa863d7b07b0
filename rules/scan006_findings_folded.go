package rules

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

var findingsFolded = Rule{
	ID:       "SCAN-006",
	Name:     "findings-folded",
	Title:    "The bucket has more findings than the policy itemizes: the rest are folded into this one",
	Severity: SeverityInfo,
	Level:    LevelBucket,
	Kind:     KindCoverage,
	FailsWhen: "a bucket's configurations, or their destinations, fail more checks than the policy's " +
		"limits.findings_per_bucket (100): this one finding stands for the rest, with the worst severity among them",
	Rationale: "A member account decides how many inventory configurations its buckets have, up to 1,000 each, " +
		"and so how many findings they produce: unbounded, a few buckets would fill the findings table, the events " +
		"and Security Hub, and the scan's memory, with findings of the account's choosing. Past the policy's limit the " +
		"most severe findings of a bucket are kept as findings of their own (open before waived, then the bucket's " +
		"rule, configurations by ID and rules by ID), and one SCAN-006 finding says how many more findings of how " +
		"many configurations it stands for, by rule and by severity. It takes the worst severity among them (the " +
		"policy cannot lower it), so folding never hides how bad a bucket is, and its key is the bucket's, so every " +
		"run writes the same item. The findings of the configurations' destinations (INV-110 to INV-115) are kept " +
		"and folded the same way, into a second SCAN-006 finding of the bucket.",
	Remediation: "Fix or delete the bucket's failing inventory configurations (a bucket rarely needs more than a " +
		"few); the folded findings come back one by one once fewer than the limit remain. Raise " +
		"limits.findings_per_bucket in the policy to itemize more of them.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketInventoryConfigurations.html",
	},
	folds: true,
	check: checkFindingsFolded,
}

// The finding keys of a bucket's two folds (FindingID's configID).
const (
	foldConfigs      = "folded:configurations"
	foldDestinations = "folded:destinations"
)

// AboutDestinations reports whether f is about the destinations of its
// bucket's configurations: a destination rule's finding (INV-110 to
// INV-115), or the SCAN-006 finding that folds them. A scan that could
// not verify a bucket's destinations keeps these findings of the bucket
// (inventory.AccountResult's Unverified).
func AboutDestinations(f Finding) bool {
	i := index(f.RuleID)
	if i < 0 {
		return false
	}
	r := &catalogue()[i]
	return r.Kind == KindDestination || r.folds && f.FindingID == FindingID(f.AccountID, f.Bucket, foldDestinations, r.ID)
}

// foldTally is what the findings folded into one SCAN-006 finding were.
type foldTally struct {
	key      string // foldConfigs or foldDestinations
	limit    int
	findings int
	waived   int
	worst    Severity
	example  string // the first folded finding of the worst severity
	exampled int    // its place in evaluation order
	bySev    map[Severity]int
	byRule   map[string]int
	configs  map[string]bool // "" for the bucket's own rule
}

// add counts the folded finding f, order in evaluation order.
func (t *foldTally) add(f *Finding, order int) {
	if t.byRule == nil {
		t.bySev, t.byRule, t.configs = map[Severity]int{}, map[string]int{}, map[string]bool{}
	}
	t.findings++
	if f.Status == StatusWaived {
		t.waived++
	}
	if f.Severity > t.worst || f.Severity == t.worst && order < t.exampled {
		t.worst, t.example, t.exampled = f.Severity, f.RuleID, order
		if f.ConfigID != "" {
			t.example += " on configuration " + strconv.Quote(f.ConfigID)
		}
	}
	t.bySev[f.Severity]++
	t.byRule[f.RuleID]++
	if f.ConfigID != "" {
		t.configs[f.ConfigID] = true
	}
}

func checkFindingsFolded(s subject) result {
	t := s.fold
	if t == nil || t.findings == 0 {
		return passed()
	}
	var sev, rule []string
	for _, v := range Severities() {
		if n := t.bySev[v]; n > 0 {
			sev = append(sev, v.String()+":"+strconv.Itoa(n))
		}
	}
	for _, id := range slices.Sorted(maps.Keys(t.byRule)) {
		rule = append(rule, id+":"+strconv.Itoa(t.byRule[id]))
	}
	of := "its configurations"
	if t.key == foldDestinations {
		of = "its configurations' destinations"
	}
	msg := fmt.Sprintf("bucket %s has %d more findings of %s than the policy itemizes (limits.findings_per_bucket: %d), "+
		"of %d configuration(s): %s; the worst: %s", s.bucket.Bucket.Name, t.findings, of, t.limit, len(t.configs),
		strings.Join(sev, ", "), t.example)
	return failed(msg, map[string]string{
		"folded_findings": strconv.Itoa(t.findings), "folded_configurations": strconv.Itoa(len(t.configs)),
		"folded_waived": strconv.Itoa(t.waived), "limit": strconv.Itoa(t.limit), "of": strings.TrimPrefix(t.key, "folded:"),
		"by_severity": strings.Join(sev, ","), "by_rule": strings.Join(rule, ","), "worst": t.example,
	})
}

// keeper keeps the limit most severe findings of one bucket as they are
// made, and tallies the others for the bucket's SCAN-006 finding. It
// holds at most twice the limit at any time, however many findings the
// bucket's configurations produce.
type keeper struct {
	limit int
	kept  []rankedFinding
	made  int
	fold  foldTally
}

// rankedFinding is a finding and its place in evaluation order.
type rankedFinding struct {
	f     Finding
	order int
}

func newKeeper(limit int, key string) *keeper {
	return &keeper{limit: limit, fold: foldTally{key: key, limit: limit}}
}

func (k *keeper) add(fs ...Finding) {
	for _, f := range fs {
		k.kept = append(k.kept, rankedFinding{f: f, order: k.made})
		k.made++
		if len(k.kept) >= 2*k.limit {
			k.trim()
		}
	}
}

// trim keeps the limit most severe findings, open before waived, then in
// evaluation order, and folds the others.
func (k *keeper) trim() {
	if len(k.kept) <= k.limit {
		return
	}
	slices.SortFunc(k.kept, func(a, b rankedFinding) int {
		return cmp.Or(cmp.Compare(b.f.Severity, a.f.Severity),
			boolOrder(a.f.Status == StatusWaived, b.f.Status == StatusWaived), cmp.Compare(a.order, b.order))
	})
	for i := k.limit; i < len(k.kept); i++ {
		k.fold.add(&k.kept[i].f, k.kept[i].order)
	}
	clear(k.kept[k.limit:])
	k.kept = k.kept[:k.limit]
}

// findings returns the kept findings in evaluation order, and the tally
// of the folded ones (nil when none was).
func (k *keeper) findings() ([]Finding, *foldTally) {
	k.trim()
	slices.SortFunc(k.kept, func(a, b rankedFinding) int { return cmp.Compare(a.order, b.order) })
	out := make([]Finding, len(k.kept), len(k.kept)+1) // room for SCAN-006
	for i := range k.kept {
		out[i] = k.kept[i].f
	}
	if k.fold.findings == 0 {
		return out, nil
	}
	return out, &k.fold
}

func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
