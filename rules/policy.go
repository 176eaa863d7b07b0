package rules

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

//go:embed default-policy.yaml
var defaultPolicyYAML []byte

// defaultPolicySource names the embedded default policy in errors.
const defaultPolicySource = "default-policy.yaml"

// Policy configures the rules: which are enabled, their severities and
// parameters, per-scope overrides and waivers. A Policy comes from
// DefaultPolicy, LoadPolicy or LoadPolicyFile, is valid by construction and
// immutable, so one Policy can serve many evaluators at once. The zero
// Policy behaves as DefaultPolicy.
type Policy struct {
	source    string
	doc       policyOut  // the normalised document (MarshalJSON)
	base      []settings // per rule, indexed like catalogue()
	overrides []override // in precedence order: least specific first
	waivers   []Waiver
	warnings  []string
	// remediation is the remediation section, defaults filled in.
	remediation Remediation
	// findingsPerBucket is limits.findings_per_bucket.
	findingsPerBucket int
}

// Waiver turns the findings of one rule on some accounts and buckets to
// WAIVED until its expiry date.
type Waiver struct {
	// Rule is the rule ID the waiver applies to.
	Rule string `json:"rule"`
	// Account is an account ID, or "*" for every account.
	Account string `json:"account"`
	// Bucket is a path.Match glob on bucket names; "" or "*" matches every
	// bucket and account-level findings as well.
	Bucket string `json:"bucket,omitempty"`
	// Reason says why, for the people who read the finding.
	Reason string `json:"reason"`
	// Expires is the last day (UTC, YYYY-MM-DD) the waiver applies.
	Expires string `json:"expires"`
}

// override is one compiled overrides entry.
type override struct {
	name     string
	ous      []string
	accounts []string
	buckets  []string
	rules    map[int]*ruleEntry // catalogue index → normalised settings
}

var defaultPolicy = sync.OnceValue(func() *Policy {
	p, err := LoadPolicy(defaultPolicyYAML, defaultPolicySource)
	if err != nil {
		// TestDefaultPolicy makes this unreachable; fall back to the
		// registry's defaults rather than fail the scan.
		p, _ = compile(policyDoc{}, defaultPolicySource)
	}
	return p
})

// DefaultPolicy returns the built-in policy (rules/default-policy.yaml):
// SSE-KMS and AccountId required; any key, destination bucket, format,
// schedule and versions; destination accounts inside the organization; no
// required optional fields; full-bucket coverage required.
func DefaultPolicy() *Policy { return defaultPolicy() }

// LoadPolicy parses and validates a policy document, YAML or JSON. source
// names the input in errors (a file path, "SCANNER_POLICY"). The error is
// one line naming the source, the line (YAML), the key path, the value and
// what was expected; its type is *PolicyError.
func LoadPolicy(data []byte, source string) (p *Policy, err error) {
	defer func() {
		// The YAML library is not ours: a panic on hostile input becomes an
		// error, never a crash of the scan.
		if r := recover(); r != nil {
			p, err = nil, &PolicyError{Source: source, Msg: fmt.Sprintf("unreadable document (%v)", r)}
		}
	}()
	if len(data) > maxPolicySize {
		return nil, &PolicyError{Source: source, Msg: fmt.Sprintf("document is %d bytes: want at most %d", len(data), maxPolicySize)}
	}
	doc, file, err := decode(data, source)
	if err != nil {
		return nil, err
	}
	return compileChecked(doc, file, source)
}

// ExpiredWaivers returns the waivers that no longer apply at now (their
// expiry date is before now's UTC date), so a caller can warn about them.
func (p *Policy) ExpiredWaivers(now time.Time) []Waiver {
	var out []Waiver
	for _, w := range p.get().waivers {
		if !w.activeAt(now) {
			out = append(out, w)
		}
	}
	return out
}

// Warnings lists what the policy accepts but the scanner does not know,
// such as optional field names newer than this build; one line each.
func (p *Policy) Warnings() []string { return slices.Clone(p.get().warnings) }

// Notices are the policy's warnings and the waivers that have expired at
// now, one line each, for the caller to log or print before a scan.
func (p *Policy) Notices(now time.Time) []string {
	out := p.Warnings()
	for _, w := range p.ExpiredWaivers(now) {
		out = append(out, fmt.Sprintf("the waiver of %s for account %s, buckets %q, expired on %s: its findings are open again",
			w.Rule, w.Account, w.Bucket, w.Expires))
	}
	return out
}

// MarshalJSON returns the normalised document: canonical spellings, the
// same meaning as the input. LoadPolicy accepts it back.
func (p *Policy) MarshalJSON() ([]byte, error) { return json.Marshal(p.get().doc) }

// Digest is the hex SHA-256 of the normalised document (MarshalJSON): two
// policies with the same meaning have the same digest. A saved plan
// records it, so that a plan made under another policy is refused.
func (p *Policy) Digest() string {
	b, _ := p.MarshalJSON()
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// get returns p, or the default policy for a nil or zero Policy.
func (p *Policy) get() *Policy {
	if p == nil || p.base == nil {
		return DefaultPolicy()
	}
	return p
}

// matching appends to dst the overrides that apply to a bucket of an
// account (bucket "" for account-level findings), least specific first.
func (p *Policy) matching(dst []*override, a inventory.Account, bucket string) []*override {
	for i := range p.overrides {
		if o := &p.overrides[i]; o.matches(a, bucket) {
			dst = append(dst, o)
		}
	}
	return dst
}

// ruleSettings returns the effective settings of rule i under the
// overrides that apply (see matching). Its parameters are resolved when the
// check reads them.
func (p *Policy) ruleSettings(i int, matched []*override) settings {
	s := p.base[i]
	s.matched = matched
	for _, o := range matched {
		if e := o.rules[i]; e != nil {
			if e.enabled != nil {
				s.enabled = *e.enabled
			}
			if e.severity != 0 {
				s.severity = e.severity
			}
		}
	}
	return s
}

// matches reports whether the override applies to the bucket of the
// account: every criterion it sets must match (a bucket criterion never
// matches account-level findings).
func (o *override) matches(a inventory.Account, bucket string) bool {
	if len(o.ous) > 0 && (a.OUID == "" || !slices.Contains(o.ous, a.OUID)) {
		return false
	}
	if len(o.accounts) > 0 && !slices.Contains(o.accounts, a.ID) {
		return false
	}
	if len(o.buckets) > 0 {
		if bucket == "" || !matchAny(o.buckets, bucket) {
			return false
		}
	}
	return true
}

// matchAny reports whether name matches one of the path.Match globs.
func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// waiverFor returns the first waiver, in document order, that applies to
// the finding of rule on the bucket of account (bucket "" for
// account-level findings) at now.
func (p *Policy) waiverFor(rule, account, bucket string, now time.Time) *Waiver {
	for i := range p.waivers {
		w := &p.waivers[i]
		if w.Rule != rule || (w.Account != "*" && w.Account != account) || !w.activeAt(now) {
			continue
		}
		if w.Bucket == "" || w.Bucket == "*" {
			return w
		}
		if bucket == "" {
			continue
		}
		if ok, _ := path.Match(w.Bucket, bucket); ok {
			return w
		}
	}
	return nil
}

// activeAt reports whether the waiver still applies at now: now's UTC date
// is on or before the expiry date.
func (w Waiver) activeAt(now time.Time) bool {
	return now.UTC().Format(time.DateOnly) <= w.Expires
}
