package remediate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/base/strictjson"
)

// PlanVersion is the version of the saved plan's format.
const PlanVersion = 1

// MaxConfigsPerBucket is S3's limit of inventory configurations on one
// bucket: a create that would exceed it is manual.
const MaxConfigsPerBucket = 1000

// Plan is what a fix would change, computed from one scan's reads and the
// policy (NewPlan), printed for people (WriteText) and saved as JSON for
// apply, which re-reads each target and compares its digest with Read.
type Plan struct {
	Version      int       `json:"version"`
	ScanID       string    `json:"scan_id"`
	PolicyDigest string    `json:"policy_digest"` // rules.Policy.Digest of the policy that planned
	MadeAt       time.Time `json:"made_at"`
	// ConfigID is the Id of the managed configuration.
	ConfigID string   `json:"config_id"`
	Changes  []Change `json:"changes"`
	Manual   []Manual `json:"manual"`
	// NotOptedIn counts the open findings the policy does not let the plan
	// fix (a rule not in remediation.fix, or outside remediation.match).
	NotOptedIn int `json:"not_opted_in"`
}

// Kind is what a change does.
type Kind string

// The kinds of change.
const (
	// KindCreate puts the managed configuration on a bucket that has none
	// (PutBucketInventoryConfiguration of an Id the bucket lacks).
	KindCreate Kind = "create"
	// KindUpdate puts a configuration back with only its failing fields
	// changed: every other field is sent as read.
	KindUpdate Kind = "update"
	// KindDisable puts a configuration back with IsEnabled false.
	KindDisable Kind = "disable"
	// KindBucketPolicy merges the managed statement into a destination
	// bucket's policy (PutBucketPolicy).
	KindBucketPolicy Kind = "bucket-policy"
	// KindKeyPolicy merges the managed statement into a key policy
	// (PutKeyPolicy).
	KindKeyPolicy Kind = "key-policy"
)

// Change is one write of the plan, to one target: a configuration
// (Account, Region, Bucket, ConfigID) or a policy (the destination bucket
// or the key, in the Account that owns it).
type Change struct {
	Kind     Kind   `json:"kind"`
	Account  string `json:"account"` // the account the write goes to
	Region   string `json:"region"`
	Bucket   string `json:"bucket,omitempty"`
	ConfigID string `json:"config_id,omitempty"`
	KeyARN   string `json:"key_arn,omitempty"`
	// Rules are the rule IDs whose findings the change fixes.
	Rules []string `json:"rules"`
	// Automatic is true when every rule it fixes is one of the policy's
	// remediation.automatic: a scheduled run may apply it.
	Automatic bool `json:"automatic,omitempty"`
	// Read is the digest of the target as the plan read it
	// (ConfigDigest, PolicyDigest); apply refuses the change when the
	// target's digest differs.
	Read string `json:"read"`
	// Configs is how many configurations the bucket had (creates: apply
	// checks MaxConfigsPerBucket again).
	Configs int `json:"configs,omitempty"`
	// Before and After are the configuration as read (nil for a create)
	// and as it will be put.
	Before *inventory.Config `json:"before,omitempty"`
	After  *inventory.Config `json:"after,omitempty"`
	// PolicyBefore and PolicyAfter are the policy documents of a merge.
	PolicyBefore string `json:"policy_before,omitempty"`
	PolicyAfter  string `json:"policy_after,omitempty"`
	// Diff is the change field by field.
	Diff []FieldChange `json:"diff"`
}

// FieldChange is one field of a change: its API name and its values
// before and after ("" when absent).
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from,omitempty"`
	To    string `json:"to,omitempty"`
}

// Manual is a finding the plan does not fix, and why.
type Manual struct {
	Account  string `json:"account"`
	Region   string `json:"region,omitempty"`
	Bucket   string `json:"bucket,omitempty"`
	ConfigID string `json:"config_id,omitempty"`
	Rule     string `json:"rule"`
	Reason   string `json:"reason"`
}

// absent is what the digest of a configuration that does not exist
// covers.
const absent = "absent"

// ConfigDigest is the hex SHA-256 of the canonical form of a configuration
// as read (its JSON, fields in declaration order, optional fields in the
// order S3 returned them); nil, a configuration that does not exist.
func ConfigDigest(c *inventory.Config) string {
	if c == nil {
		return digest([]byte(absent))
	}
	b, _ := json.Marshal(c)
	return digest(b)
}

// PolicyDigest is the hex SHA-256 of a policy document exactly as read;
// "" (no policy) has the digest of absent.
func PolicyDigest(doc string) string {
	if doc == "" {
		return digest([]byte(absent))
	}
	return digest([]byte(doc))
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Totals counts a plan's changes by kind, and its manual items.
type Totals struct {
	Create, Update, Disable, BucketPolicy, KeyPolicy, Manual, NotOptedIn int
}

// Totals counts the plan.
func (p Plan) Totals() Totals {
	t := Totals{Manual: len(p.Manual), NotOptedIn: p.NotOptedIn}
	for _, c := range p.Changes {
		switch c.Kind {
		case KindCreate:
			t.Create++
		case KindUpdate:
			t.Update++
		case KindDisable:
			t.Disable++
		case KindBucketPolicy:
			t.BucketPolicy++
		case KindKeyPolicy:
			t.KeyPolicy++
		}
	}
	return t
}

// String is the plan's one-line total.
func (t Totals) String() string {
	return fmt.Sprintf("Plan: %d to create, %d to update, %d to disable, %d bucket policies and %d key policies to merge; %d manual; %d findings not opted in.",
		t.Create, t.Update, t.Disable, t.BucketPolicy, t.KeyPolicy, t.Manual, t.NotOptedIn)
}

// WriteJSON saves the plan, indented.
func (p Plan) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadPlan reads a saved plan strictly (unknown fields, keys given twice,
// trailing data are errors) and checks its version and digests' form.
func ReadPlan(raw []byte) (Plan, error) {
	var p Plan
	if err := strictjson.Decode(bytes.TrimSpace(raw), &p); err != nil {
		return Plan{}, fmt.Errorf("read plan: %w", err)
	}
	if p.Version != PlanVersion {
		return Plan{}, fmt.Errorf("read plan: version %d: want %d", p.Version, PlanVersion)
	}
	for i, c := range p.Changes {
		if len(c.Read) != sha256.Size*2 || strings.Trim(c.Read, "0123456789abcdef") != "" {
			return Plan{}, fmt.Errorf("read plan: changes[%d].read %q: want a hex SHA-256 digest", i, c.Read)
		}
		if !slices.Contains([]Kind{KindCreate, KindUpdate, KindDisable, KindBucketPolicy, KindKeyPolicy}, c.Kind) {
			return Plan{}, fmt.Errorf("read plan: changes[%d].kind %q: want create, update, disable, bucket-policy or key-policy", i, c.Kind)
		}
	}
	return p, nil
}
