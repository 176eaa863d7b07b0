package rules

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Evaluator applies a policy to scan results. It holds no mutable state and
// is safe for concurrent use.
type Evaluator struct {
	policy *Policy
	org    orgView
	rules  []Rule // catalogue(), indexed like Policy.base
	bucket []int  // KindBucket rules, in ID order
	config []int  // KindConfiguration rules, in ID order
	dest   []int  // KindDestination rules, in ID order
	// destCoverage are the coverage rules of destination checks that
	// could not be made (SCAN-005).
	destCoverage []int
	// unreadable are the coverage rules of a bucket that could not be
	// read, in ID order.
	unreadable []int
	// accountCoverage maps the status of an account that was not scanned
	// completely to the coverage rules that report it, in ID order.
	accountCoverage map[inventory.AccountStatus][]int
	// fold is the rule of a bucket's folded findings (SCAN-006).
	fold int
}

// NewEvaluator returns an evaluator of policy p (nil: DefaultPolicy) for
// the organization org, which INV-104 needs when the policy lists no
// approved destination accounts.
func NewEvaluator(p *Policy, org inventory.Org) *Evaluator {
	e := &Evaluator{
		policy: p.get(),
		org:    orgView{fromOrganizations: org.FromOrganizations, members: maps.Clone(org.Members)},
		rules:  catalogue(),
	}
	e.accountCoverage = map[inventory.AccountStatus][]int{}
	for i, r := range e.rules {
		switch r.Kind {
		case KindBucket:
			e.bucket = append(e.bucket, i)
		case KindConfiguration:
			e.config = append(e.config, i)
		case KindDestination:
			e.dest = append(e.dest, i)
		case KindCoverage:
			switch {
			case r.folds:
				e.fold = i
			case r.Level == LevelAccount:
				e.accountCoverage[r.covers] = append(e.accountCoverage[r.covers], i)
			case r.Level == LevelDestination:
				e.destCoverage = append(e.destCoverage, i)
			default:
				e.unreadable = append(e.unreadable, i)
			}
		}
	}
	return e
}

// Bucket evaluates one bucket. An unreadable bucket (r.Failure set) gets
// its coverage finding (SCAN-003) and nothing else. Otherwise the bucket
// rules come first (at most one of INV-001, INV-002, INV-003), then the
// configuration rules on each enabled configuration, configurations in ID
// order, rules in ID order: at most the policy's limits.findings_per_bucket
// of them, the most severe, and one SCAN-006 finding for the rest
// (FindingsPerBucket).
func (e *Evaluator) Bucket(r inventory.BucketResult, scanID string, now time.Time) []Finding {
	// The overrides that apply are found once per bucket; most policies
	// have few, so they fit in buf without allocating.
	var buf [8]*override
	matched := e.policy.matching(buf[:0], r.Account, r.Bucket.Name)
	s := subject{bucket: &r, org: &e.org}
	var out []Finding
	if r.Failure != nil {
		for _, i := range e.unreadable {
			out = e.run(out, i, matched, s, scanID, now)
		}
		return out
	}
	k := newKeeper(e.policy.findingsPerBucket, foldConfigs)
	for _, i := range e.bucket {
		out = e.run(out[:0], i, matched, s, scanID, now)
		k.add(out...)
	}
	configs := make([]*inventory.Config, 0, len(r.Configs))
	for i := range r.Configs {
		if r.Configs[i].Enabled {
			configs = append(configs, &r.Configs[i])
		}
	}
	slices.SortStableFunc(configs, func(a, b *inventory.Config) int { return cmp.Compare(a.ID, b.ID) })
	for _, c := range configs {
		s.config = c
		for _, i := range e.config {
			out = e.run(out[:0], i, matched, s, scanID, now)
			k.add(out...)
		}
	}
	s.config = nil
	kept, fold := k.findings()
	return e.folded(kept, fold, matched, s, scanID, now)
}

// FindingsPerBucket is the policy's limits.findings_per_bucket: the most
// findings Bucket, and Destinations for each source bucket, return
// besides one SCAN-006 finding, and the most enabled configurations of a
// bucket whose destinations a scan reads (scan.Options).
func (e *Evaluator) FindingsPerBucket() int { return e.policy.findingsPerBucket }

// folded appends to out the SCAN-006 finding of what a bucket's keeper
// folded (t; nil: nothing): the worst severity among the folded
// findings, whatever the policy says, keyed by the bucket and t's kind.
func (e *Evaluator) folded(out []Finding, t *foldTally, matched []*override, s subject, scanID string, now time.Time) []Finding {
	if t == nil {
		return out
	}
	s.config, s.dest, s.fold, s.findingKey = nil, nil, t, t.key
	s.settings = e.policy.ruleSettings(e.fold, matched)
	s.settings.severity = t.worst
	res := e.rules[e.fold].check(s)
	if res.verdict != fail {
		return out
	}
	return append(out, e.finding(e.fold, s, res, scanID, now))
}

// Account evaluates the outcome of an account's scan: the coverage rule
// that covers its status (SCAN-001, SCAN-002 or SCAN-004) when it was not
// complete, nothing when it was.
func (e *Evaluator) Account(r inventory.AccountResult, scanID string, now time.Time) []Finding {
	rules := e.accountCoverage[r.Status]
	if len(rules) == 0 {
		return nil
	}
	var buf [8]*override
	matched := e.policy.matching(buf[:0], r.Account, "")
	var out []Finding
	for _, i := range rules {
		out = e.run(out, i, matched, subject{account: &r, org: &e.org}, scanID, now)
	}
	return out
}

// run evaluates rule i on s, under the overrides that apply to it, and
// appends its finding, if any, to out.
func (e *Evaluator) run(out []Finding, i int, matched []*override, s subject, scanID string, now time.Time) []Finding {
	s.settings = e.policy.ruleSettings(i, matched)
	if !s.settings.enabled {
		return out
	}
	res := e.rules[i].check(s)
	if res.verdict != fail {
		return out
	}
	return append(out, e.finding(i, s, res, scanID, now))
}

// finding is the finding of rule i's failed result res on s.
func (e *Evaluator) finding(i int, s subject, res result, scanID string, now time.Time) Finding {
	rule := &e.rules[i]
	var acct inventory.Account
	var bucket, region, configID string
	switch {
	case s.bucket != nil:
		acct, bucket, region = s.bucket.Account, s.bucket.Bucket.Name, s.bucket.Bucket.Region
	case s.account != nil:
		acct = s.account.Account
	}
	if s.config != nil {
		configID = s.config.ID
	}
	key := configID
	if s.findingKey != "" {
		key = s.findingKey
	}
	f := Finding{
		FindingID:   FindingID(acct.ID, bucket, key, rule.ID),
		AccountID:   acct.ID,
		AccountName: acct.Name,
		OUID:        acct.OUID,
		OUName:      acct.OUName,
		Bucket:      bucket,
		Region:      region,
		ConfigID:    configID,
		RuleID:      rule.ID,
		Severity:    s.settings.severity,
		Status:      StatusOpen,
		Title:       rule.Title,
		Message:     clip(res.message, MaxMessageBytes),
		Evidence:    clipEvidence(res.evidence),
		ScanID:      scanID,
		ObservedAt:  now,
	}
	if w := e.policy.waiverFor(rule.ID, acct.ID, bucket, now); w != nil {
		f.Status = StatusWaived
		f.Waiver = &AppliedWaiver{Reason: w.Reason, Expires: w.Expires}
	}
	return f
}
