package rules

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/s3inv/scanner/internal/inventory"
)

// Evaluator applies a policy to scan results. It holds no mutable state and
// is safe for concurrent use.
type Evaluator struct {
	policy *Policy
	org    orgView
	rules  []Rule // catalogue(), indexed like Policy.base
	bucket []int  // bucket-level INV rules, in ID order
	config []int  // configuration-level rules, in ID order
	scan003,
	scan001, scan002, scan004 int
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
	for i, r := range e.rules {
		switch {
		case r.Level == LevelBucket && r.ID != "SCAN-003":
			e.bucket = append(e.bucket, i)
		case r.Level == LevelConfig:
			e.config = append(e.config, i)
		}
	}
	e.scan001, e.scan002 = index("SCAN-001"), index("SCAN-002")
	e.scan003, e.scan004 = index("SCAN-003"), index("SCAN-004")
	return e
}

// Bucket evaluates one bucket. An unreadable bucket (r.Failure set) gets
// SCAN-003 and nothing else. Otherwise the bucket rules come first (at most
// one of INV-001, INV-002, INV-003), then the configuration rules on each
// enabled configuration, configurations in ID order, rules in ID order.
func (e *Evaluator) Bucket(r inventory.BucketResult, scanID string, now time.Time) []Finding {
	// The overrides that apply are found once per bucket; most policies
	// have few, so they fit in buf without allocating.
	var buf [8]*override
	matched := e.policy.matching(buf[:0], r.Account, r.Bucket.Name)
	s := subject{bucket: &r, org: &e.org}
	var out []Finding
	if r.Failure != nil {
		return e.run(out, e.scan003, matched, s, scanID, now)
	}
	for _, i := range e.bucket {
		out = e.run(out, i, matched, s, scanID, now)
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
			out = e.run(out, i, matched, s, scanID, now)
		}
	}
	return out
}

// Account evaluates the outcome of an account's scan: SCAN-001, SCAN-002
// or SCAN-004 when it was not complete, nothing when it was.
func (e *Evaluator) Account(r inventory.AccountResult, scanID string, now time.Time) []Finding {
	var i int
	switch r.Status {
	case inventory.AccountRoleUnavailable:
		i = e.scan001
	case inventory.AccountBucketsUnlisted:
		i = e.scan002
	case inventory.AccountIncomplete:
		i = e.scan004
	default:
		return nil
	}
	var buf [8]*override
	matched := e.policy.matching(buf[:0], r.Account, "")
	return e.run(nil, i, matched, subject{account: &r, org: &e.org}, scanID, now)
}

// run evaluates rule i on s, under the overrides that apply to it, and
// appends its finding, if any, to out.
func (e *Evaluator) run(out []Finding, i int, matched []*override, s subject, scanID string, now time.Time) []Finding {
	if i < 0 {
		return out
	}
	s.settings = e.policy.ruleSettings(i, matched)
	if !s.settings.enabled {
		return out
	}
	rule := &e.rules[i]
	res := rule.check(s)
	if res.verdict != fail {
		return out
	}
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
	f := Finding{
		FindingID:   FindingID(acct.ID, bucket, configID, rule.ID),
		AccountID:   acct.ID,
		AccountName: acct.Name,
		OUID:        acct.OUID,
		Bucket:      bucket,
		Region:      region,
		ConfigID:    configID,
		RuleID:      rule.ID,
		Severity:    s.settings.severity,
		Status:      StatusOpen,
		Title:       rule.Title,
		Message:     res.message,
		Evidence:    res.evidence,
		ScanID:      scanID,
		ObservedAt:  now,
	}
	if w := e.policy.waiverFor(rule.ID, acct.ID, bucket, now); w != nil {
		f.Status = StatusWaived
		f.Waiver = &AppliedWaiver{Reason: w.Reason, Expires: w.Expires}
	}
	return append(out, f)
}
