package iampolicy

import (
	"fmt"
	"slices"
	"strings"
)

// S3Service is the service principal that writes inventory reports.
const S3Service = "s3.amazonaws.com"

// Source is the bucket whose inventory report is delivered, and the
// configuration that delivers it.
type Source struct {
	// Partition is the source's partition; "aws" when empty.
	Partition string
	// Account is the 12-digit ID of the account that owns the bucket.
	Account string
	// Bucket is the source bucket's name.
	Bucket string
	// ConfigID is the inventory configuration's ID.
	ConfigID string
	// OrgID is the source account's organization ID (o-...). When empty
	// the request carries no aws:SourceOrgID.
	OrgID string
}

func (s Source) partition() string {
	if s.Partition == "" {
		return "aws"
	}
	return s.Partition
}

func (s Source) validate() error {
	switch {
	case !isAccountID(s.Account):
		return fmt.Errorf("source account %q: want a 12-digit account ID", s.Account)
	case s.Bucket == "" || strings.ContainsAny(s.Bucket, "/:*?"):
		return fmt.Errorf("source bucket %q: want a bucket name", s.Bucket)
	case s.ConfigID == "" || strings.ContainsAny(s.ConfigID, "*?"):
		return fmt.Errorf("source configuration ID %q: want a non-empty ID without wildcards", s.ConfigID)
	}
	return nil
}

// context is the request context S3 sends when it delivers a report for
// this source: the source account, the source bucket's ARN, the source
// organization when known, and (for S3 requests) the ACL header. S3
// delivers over TLS, so aws:SecureTransport is true.
func (s Source) context(withACL bool) map[string][]string {
	ctx := map[string][]string{
		"aws:SourceAccount":   {s.Account},
		"aws:SourceArn":       {"arn:" + s.partition() + ":s3:::" + s.Bucket},
		"aws:SecureTransport": {"true"},
	}
	if s.OrgID != "" {
		ctx["aws:SourceOrgID"] = []string{s.OrgID}
	}
	if withACL {
		ctx["s3:x-amz-acl"] = []string{"bucket-owner-full-control"}
	}
	return ctx
}

// ReportKeys returns the object keys, under a destination prefix, that
// stand for one configuration's report: a manifest, its checksum, a data
// file and a Hive symlink file under <prefix>/<source-bucket>/<config-id>/.
// The date and file name are placeholders of the real shapes.
func ReportKeys(prefix string, src Source) []string {
	base := src.Bucket + "/" + src.ConfigID
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		base = p + "/" + base
	}
	return []string{
		base + "/2026-01-04T01-00Z/manifest.json",
		base + "/2026-01-04T01-00Z/manifest.checksum",
		base + "/data/00000000-0000-0000-0000-000000000000.csv.gz",
		base + "/hive/dt=2026-01-04-01-00/symlink.txt",
	}
}

// InventoryDelivery answers whether a destination bucket policy lets S3
// write src's inventory report under prefix in the bucket
// destBucketARN (arn:aws:s3:::name): s3.amazonaws.com s3:PutObject on
// each of ReportKeys with the delivery's request context. The outcome is
// Allow only if every key is allowed; Deny if any is denied; NotAllowed
// if any is not allowed; Unknown otherwise. Allow means delivery works;
// Deny and NotAllowed mean it is blocked.
func (p *Policy) InventoryDelivery(src Source, destBucketARN, prefix string) (Decision, error) {
	if err := src.validate(); err != nil {
		return Decision{}, err
	}
	parts, ok := splitARN(destBucketARN)
	if !ok || parts[2] != "s3" || parts[5] == "" || strings.ContainsAny(parts[5], "/*?") {
		return Decision{}, fmt.Errorf("destination %q: want a bucket ARN such as arn:aws:s3:::name", destBucketARN)
	}
	ctx := src.context(true)
	var ds []Decision
	for _, key := range ReportKeys(prefix, src) {
		d, err := p.Decide(Request{Service: S3Service, Action: "s3:PutObject", Resource: destBucketARN + "/" + key, Context: ctx})
		if err != nil {
			return Decision{}, err
		}
		ds = append(ds, d)
	}
	return combine(ds), nil
}

// KMSGenerateDataKey answers whether a KMS key policy lets S3 call
// kms:GenerateDataKey on keyARN to encrypt src's report. KMS requests
// carry aws:SourceAccount and aws:SourceArn but not the S3 ACL header.
func (p *Policy) KMSGenerateDataKey(src Source, keyARN string) (Decision, error) {
	if err := src.validate(); err != nil {
		return Decision{}, err
	}
	if parts, ok := splitARN(keyARN); !ok || parts[2] != "kms" {
		return Decision{}, fmt.Errorf("key %q: want a KMS key ARN", keyARN)
	}
	return p.Decide(Request{Service: S3Service, Action: "kms:GenerateDataKey", Resource: keyARN, Context: src.context(false)})
}

// combine merges the decisions for several requests that must all be
// allowed: any Deny, else any NotAllowed (one object that cannot be
// written is enough to break delivery), else any Unknown, else Allow.
func combine(ds []Decision) Decision {
	for _, want := range []Outcome{Deny, NotAllowed, Unknown} {
		var out *Decision
		for i := range ds {
			if ds[i].Outcome != want {
				continue
			}
			if out == nil {
				out = &Decision{Outcome: want, Reason: ds[i].Reason}
			}
			out.Statements = appendNew(out.Statements, ds[i].Statements...)
		}
		if out != nil {
			return *out
		}
	}
	out := Decision{Outcome: Allow}
	for _, d := range ds {
		out.Statements = appendNew(out.Statements, d.Statements...)
	}
	return out
}

func appendNew(list []string, items ...string) []string {
	for _, it := range items {
		if !slices.Contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

// UnscopedServiceAllows returns the labels of the Allow statements that
// let service (such as S3Service) perform action (such as "s3:PutObject"
// or "kms:GenerateDataKey") without a condition tying the request to one
// source: the confused-deputy shape, where any account's bucket could have
// the service act on this resource.
//
// A statement counts when its principal covers the service ("*",
// {"AWS":"*"}, the service itself, or a NotPrincipal that does not name
// it; an undecidable principal counts too), its actions cover action, and
// none of its conditions scopes aws:SourceAccount or aws:SourceArn. A
// condition scopes them when it is StringEquals, StringEqualsIgnoreCase,
// StringLike, ArnEquals or ArnLike (optionally ForAnyValue:, never
// IfExists, never ForAllValues: both pass when the key is absent) and
// none of its values has a wildcard in the account ID (aws:SourceAccount)
// or in the resource part of the ARN (aws:SourceArn; bucket names are
// global, so arn:aws:s3:*:*:name still names one bucket). Resources and
// other conditions are not considered.
func (p *Policy) UnscopedServiceAllows(service, action string) []string {
	if service == "" || action == "" {
		return nil
	}
	e := evaluator{req: &Request{Service: service, Action: action}, literal: p.Version != Version2012}
	var out []string
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != EffectAllow {
			continue
		}
		var pv verdict
		if st.NotPrincipal != nil {
			pv = e.principal(st.NotPrincipal).not()
		} else {
			pv = e.principal(st.Principal)
		}
		var av verdict
		if st.NotAction != nil {
			av = e.actions(st.NotAction).not()
		} else {
			av = e.actions(st.Action)
		}
		if pv.t == no || av.t == no || scopesSource(st.Conditions) {
			continue
		}
		out = append(out, st.Label())
	}
	return out
}

func scopesSource(conds []Condition) bool {
	for _, c := range conds {
		op, ok := parseOperator(c.Operator)
		if !ok || op.ifExists || op.negated || op.set == "ForAllValues" {
			continue
		}
		switch op.base {
		case "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike":
		default:
			continue
		}
		wild := op.base != "StringEquals" && op.base != "StringEqualsIgnoreCase"
		switch strings.ToLower(c.Key) {
		case "aws:sourceaccount":
			if !wild || !anyValue(c.Values, hasWildcard) {
				return true
			}
		case "aws:sourcearn":
			if !anyValue(c.Values, func(v string) bool {
				if strings.Contains(v, "${") {
					return true
				}
				if !wild {
					return false
				}
				parts, ok := splitARN(v)
				return !ok || hasWildcard(parts[5])
			}) {
				return true
			}
		}
	}
	return false
}

func anyValue(vals []string, f func(string) bool) bool {
	for _, v := range vals {
		if f(v) {
			return true
		}
	}
	return false
}
