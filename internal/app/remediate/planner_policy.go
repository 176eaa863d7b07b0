package remediate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/s3inv/scanner/internal/base/iampolicy"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// The managed statements: one per destination bucket and one per key,
// found again by their Sid. Every other statement is kept as read.
const (
	SidDelivery   = "S3InventoryScannerDelivery"
	SidEncryption = "S3InventoryScannerEncryption"
)

// The size limits of the policies a merge writes: a bucket policy counted
// on its compact form, a key policy on its bytes.
const (
	MaxBucketPolicySize = 20 * 1024
	MaxKeyPolicySize    = 32 * 1024
)

// policyTarget is one destination bucket or key whose policy a merge
// would change, with the findings that ask for it and every source that
// delivers there once the plan is applied.
type policyTarget struct {
	kind    Kind
	arn     string   // the bucket's or the key's ARN
	rules   []string // the rules it prevents for created configurations
	owner   string
	region  string
	read    *string // the policy as read; nil when the scan did not read it
	state   string  // a key's state as read (KeyMetadata.KeyState)
	fixes   []rules.Finding
	sources map[string]source // by account/bucket/config
}

// source is one configuration delivering to a target.
type source struct {
	src    iampolicy.Source
	prefix string
}

// policyFix records an open, opted-in INV-111, INV-112 or INV-113 finding
// for the merge of its destination's policy.
func (pl *planner) policyFix(f rules.Finding, c inventory.Config) {
	t := pl.target(KindBucketPolicy, c.Destination.BucketARN)
	if f.RuleID == "INV-113" {
		t = pl.target(KindKeyPolicy, c.Destination.KMSKeyID)
	}
	t.fixes = append(t.fixes, f)
}

// target returns the merge of the policy of arn, created on first use.
func (pl *planner) target(k Kind, arn string) *policyTarget {
	key := string(k) + " " + arn
	if pl.targets == nil {
		pl.targets = map[string]*policyTarget{}
	}
	t := pl.targets[key]
	if t == nil {
		t = &policyTarget{kind: k, arn: arn, sources: map[string]source{}}
		pl.targets[key] = t
	}
	return t
}

// mergePolicies plans the merges of the managed statements once every
// configuration change is planned: each target's sources are the enabled
// configurations the scan found delivering there (less those the plan
// disables) and those the plan creates or points there.
func (pl *planner) mergePolicies() {
	for _, ch := range pl.plan.Changes {
		if ch.Kind == KindDisable || ch.Before != nil && sameDestination(*ch.Before, *ch.After) {
			continue // delivers where it did: its findings say what to merge
		}
		a := inventory.Account{ID: ch.Account}
		for _, acct := range pl.reads.Org.Targets {
			if acct.ID == ch.Account {
				a = acct
			}
		}
		if pl.rem.Fixes("INV-111", a, ch.Bucket) {
			t := pl.target(KindBucketPolicy, ch.After.Destination.BucketARN)
			t.rules = appendUnique(t.rules, "INV-111")
		}
		if ch.After.Destination.Encryption == inventory.EncryptionSSEKMS && pl.rem.Fixes("INV-113", a, ch.Bucket) {
			t := pl.target(KindKeyPolicy, ch.After.Destination.KMSKeyID)
			t.rules = appendUnique(t.rules, "INV-113")
		}
	}
	if len(pl.targets) == 0 {
		return
	}
	disabled := map[string]bool{}
	for _, ch := range pl.plan.Changes {
		if ch.Kind == KindDisable {
			disabled[srcKey(ch.Account, ch.Bucket, ch.ConfigID)] = true
		}
	}
	for _, c := range pl.reads.Checks {
		k := srcKey(c.Account.ID, c.Bucket.Name, c.Config.ID)
		if disabled[k] || !c.Config.Enabled {
			continue
		}
		s := source{src: iampolicy.Source{Partition: c.Partition, Account: c.Account.ID, Bucket: c.Bucket.Name, ConfigID: c.Config.ID, OrgID: c.OrgID},
			prefix: c.Config.Destination.Prefix}
		pl.addSource(c.Config, k, s, c.Bucket.Region, c.Owner, c.Policy, c.Key)
	}
	for _, ch := range pl.plan.Changes {
		if ch.After == nil || !ch.After.Enabled {
			continue
		}
		s := source{src: iampolicy.Source{Account: ch.Account, Bucket: ch.Bucket, ConfigID: ch.ConfigID, OrgID: pl.reads.Org.ID},
			prefix: ch.After.Destination.Prefix}
		pl.addSource(*ch.After, srcKey(ch.Account, ch.Bucket, ch.ConfigID), s, ch.Region, "", nil, nil)
	}
	for _, key := range slices.Sorted(maps.Keys(pl.targets)) {
		pl.merge(pl.targets[key])
	}
}

// addSource adds a configuration to the targets it delivers to; owner,
// pol and key are what the scan read of them, when it did.
func (pl *planner) addSource(c inventory.Config, k string, s source, region, owner string, pol *inventory.PolicyRead, key *inventory.KeyRead) {
	if t := pl.targets[string(KindBucketPolicy)+" "+c.Destination.BucketARN]; t != nil {
		t.sources[k] = s
		t.region = region
		if pol != nil && pol.Failure == nil && !pol.Missing && t.read == nil {
			doc := pol.Policy
			t.read, t.owner = &doc, owner
		}
	}
	if c.Destination.Encryption != inventory.EncryptionSSEKMS {
		return
	}
	if t := pl.targets[string(KindKeyPolicy)+" "+c.Destination.KMSKeyID]; t != nil {
		t.sources[k] = s
		if key != nil && key.Failure == nil && !key.Missing && t.read == nil {
			doc := key.Policy
			t.read, t.state = &doc, key.State
			if parts := strings.Split(c.Destination.KMSKeyID, ":"); len(parts) == 6 {
				t.region, t.owner = parts[3], parts[4]
			}
		}
	}
}

// sameDestination reports whether two configurations deliver to the same
// bucket with the same key.
func sameDestination(a, b inventory.Config) bool {
	return a.Destination.BucketARN == b.Destination.BucketARN && a.Destination.KMSKeyID == b.Destination.KMSKeyID &&
		a.Destination.Encryption == b.Destination.Encryption
}

func srcKey(account, bucket, config string) string { return account + "/" + bucket + "/" + config }

// merge plans one target's merge, or lists its findings as manual.
func (pl *planner) merge(t *policyTarget) {
	if t.read == nil {
		why := "the scan did not read the policy of " + t.arn + " (no configuration delivered there, or it could not): plan again once it can"
		pl.manualAll(t.fixes, why)
		for _, id := range t.rules {
			_, name, _ := strings.Cut(t.arn, ":::")
			pl.plan.Manual = append(pl.plan.Manual, Manual{Account: t.owner, Region: t.region, Bucket: name, Rule: id, Reason: why})
		}
		return
	}
	if t.kind == KindKeyPolicy && t.state != "" && t.state != "Enabled" {
		// The finding of a key of another account does not tell its
		// state; the scan's read does.
		pl.manualAll(t.fixes, "the KMS key "+t.arn+" is "+t.state+": a fix never changes a key's state; enable or replace the key")
		return
	}
	sources := make([]source, 0, len(t.sources))
	for _, k := range slices.Sorted(maps.Keys(t.sources)) {
		sources = append(sources, t.sources[k])
	}
	kept := namedSources(*t.read, sidOf(t.kind))
	after, err := mergeStatement(*t.read, managedStatement(t, sources, kept, false))
	limit, size := MaxKeyPolicySize, len(after)
	if t.kind == KindBucketPolicy {
		limit, size = MaxBucketPolicySize, compactLen(after)
	}
	if err == nil && size > limit && pl.reads.Org.ID != "" {
		after, err = mergeStatement(*t.read, managedStatement(t, sources, kept, true))
		size = len(after)
		if t.kind == KindBucketPolicy {
			size = compactLen(after)
		}
	}
	switch {
	case err != nil:
		pl.manualAll(t.fixes, "the policy of "+t.arn+" cannot be merged: "+err.Error())
		return
	case size > limit:
		pl.manualAll(t.fixes, fmt.Sprintf("the merged policy of %s would be %d bytes, over its %d-byte limit", t.arn, size, limit))
		return
	}
	if sameMeaning(after, *t.read) {
		return // the managed statement is there already, as it would be written
	}
	unscopedFails := false // INV-112 runs for one of the sources
	for _, src := range sources {
		unscopedFails = unscopedFails || pl.policy.Desired(inventory.Account{ID: src.src.Account}, src.src.Bucket).Enabled["INV-112"]
	}
	if why := verifyMerge(t, after, sources, unscopedFails); why != "" {
		pl.manualAll(t.fixes, why)
		return
	}
	ids := ruleIDs(t.fixes)
	for _, id := range t.rules {
		ids = appendUnique(ids, id)
	}
	slices.Sort(ids)
	ch := Change{Kind: t.kind, Account: t.owner, Region: t.region, Rules: ids, Automatic: pl.automatic(ids),
		Read: PolicyDigest(*t.read), PolicyBefore: *t.read, PolicyAfter: after,
		Diff: []FieldChange{{Field: "Statement " + sidOf(t.kind), From: statementAsRead(*t.read, sidOf(t.kind)), To: statementAsRead(after, sidOf(t.kind))}}}
	if t.kind == KindKeyPolicy {
		ch.KeyARN = t.arn
	} else {
		_, ch.Bucket, _ = strings.Cut(t.arn, ":::")
	}
	pl.plan.Changes = append(pl.plan.Changes, ch)
}

func sidOf(k Kind) string {
	if k == KindKeyPolicy {
		return SidEncryption
	}
	return SidDelivery
}

// managedStatement is the target's managed statement allowing exactly
// sources and those it allowed as read (kept): by aws:SourceAccount and
// aws:SourceArn, or, with byOrg, by the organization (aws:SourceOrgID).
func managedStatement(t *policyTarget, sources []source, kept map[string][]string, byOrg bool) map[string]any {
	accounts, arns, orgs := kept["aws:SourceAccount"], kept["aws:SourceArn"], kept["aws:SourceOrgID"]
	for _, s := range sources {
		part := s.src.Partition
		if part == "" {
			part = "aws"
		}
		accounts = appendUnique(accounts, s.src.Account)
		arns = appendUnique(arns, "arn:"+part+":s3:::"+s.src.Bucket)
		if s.src.OrgID != "" {
			orgs = appendUnique(orgs, s.src.OrgID)
		}
	}
	slices.Sort(accounts)
	slices.Sort(arns)
	equals := map[string]any{"aws:SourceAccount": accounts}
	cond := map[string]any{"StringEquals": equals, "ArnLike": map[string]any{"aws:SourceArn": arns}}
	if byOrg {
		equals = map[string]any{"aws:SourceOrgID": orgs}
		cond = map[string]any{"StringEquals": equals}
	}
	st := map[string]any{"Sid": sidOf(t.kind), "Effect": "Allow", "Principal": map[string]string{"Service": iampolicy.S3Service}}
	if t.kind == KindKeyPolicy {
		st["Action"], st["Resource"] = "kms:GenerateDataKey", "*"
	} else {
		equals["s3:x-amz-acl"] = "bucket-owner-full-control"
		st["Action"], st["Resource"] = "s3:PutObject", t.arn+"/*"
	}
	st["Condition"] = cond
	return st
}

func appendUnique(vs []string, v string) []string {
	if slices.Contains(vs, v) {
		return vs
	}
	return append(vs, v)
}

// verifyMerge asks the project's policy evaluator whether the merged
// policy lets every source deliver (INV-111, INV-113) and, when INV-112
// runs (checkUnscoped), lets no service write unscoped: aws:SourceOrgID
// alone does not scope for INV-112, so the organization-wide statement
// passes only where INV-112 is off. It returns why not, or "".
// What the policy allowed before stays allowed: every other statement is
// kept as read, and the managed statement keeps every source it named.
func verifyMerge(t *policyTarget, after string, sources []source, checkUnscoped bool) string {
	pa, err := iampolicy.Parse([]byte(after))
	if err != nil {
		return "the merged policy of " + t.arn + " is not one the evaluator reads: " + err.Error()
	}
	ask := func(p *iampolicy.Policy, s source) (iampolicy.Decision, error) {
		if t.kind == KindKeyPolicy {
			return p.KMSGenerateDataKey(s.src, t.arn)
		}
		return p.InventoryDelivery(s.src, t.arn, s.prefix)
	}
	for _, s := range sources {
		d, err := ask(pa, s)
		switch {
		case err != nil:
			return "the merged policy of " + t.arn + " cannot be checked: " + err.Error()
		case d.Outcome == iampolicy.Deny:
			return "the policy of " + t.arn + " denies " + s.src.Bucket + " (statements " + strings.Join(d.Statements, ", ") + "): a merge never overrides a Deny; change it by hand"
		case d.Outcome != iampolicy.Allow:
			return "the merged policy of " + t.arn + " would still not allow " + s.src.Bucket + ": " + d.Outcome.String()
		}
	}
	if t.kind == KindBucketPolicy && checkUnscoped {
		if sts := pa.UnscopedServiceAllows(iampolicy.S3Service, "s3:PutObject"); len(sts) > 0 {
			return "the policy of " + t.arn + " lets S3 write unscoped (statements " + strings.Join(sts, ", ") + "): a merge keeps every other statement; scope them by hand"
		}
	}
	return ""
}

// mergeStatement returns doc with the statement of st's Sid replaced by
// st, or st appended; every other statement and key is kept as read. An
// empty doc becomes a policy of st alone.
func mergeStatement(doc string, st map[string]any) (string, error) {
	top := map[string]json.RawMessage{}
	if strings.TrimSpace(doc) != "" {
		if err := json.Unmarshal([]byte(doc), &top); err != nil {
			return "", fmt.Errorf("not a JSON object: %w", err)
		}
	} else {
		top["Version"] = json.RawMessage(`"2012-10-17"`)
	}
	var sts []json.RawMessage
	if raw, ok := top["Statement"]; ok {
		if err := json.Unmarshal(raw, &sts); err != nil {
			sts = []json.RawMessage{raw} // a single statement object
		}
	}
	mine, _ := json.Marshal(st)
	replaced := false
	for i, s := range sts {
		var head struct{ Sid string }
		if json.Unmarshal(s, &head) == nil && head.Sid == st["Sid"] {
			sts[i], replaced = mine, true
		}
	}
	if !replaced {
		sts = append(sts, mine)
	}
	all, err := json.Marshal(sts)
	if err != nil {
		return "", err
	}
	top["Statement"] = all
	out, err := json.Marshal(top)
	return string(out), err
}

// statementAsRead is the statement of sid in doc, compact; "" for none.
func statementAsRead(doc, sid string) string {
	var p struct{ Statement []json.RawMessage }
	if json.Unmarshal([]byte(doc), &p) != nil {
		return ""
	}
	for _, s := range p.Statement {
		var head struct{ Sid string }
		if json.Unmarshal(s, &head) == nil && head.Sid == sid {
			return compact(s)
		}
	}
	return ""
}

// namedSources are the values of aws:SourceAccount, aws:SourceArn and
// aws:SourceOrgID in the managed statement of doc as read, so that a
// merge never drops a source it allowed before.
func namedSources(doc, sid string) map[string][]string {
	var st struct {
		Condition map[string]map[string]json.RawMessage
	}
	out := map[string][]string{}
	if json.Unmarshal([]byte(statementAsRead(doc, sid)), &st) != nil {
		return out
	}
	for _, byKey := range st.Condition {
		for key, raw := range byKey {
			var vs []string
			if json.Unmarshal(raw, &vs) != nil {
				var v string
				if json.Unmarshal(raw, &v) != nil {
					continue
				}
				vs = []string{v}
			}
			switch key {
			case "aws:SourceAccount", "aws:SourceArn", "aws:SourceOrgID":
				for _, v := range vs {
					out[key] = appendUnique(out[key], v)
				}
			}
		}
	}
	return out
}

// sameMeaning reports whether two JSON documents hold the same values,
// whatever their key order and spacing (S3 stores a policy compacted).
func sameMeaning(a, b string) bool {
	var va, vb any
	return json.Unmarshal([]byte(a), &va) == nil && json.Unmarshal([]byte(b), &vb) == nil && reflect.DeepEqual(va, vb)
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	return buf.String()
}

func compactLen(doc string) int { return len(compact([]byte(doc))) }
