package remediate

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// The planner is a pure function of what one scan read and the policy
// that judged it: it evaluates the reads with the policy's own rules,
// decides per finding whether the policy lets it be fixed, derives the
// fixed configuration from the rules' parameters (rules.Policy.Desired),
// and keeps a change only when the same rules pass on its result. It makes
// no AWS call.

// planner holds one planning's inputs and what it has decided so far.
type planner struct {
	reads  Reads
	policy *rules.Policy
	rem    rules.Remediation
	eval   *rules.Evaluator
	now    time.Time
	plan   Plan
	// targets are the destination policies to merge, by kind and ARN.
	targets map[string]*policyTarget
}

// NewPlan plans the fixes of the findings of reads under policy p (nil:
// the built-in policy, which fixes nothing), at now.
func NewPlan(r Reads, p *rules.Policy, now time.Time) Plan {
	pl := &planner{reads: r, policy: p, rem: p.Remediation(), eval: rules.NewEvaluator(p, r.Org), now: now.UTC()}
	pl.plan = Plan{Version: PlanVersion, ScanID: r.ScanID, PolicyDigest: p.Digest(), MadeAt: pl.now,
		ConfigID: pl.rem.ConfigID, Changes: []Change{}, Manual: []Manual{}}
	dest := pl.destinationFindings()
	for _, a := range r.Accounts {
		for _, f := range pl.eval.Account(a, r.ScanID, pl.now) {
			pl.manual(f, "the scan could not read the account ("+f.Message+"): fix its access and plan again")
		}
	}
	buckets := slices.Clone(r.Buckets)
	slices.SortFunc(buckets, func(a, b inventory.BucketResult) int {
		return cmp.Or(cmp.Compare(a.Account.ID, b.Account.ID), cmp.Compare(a.Bucket.Name, b.Bucket.Name))
	})
	for _, b := range buckets {
		pl.bucket(b, dest[bucketKey(b.Account.ID, b.Bucket.Name)])
	}
	pl.mergePolicies()
	pl.sort()
	return pl.plan
}

func bucketKey(account, bucket string) string { return account + "/" + bucket }

// destinationFindings evaluates the destination checks, by source bucket.
func (pl *planner) destinationFindings() map[string][]rules.Finding {
	fs, _ := pl.eval.Destinations(pl.reads.Checks, pl.reads.ScanID, pl.now)
	out := map[string][]rules.Finding{}
	for _, f := range fs {
		k := bucketKey(f.AccountID, f.Bucket)
		out[k] = append(out[k], f)
	}
	return out
}

// bucket plans the fixes of one bucket: disables and updates of its
// configurations, then the managed configuration when the bucket would
// still lack an enabled configuration covering it all.
func (pl *planner) bucket(b inventory.BucketResult, dest []rules.Finding) {
	fs := append(pl.eval.Bucket(b, pl.reads.ScanID, pl.now), dest...)
	fixing := map[string][]rules.Finding{} // by configuration Id; "" for the bucket
	for _, f := range fs {
		if f.Status != rules.StatusOpen {
			continue
		}
		reason, manual := pl.triage(f, b)
		switch {
		case manual:
			pl.manual(f, reason)
		case reason == "policy":
			if i := slices.IndexFunc(b.Configs, func(c inventory.Config) bool { return c.ID == f.ConfigID }); i >= 0 {
				pl.policyFix(f, b.Configs[i])
			}
		case reason == "":
			fixing[f.ConfigID] = append(fixing[f.ConfigID], f)
		}
	}
	if b.Failure != nil {
		return // unread: nothing is known of its configurations (SCAN-003 is manual)
	}
	after := slices.Clone(b.Configs)
	for i, c := range b.Configs {
		if len(fixing[c.ID]) == 0 {
			continue
		}
		if ch, ok := pl.fixConfig(b, c, fixing[c.ID]); ok {
			after[i] = *ch.After
			pl.plan.Changes = append(pl.plan.Changes, ch)
			pl.dropObsolete(ch)
		}
	}
	// The bucket's own findings are those of the bucket as the planned
	// changes leave it: a disable can leave it uncovered.
	post := inventory.BucketResult{Account: b.Account, Bucket: b.Bucket, Configs: after}
	var cover []rules.Finding
	for _, f := range pl.eval.Bucket(post, pl.reads.ScanID, pl.now) {
		if f.ConfigID == "" && f.Status == rules.StatusOpen && pl.rem.Fixes(f.RuleID, b.Account, b.Bucket.Name) &&
			slices.Contains([]string{"INV-001", "INV-002", "INV-003"}, f.RuleID) {
			cover = append(cover, f)
		}
	}
	if len(cover) > 0 {
		pl.coverBucket(b, after, cover)
	}
}

// triage says what becomes of an open finding: manual (with the reason),
// not opted in (counted, reason "skip"), a policy merge (reason "policy"),
// or a configuration fix (reason "").
func (pl *planner) triage(f rules.Finding, b inventory.BucketResult) (reason string, manual bool) {
	if r, ok := manualReason(f); ok {
		return r, true
	}
	if !pl.rem.Fixes(f.RuleID, b.Account, b.Bucket.Name) {
		pl.plan.NotOptedIn++
		return "skip", false
	}
	switch f.RuleID {
	case "INV-104", "INV-105":
		if pl.rem.Unapproved != rules.UnapprovedDisable {
			return "the configuration delivers to an unapproved destination and remediation.unapproved_destinations is report: " +
				"point it at an approved destination, or set disable", true
		}
	case "INV-111", "INV-112", "INV-113":
		return "policy", false
	}
	return "", false
}

// manualReason is why a finding can never be fixed by a plan.
func manualReason(f rules.Finding) (string, bool) {
	switch {
	case f.RuleID == "SCAN-006":
		return "the bucket's findings beyond the policy's limits.findings_per_bucket are folded into this one (" + f.Message +
			"): the plan fixes the findings it itemizes; plan again once they are fixed, or raise the limit", true
	case strings.HasPrefix(f.RuleID, "SCAN-"):
		return "the scan could not read it (" + f.Message + "): fix the access and plan again", true
	case f.RuleID == "INV-110":
		return "the destination bucket does not exist: create it, or point the configuration at an approved destination", true
	case f.RuleID == "INV-114":
		return "no recent report: S3 delivers the first within 48 hours; check the destination's policy and key, then scan again", true
	case f.RuleID == "INV-113" && (f.Evidence["key_state"] != "" || strings.Contains(f.Message, "does not exist")):
		return "the KMS key is " + cmp.Or(f.Evidence["key_state"], "missing") + ": a fix never changes a key's state; enable or replace the key", true
	case !slices.Contains(rules.FixableRules, f.RuleID):
		return "no fix exists for " + f.RuleID, true
	}
	return "", false
}

// dropObsolete removes the manual items a change makes moot: the
// destination findings of a configuration it disables, the key's of a
// configuration whose key it replaces.
func (pl *planner) dropObsolete(ch Change) {
	keyChanged := ch.After.Destination.KMSKeyID != ch.Before.Destination.KMSKeyID
	pl.plan.Manual = slices.DeleteFunc(pl.plan.Manual, func(m Manual) bool {
		if m.Account != ch.Account || m.Bucket != ch.Bucket || m.ConfigID != ch.ConfigID {
			return false
		}
		return ch.Kind == KindDisable && strings.HasPrefix(m.Rule, "INV-11") || keyChanged && m.Rule == "INV-113"
	})
}

// manual lists a finding as manual.
func (pl *planner) manual(f rules.Finding, reason string) {
	pl.plan.Manual = append(pl.plan.Manual, Manual{Account: f.AccountID, Region: f.Region, Bucket: f.Bucket,
		ConfigID: f.ConfigID, Rule: f.RuleID, Reason: reason})
}

// sort orders the changes and the manual items by account, bucket,
// configuration and kind.
func (pl *planner) sort() {
	slices.SortStableFunc(pl.plan.Changes, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.ConfigID, b.ConfigID),
			cmp.Compare(a.KeyARN, b.KeyARN))
	})
	slices.SortStableFunc(pl.plan.Manual, func(a, b Manual) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Bucket, b.Bucket), cmp.Compare(a.ConfigID, b.ConfigID),
			cmp.Compare(a.Rule, b.Rule))
	})
}

// automatic reports whether every rule is one the policy fixes on its own.
func (pl *planner) automatic(ids []string) bool {
	for _, id := range ids {
		if !slices.Contains(pl.rem.Automatic, id) {
			return false
		}
	}
	return len(ids) > 0
}
