package rules

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

const (
	testAccount = "111111111111"
	otherAcct   = "222222222222"
	centralAcct = "999999999999"
	testKey     = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// localKey is a key of the source account, testAccount.
	localKey = "arn:aws:kms:us-east-1:111111111111:key/0000abcd-12ab-34cd-56ef-1234567890ab"
)

var testAcct = inventory.Account{ID: testAccount, Name: "prod", OUID: "ou-abcd-11111111", State: "ACTIVE"}

// goodConfig is a configuration that passes every rule of a strict policy.
func goodConfig(id string) inventory.Config {
	return inventory.Config{
		ID: id, Enabled: true, Frequency: "Daily", IncludedVersions: "All",
		OptionalFields: []string{"Size", "EncryptionStatus", "ReplicationStatus"},
		Destination: inventory.Destination{
			AccountID: centralAcct, BucketARN: "arn:aws:s3:::central-inventory-us-east-1",
			Format: "Parquet", Encryption: inventory.EncryptionSSEKMS, KMSKeyID: testKey,
		},
	}
}

// with returns c changed by f.
func with(c inventory.Config, f func(*inventory.Config)) inventory.Config { f(&c); return c }

func bucketWith(configs ...inventory.Config) inventory.BucketResult {
	return inventory.BucketResult{Account: testAcct, Bucket: inventory.Bucket{Name: "data", Region: "us-east-1"}, Configs: configs}
}

// ruleCase is one case of a rule's table test. For configuration rules
// config is the configuration evaluated (in a bucket holding only it).
type ruleCase struct {
	name    string
	bucket  *inventory.BucketResult
	config  *inventory.Config
	account *inventory.AccountResult
	set     func(*settings) // changes the default policy's settings
	org     *orgView
	// dest is the destination check of a destination rule; its Config is
	// the configuration evaluated. now is the evaluation time (default
	// testNow).
	dest     *inventory.DestinationCheck
	now      time.Time
	gap      string // for unverifiable: the gap's code
	gaps     *destinationGap
	want     verdict
	message  string            // a substring the message must hold
	evidence map[string]string // entries the evidence must hold
	// absent are strings neither the message nor the evidence (keys
	// and values) of a failure may hold.
	absent []string
}

func ptr[T any](v T) *T { return &v }

// setParam returns a change of settings that sets parameter p to v.
func setParam[T paramValue](p *param[T], v T) func(*settings) {
	return func(s *settings) { s.params[p.index] = v }
}

// settingsFor returns the effective settings of rule i (an index into
// catalogue()) for a bucket of an account (bucket "" for account-level
// findings).
func (p *Policy) settingsFor(i int, a inventory.Account, bucket string) settings {
	return p.ruleSettings(i, p.matching(nil, a, bucket))
}

// runRuleCases runs the check of rule id on each case.
func runRuleCases(t *testing.T, id string, cases []ruleCase) {
	t.Helper()
	i := index(id)
	if i < 0 {
		t.Fatalf("rule %s not registered", id)
	}
	r := catalogue()[i]
	seen := map[verdict]bool{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := DefaultPolicy().base[i]
			st.params = slices.Clone(st.params)
			if c.set != nil {
				c.set(&st)
			}
			s := subject{settings: st, org: c.org, account: c.account, bucket: c.bucket}
			if s.org == nil {
				s.org = &orgView{}
			}
			if c.config != nil {
				b := bucketWith(*c.config)
				s.bucket, s.config = &b, &b.Configs[0]
			}
			if c.dest != nil {
				d := *c.dest
				s.dest, s.config = &d, &d.Config
				s.bucket = &inventory.BucketResult{Account: d.Account, Bucket: d.Bucket}
			}
			s.gaps = c.gaps
			s.now = c.now
			if s.now.IsZero() {
				s.now = testNow
			}
			got := r.check(s)
			if got.verdict != c.want {
				t.Fatalf("verdict %v, want %v (message %q)", got.verdict, c.want, got.message)
			}
			if c.want == unverifiable {
				if got.gap == nil || got.gap.code != c.gap {
					t.Errorf("gap %+v, want code %q", got.gap, c.gap)
				}
			}
			if c.want != fail {
				if got.message != "" || got.evidence != nil {
					t.Errorf("non-failure carries message %q evidence %v", got.message, got.evidence)
				}
				return
			}
			if got.message == "" || !strings.Contains(got.message, c.message) {
				t.Errorf("message %q, want it to contain %q", got.message, c.message)
			}
			for k, v := range c.evidence {
				if got.evidence[k] != v {
					t.Errorf("evidence[%s] = %q, want %q (all: %v)", k, got.evidence[k], v, got.evidence)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(got.message, a) {
					t.Errorf("message %q holds %q", got.message, a)
				}
				for k, v := range got.evidence {
					if strings.Contains(k, a) || strings.Contains(v, a) {
						t.Errorf("evidence %s=%q holds %q", k, v, a)
					}
				}
			}
		})
		seen[c.want] = true
	}
	if !seen[pass] || !seen[fail] {
		t.Errorf("the table test of %s needs pass and fail cases", id)
	}
}

func (v verdict) String() string {
	return [...]string{"pass", "fail", "not applicable", "unverifiable"}[v]
}
