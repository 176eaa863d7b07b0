package rules

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Remediation is the policy's remediation section (docs/policy.md,
// "remediation"): what a fix needs beyond the rules' own parameters. The
// rules' parameters say what a compliant configuration is (Policy.Desired);
// this says where the managed configuration delivers, which rules may be
// fixed and where. Its JSON form is the policy's (Policy.MarshalJSON).
type Remediation struct {
	// ConfigID is the Id of the configuration the fixer manages (default
	// org-inventory): at most 64 letters, digits, '-', '_' or '.'.
	ConfigID string `json:"config_id"`
	// Destinations are, per Region of the source buckets, where the
	// managed configuration delivers and the key that encrypts it.
	Destinations map[string]RemediationDestination `json:"destinations,omitempty"`
	// Fix are the rule IDs the plan may fix (none by default).
	Fix []string `json:"fix,omitempty"`
	// Automatic are the rules of Fix that scheduled runs fix themselves.
	Automatic []string `json:"automatic,omitempty"`
	// Unapproved says what to do with a configuration delivering to an
	// unapproved destination (INV-104, INV-105): UnapprovedReport (list it
	// as manual) or UnapprovedDisable.
	Unapproved string `json:"unapproved_destinations"`
	// Match limits the fixes to these OUs, accounts and buckets (every
	// criterion set must match, as in overrides); empty: everywhere.
	Match RemediationMatch `json:"match,omitzero"`
}

// RemediationMatch is the scope of the fixes, in the overrides' terms.
type RemediationMatch struct {
	OUs      []string `json:"ous,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Buckets  []string `json:"buckets,omitempty"`
}

// RemediationDestination is where the managed configuration of the
// buckets of one Region delivers.
type RemediationDestination struct {
	// Bucket is the destination bucket's plain ARN (arn:aws:s3:::name), in
	// the same Region.
	Bucket string `json:"bucket"`
	// Account owns the destination bucket (the configuration's AccountId).
	Account string `json:"account"`
	// Prefix is the destination prefix; "" for none.
	Prefix string `json:"prefix,omitempty"`
	// KMSKey is the SSE-KMS key ARN (key/ID) of the Region's reports.
	KMSKey string `json:"kms_key"`
}

// What Remediation.Unapproved may say.
const (
	UnapprovedReport  = "report"
	UnapprovedDisable = "disable"
)

// DefaultManagedConfigID is the managed configuration's Id unless the
// policy names another.
const DefaultManagedConfigID = "org-inventory"

// FixableRules are the rules the fixer knows how to fix (in a plan) and so
// the only IDs remediation.fix accepts.
var FixableRules = []string{
	"INV-001", "INV-002", "INV-003", "INV-101", "INV-102", "INV-103", "INV-104", "INV-105",
	"INV-106", "INV-107", "INV-108", "INV-109", "INV-111", "INV-112", "INV-113", "INV-115",
}

var (
	configIDRe    = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	regionRe      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	plainBucketRe = regexp.MustCompile(`^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	kmsKeyIDARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z]{2}(-[a-z]+)+-[0-9]+):[0-9]{12}:key/[A-Za-z0-9-]{1,128}$`)
)

// Remediation returns the policy's remediation section, with its defaults.
func (p *Policy) Remediation() Remediation {
	r := p.get().remediation
	r.Destinations = maps.Clone(r.Destinations)
	r.Fix, r.Automatic = slices.Clone(r.Fix), slices.Clone(r.Automatic)
	return r
}

// Fixes reports whether the policy lets the plan fix rule on the bucket
// of account a (bucket "" for the account itself).
func (r Remediation) Fixes(rule string, a inventory.Account, bucket string) bool {
	if !slices.Contains(r.Fix, rule) {
		return false
	}
	o := override{ous: r.Match.OUs, accounts: r.Match.Accounts, buckets: r.Match.Buckets}
	return o.matches(a, bucket)
}

// remediation converts the remediation section at n (key path p).
func (v *validator) remediation(n ast.Node, p []string) *Remediation {
	r := &Remediation{}
	values, _ := v.mapping(n, p, "want a mapping of config_id, destinations, fix, automatic, unapproved_destinations, match")
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		switch key {
		case "config_id":
			r.ConfigID, _ = v.str(mv.Value, kp)
		case "destinations":
			r.Destinations = v.remediationDestinations(mv.Value, kp)
		case "fix":
			r.Fix, _ = v.strs(mv.Value, kp)
		case "automatic":
			r.Automatic, _ = v.strs(mv.Value, kp)
		case "unapproved_destinations":
			r.Unapproved, _ = v.str(mv.Value, kp)
		case "match":
			m := v.match(mv.Value, kp)
			r.Match = RemediationMatch(m)
		default:
			v.failKey(kp, "unknown key: want one of config_id, destinations, fix, automatic, unapproved_destinations, match")
		}
	}
	return r
}

// remediationDestinations converts the destinations by Region.
func (v *validator) remediationDestinations(n ast.Node, p []string) map[string]RemediationDestination {
	values, _ := v.mapping(n, p, "want a mapping of Regions to a destination")
	out := make(map[string]RemediationDestination, len(values))
	for _, mv := range values {
		region := keyOf(mv)
		rp := at(p, region)
		var d RemediationDestination
		fields, _ := v.mapping(mv.Value, rp, "want a mapping of bucket, account, prefix, kms_key")
		v.stringFields(fields, rp, []stringField{
			{"bucket", &d.Bucket}, {"account", &d.Account}, {"prefix", &d.Prefix}, {"kms_key", &d.KMSKey},
		})
		out[region] = d
	}
	return out
}

// checkRemediation validates the section and fills in its defaults.
func (v *validator) checkRemediation(r *Remediation) Remediation {
	if r == nil {
		return Remediation{ConfigID: DefaultManagedConfigID, Unapproved: UnapprovedReport}
	}
	p := []string{"remediation"}
	out := *r
	if out.ConfigID == "" {
		out.ConfigID = DefaultManagedConfigID
	} else if !configIDRe.MatchString(out.ConfigID) {
		v.fail(at(p, "config_id"), out.ConfigID, "want at most 64 letters, digits, '-', '_' or '.'")
	}
	switch out.Unapproved {
	case "":
		out.Unapproved = UnapprovedReport
	case UnapprovedReport, UnapprovedDisable:
	default:
		v.fail(at(p, "unapproved_destinations"), out.Unapproved, "want report or disable")
	}
	for _, region := range slices.Sorted(maps.Keys(out.Destinations)) {
		v.checkRemediationDestination(region, out.Destinations[region], at(p, "destinations", region))
	}
	for i, id := range out.Fix {
		if !slices.Contains(FixableRules, id) {
			v.fail(at(p, "fix", strconv.Itoa(i)), id, "want a rule the fixer can fix: "+strings.Join(FixableRules, ", "))
		}
	}
	for i, id := range out.Automatic {
		if !slices.Contains(out.Fix, id) {
			v.fail(at(p, "automatic", strconv.Itoa(i)), id, "want a rule listed in remediation.fix")
		}
	}
	m := out.Match
	for j, ou := range m.OUs {
		if !ouIDRe.MatchString(ou) {
			v.fail(at(p, "match", "ous", strconv.Itoa(j)), ou, "want an OU ID (ou-xxxx-xxxxxxxx) or a root ID (r-xxxx)")
		}
	}
	v.accountIDs(m.Accounts, at(p, "match", "accounts"))
	v.globs(m.Buckets, at(p, "match", "buckets"), "a bucket-name glob")
	return out
}

// checkRemediationDestination validates one Region's destination.
func (v *validator) checkRemediationDestination(region string, d RemediationDestination, p []string) {
	if !regionRe.MatchString(region) {
		v.failKey(p, "want a Region name such as eu-west-1")
	}
	if !plainBucketRe.MatchString(d.Bucket) {
		v.fail(at(p, "bucket"), d.Bucket, "want a plain bucket ARN (arn:aws:s3:::name, no Region or account)")
	}
	if !accountIDRe.MatchString(d.Account) {
		v.fail(at(p, "account"), d.Account, "want the 12-digit ID of the account that owns the bucket")
	}
	if len(d.Prefix) > 512 || strings.HasPrefix(d.Prefix, "/") {
		v.fail(at(p, "prefix"), d.Prefix, "want a key prefix of at most 512 characters, not starting with /")
	}
	m := kmsKeyIDARNRe.FindStringSubmatch(d.KMSKey)
	switch {
	case m == nil:
		v.fail(at(p, "kms_key"), d.KMSKey, "want a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)")
	case m[1] != region:
		v.fail(at(p, "kms_key"), d.KMSKey, "want a key in "+region+": S3 encrypts a report with a key of the destination's Region")
	}
}
