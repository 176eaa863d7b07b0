package rules

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/iampolicy"
	"github.com/s3inv/scanner/internal/base/inventory"
)

// The destination rules (INV-110 to INV-115) follow an enabled
// configuration to its destination bucket, KMS key and reports, as the
// scan read them (inventory.DestinationCheck). A check that cannot be
// made (the policy, key or reports could not be read, the owner is
// outside the organization, the policy evaluator cannot decide) is
// unverifiable, never a pass: the evaluator gathers those gaps into one
// SCAN-005 finding per source account, destination and cause (the error
// code), naming what could not be read, the configurations and the checks
// it affects.
//
// A destination another account owns (its bucket, or the report's KMS
// key) is that account's: a finding of the source account says that the
// destination owned by that account refuses delivery (or, INV-112, takes
// any account's reports), and carries nothing read there: no statement
// labels or decisions of its policies, no key state or key ARN beyond the
// configured one, no error message of its APIs (reduced). Only the
// source's own values (its configuration, the statement the owner would
// add) go with it. A destination in the source account keeps every
// detail.

// gap is what a destination check could not verify and why.
type gap struct {
	// what could not be read or decided: "destination", "bucket
	// policy", "KMS key <arn>", "reports".
	what string
	code string
	msg  string
	// owner is the account of what could not be read, when it is not the
	// destination bucket's owner (the KMS key's).
	owner string
}

func unverified(what string, f *inventory.Failure) result {
	if f == nil {
		f = &inventory.Failure{Code: "Unknown"}
	}
	return result{verdict: unverifiable, gap: &gap{what: what, code: cmp.Or(f.Code, "Error"), msg: f.Message}}
}

// destinationGap is one SCAN-005 finding in the making: a destination of
// a source account that could not be verified for one cause.
type destinationGap struct {
	gap
	account     inventory.Account
	region      string   // the (first) source bucket's region
	destination string   // the destination bucket ARN
	whats       []string // what could not be read or decided, in order
	configs     []string
	named       map[string]bool // configs, as a set
	checks      []string
	// foreign are the accounts other than the source that own what could
	// not be read: then nothing of what they answered is told (reduced).
	foreign []string
}

type gapKey struct{ account, destination, code string }

// askedNothing are the causes the scanner gives itself before it asks the
// destination's owner anything: their messages tell only of the source
// account, so they are told in full whoever owns the destination.
var askedNothing = map[string]bool{"TooManyConfigurations": true}

// destinationGaps gathers the SCAN-005 findings in the making of one
// evaluation, and the source buckets they leave unverified, in the order
// they were met.
type destinationGaps struct {
	byKey      map[gapKey]*destinationGap
	order      []gapKey
	unverified []string
	seen       map[string]bool // unverified, as a set
}

// add records that rule could not be verified on d for res's gap.
func (gs *destinationGaps) add(d *inventory.DestinationCheck, res result, rule string) {
	key := gapKey{d.Account.ID, d.Config.Destination.BucketARN, res.gap.code}
	g := gs.byKey[key]
	if g == nil {
		g = &destinationGap{gap: *res.gap, account: d.Account, region: d.Bucket.Region, destination: key.destination, named: map[string]bool{}}
		gs.byKey[key] = g
		gs.order = append(gs.order, key)
	}
	if owner := cmp.Or(res.gap.owner, d.Owner); owner != d.Account.ID && !askedNothing[res.gap.code] {
		g.foreign = appendNew(g.foreign, owner)
	}
	g.whats = appendNew(g.whats, res.gap.what)
	if c := d.Bucket.Name + "/" + d.Config.ID; !g.named[c] {
		g.named[c] = true
		g.configs = append(g.configs, c)
	}
	if !gs.seen[d.Bucket.Name] {
		gs.seen[d.Bucket.Name] = true
		gs.unverified = append(gs.unverified, d.Bucket.Name)
	}
	g.checks = appendNew(g.checks, rule)
}

// Destinations evaluates the destination rules on the destination checks
// of one scan, typically those of one source account: for each check
// (configurations in bucket and ID order) the destination rules in ID
// order, at most the policy's limits.findings_per_bucket findings of each
// source bucket, the most severe, and one SCAN-006 finding for the rest;
// then one SCAN-005 finding per source account, destination and cause of
// the checks that could not be made. Destination findings are the source
// configuration's (its account, bucket and configuration ID); SCAN-005
// findings are the source account's, with the destination bucket's name
// as their bucket.
//
// unverified names the source buckets (account/bucket) with a
// configuration whose checks could not all be made: their earlier
// destination findings must not be resolved (inventory.AccountResult's
// Unverified).
func (e *Evaluator) Destinations(ds []inventory.DestinationCheck, scanID string, now time.Time) (out []Finding, unverified []string) {
	ds = slices.Clone(ds)
	slices.SortStableFunc(ds, func(a, b inventory.DestinationCheck) int {
		return cmp.Or(cmp.Compare(a.Account.ID, b.Account.ID), cmp.Compare(a.Bucket.Name, b.Bucket.Name), cmp.Compare(a.Config.ID, b.Config.ID))
	})
	gaps := &destinationGaps{byKey: map[gapKey]*destinationGap{}, seen: map[string]bool{}}
	var buf [8]*override
	for start := 0; start < len(ds); {
		end := start + 1
		for end < len(ds) && ds[end].Account.ID == ds[start].Account.ID && ds[end].Bucket.Name == ds[start].Bucket.Name {
			end++
		}
		out = e.bucketDestinations(out, ds[start:end], gaps, scanID, now)
		start = end
	}
	for _, key := range gaps.order {
		g := gaps.byKey[key]
		slices.Sort(g.checks)
		name := bucketName(g.destination)
		matched := e.policy.matching(buf[:0], g.account, name)
		br := inventory.BucketResult{Account: g.account, Bucket: inventory.Bucket{Name: name, Region: g.region}}
		s := subject{bucket: &br, gaps: g, now: now, org: &e.org, findingKey: "cause:" + g.code}
		for _, i := range e.destCoverage {
			out = e.run(out, i, matched, s, scanID, now)
		}
	}
	return out, gaps.unverified
}

// bucketDestinations appends to out the destination findings of the
// checks of one source bucket (ds), kept and folded by the bucket's
// limit, and records in gaps what could not be verified.
func (e *Evaluator) bucketDestinations(out []Finding, ds []inventory.DestinationCheck, gaps *destinationGaps, scanID string, now time.Time) []Finding {
	var buf [8]*override
	matched := e.policy.matching(buf[:0], ds[0].Account, ds[0].Bucket.Name)
	br := inventory.BucketResult{Account: ds[0].Account, Bucket: ds[0].Bucket}
	k := newKeeper(e.policy.findingsPerBucket, foldDestinations)
	for j := range ds {
		d := &ds[j]
		s := subject{bucket: &br, config: &d.Config, dest: d, now: now, org: &e.org}
		for _, i := range e.dest {
			s.settings = e.policy.ruleSettings(i, matched)
			if !s.settings.enabled {
				continue
			}
			res := e.rules[i].check(s)
			switch res.verdict {
			case fail:
				k.add(e.finding(i, s, res, scanID, now))
			case unverifiable:
				gaps.add(d, res, e.rules[i].ID)
			}
		}
	}
	kept, fold := k.findings()
	out = append(out, kept...)
	return e.folded(out, fold, matched, subject{bucket: &br, now: now, org: &e.org}, scanID, now)
}

// ReadsDestinations reports whether any destination rule (INV-110 to
// INV-115) is enabled, in the rules block or in an override: when none
// is, the scan need not read destinations.
func (e *Evaluator) ReadsDestinations() bool {
	for _, i := range e.dest {
		if e.policy.base[i].enabled {
			return true
		}
		for _, o := range e.policy.overrides {
			if r := o.rules[i]; r != nil && r.enabled != nil && *r.enabled {
				return true
			}
		}
	}
	return false
}

// bucketName returns the bucket name of an S3 bucket ARN
// (arn:aws:s3:::name), or the ARN when it is not one.
func bucketName(bucketARN string) string {
	if _, name, ok := strings.Cut(bucketARN, ":::"); ok && name != "" {
		return name
	}
	return bucketARN
}

// source is the inventory source of a destination check, for the policy
// questions.
func source(d *inventory.DestinationCheck) iampolicy.Source {
	p := d.Partition
	if p == "" {
		if parts := strings.SplitN(d.Config.Destination.BucketARN, ":", 3); len(parts) == 3 && parts[0] == "arn" {
			p = parts[1]
		}
	}
	return iampolicy.Source{Partition: p, Account: d.Account.ID, Bucket: d.Bucket.Name, ConfigID: d.Config.ID, OrgID: d.OrgID}
}

// destPolicy returns the destination's parsed bucket policy. ok is false
// with the result to return when the check cannot go on: nothing read,
// the bucket missing (INV-110's), the policy unreadable or unparsable.
// A bucket without a policy gives a nil policy and ok.
func destPolicy(s subject) (*iampolicy.Policy, result, bool) {
	d := s.dest
	switch {
	case d.Failure != nil:
		return nil, unverified("destination", d.Failure), false
	case d.Policy == nil || d.Policy.Missing:
		return nil, skipped(), false
	case d.Policy.Failure != nil:
		return nil, unverified("bucket policy", d.Policy.Failure), false
	case d.Policy.Policy == "":
		return nil, result{}, true
	}
	p, err := iampolicy.Parse([]byte(d.Policy.Policy))
	if err != nil {
		return nil, unverified("bucket policy", &inventory.Failure{Code: "UnreadablePolicy", Message: err.Error()}), false
	}
	return p, result{}, true
}

// reduced is the result res of a destination rule on what account owner
// holds (its bucket policy, its key), as a finding of another account may
// carry it: a failure becomes msg, with the owner, the destination and
// the values of own (taken from the source's configuration), and nothing
// of what the owner's account answered. A result of the source's own
// destination, and anything but a failure, is res. Gaps are reduced by
// SCAN-005 (destinationGap.foreign).
func reduced(s subject, owner string, res result, msg string, own map[string]string) result {
	if res.verdict != fail || owner == "" || owner == s.bucket.Account.ID {
		return res
	}
	ev := map[string]string{"owner": owner, "destination": s.config.Destination.BucketARN}
	for k, v := range own {
		ev[k] = v
	}
	return failed(msg, ev)
}

// keyOwner is the account of the subject's KMS key, as the configured key
// ARN names it; "" when it names none.
func keyOwner(s subject) string {
	parts := strings.SplitN(s.config.Destination.KMSKeyID, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		return parts[4]
	}
	return ""
}

// destName names the destination of the subject's configuration in
// messages.
func destName(s subject) string {
	return "destination " + s.config.Destination.BucketARN + " of " + configName(s)
}

// deliveryStatement is the bucket-policy statement that lets S3 deliver
// the subject's report, and nobody else's.
func deliveryStatement(s subject) string {
	return statementJSON(map[string]any{
		"Sid":       "InventoryDelivery",
		"Effect":    "Allow",
		"Principal": map[string]string{"Service": iampolicy.S3Service},
		"Action":    "s3:PutObject",
		"Resource":  s.config.Destination.BucketARN + "/*",
		"Condition": map[string]any{
			"ArnLike":      map[string]string{"aws:SourceArn": "arn:" + cmp.Or(source(s.dest).Partition, "aws") + ":s3:::" + s.bucket.Bucket.Name},
			"StringEquals": map[string]string{"aws:SourceAccount": s.bucket.Account.ID, "s3:x-amz-acl": "bucket-owner-full-control"},
		},
	})
}

// keyStatement is the key-policy statement that lets S3 encrypt the
// subject's report with the key.
func keyStatement(s subject) string {
	return statementJSON(map[string]any{
		"Sid":       "InventoryReportEncryption",
		"Effect":    "Allow",
		"Principal": map[string]string{"Service": iampolicy.S3Service},
		"Action":    "kms:GenerateDataKey",
		"Resource":  "*",
		"Condition": map[string]any{
			"ArnLike":      map[string]string{"aws:SourceArn": "arn:" + cmp.Or(source(s.dest).Partition, "aws") + ":s3:::" + s.bucket.Bucket.Name},
			"StringEquals": map[string]string{"aws:SourceAccount": s.bucket.Account.ID},
		},
	})
}

func statementJSON(v any) string {
	b, _ := json.Marshal(v) // maps of strings: never fails
	return string(b)
}

// decisionText renders a policy decision for messages.
func decisionText(d iampolicy.Decision) string {
	switch d.Outcome {
	case iampolicy.Deny:
		return "denies it (statements " + joinList(d.Statements) + ")"
	default:
		return "has no statement that allows it"
	}
}

// undecided is the gap of a decision the evaluator could not make.
func undecided(what string, d iampolicy.Decision) result {
	return unverified(what, &inventory.Failure{Code: "Undecidable",
		Message: strings.TrimSpace(d.Reason + " (statements " + joinList(d.Statements) + ")")})
}
