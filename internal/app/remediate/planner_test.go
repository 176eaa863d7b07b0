package remediate

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

var (
	planNow   = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	workload  = inventory.Account{ID: "333333333333", OUID: "ou-abcd-11111111"}
	archive   = "222222222222"
	reportKey = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// policyWith is a policy requiring Daily Parquet reports of all versions
// with EncryptionStatus, delivering to the log archive, plus extra YAML
// (rules' settings go in rules:, the remediation keys after fix).
func policyWith(t *testing.T, rulesYAML, remediationYAML string) *rules.Policy {
	t.Helper()
	base := `  INV-105: {approved_buckets: ["arn:aws:s3:::org-inventory-*"]}
  INV-106: {formats: [Parquet]}
  INV-107: {frequency: Daily}
  INV-108: {versions: All}
  INV-109: {required_fields: [EncryptionStatus]}
`
	var kept []string
	for line := range strings.Lines(base) {
		if id := strings.Fields(line)[0]; !strings.Contains(rulesYAML, id) {
			kept = append(kept, line)
		}
	}
	doc := "version: 1\nrules:\n" + strings.Join(kept, "") + rulesYAML + `
remediation:
  destinations:
    eu-west-1:
      bucket: arn:aws:s3:::org-inventory-eu-west-1
      account: "222222222222"
      kms_key: ` + reportKey + `
` + remediationYAML
	p, err := rules.LoadPolicy([]byte(doc), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// good is a configuration that passes policyWith's rules.
func good(id string) inventory.Config {
	return inventory.Config{ID: id, Enabled: true, Frequency: "Daily", IncludedVersions: "All",
		OptionalFields: []string{"EncryptionStatus"},
		Destination: inventory.Destination{AccountID: archive, BucketARN: "arn:aws:s3:::org-inventory-eu-west-1",
			Format: "Parquet", Encryption: inventory.EncryptionSSEKMS, KMSKeyID: reportKey}}
}

func readsOf(buckets ...inventory.BucketResult) Reads {
	org := inventory.Org{FromOrganizations: true, Members: map[string]bool{workload.ID: true, archive: true}, Targets: []inventory.Account{workload}}
	return Reads{ScanID: "scan-1", Org: org, Buckets: buckets,
		Accounts: []inventory.AccountResult{{Account: workload, Status: inventory.AccountComplete}}}
}

func bucketWith(name string, cs ...inventory.Config) inventory.BucketResult {
	return inventory.BucketResult{Account: workload, Bucket: inventory.Bucket{Name: name, Region: "eu-west-1"}, Configs: cs}
}

// anyVersions lets a configuration include any versions, unknown values
// included.
const anyVersions = "  INV-108: {versions: Current}\n"

type planCase struct {
	name         string
	rules, rem   string
	bucket       inventory.BucketResult
	kinds        []Kind
	diff         []string // fields of the first change
	manual       []string // "RULE: reason substring"
	notOptedIn   int
	checks       bool // the scan read the configurations' destinations
	checkChanges func(t *testing.T, cs []Change)
}

// planCases are the planner's table: one bucket, one policy, the changes
// and manual items expected.
func planCases() []planCase {
	weird := good("weird")
	weird.Frequency, weird.Destination.Format = "Weekly", "CSV"
	weird.IncludedVersions = "AllAndDeleteMarkers" // an enum value newer than this build
	weird.OptionalFields = []string{"EncryptionStatus", "FutureField"}
	weird.Destination.Prefix = "keep/me"
	many := make([]inventory.Config, MaxConfigsPerBucket)
	for i := range many {
		many[i] = good(fmt.Sprintf("c%04d", i))
		many[i].FilterPrefix = "p/"
	}
	partner := good("partner")
	partner.Destination.AccountID, partner.Destination.BucketARN = "999999999999", "arn:aws:s3:::partner-bucket"
	managedOff := good(rules.DefaultManagedConfigID)
	managedOff.Enabled = false
	noAccount := good("no-account")
	noAccount.Destination.AccountID, noAccount.Destination.BucketARN = "", "arn:aws:s3:::org-inventory-other"
	sse := good("sse-s3")
	sse.Destination.Encryption, sse.Destination.KMSKeyID = inventory.EncryptionSSES3, ""
	return []planCase{
		{name: "create where none", rem: "  fix: [INV-001]\n", bucket: bucketWith("b"), kinds: []Kind{KindCreate},
			diff: []string{"IsEnabled", "Schedule.Frequency", "IncludedObjectVersions", "OptionalFields", "Destination.AccountId",
				"Destination.Bucket", "Destination.Format", "Destination.Encryption", "Destination.Encryption.KeyId"}},
		{name: "update only the failing fields, the rest as read", rules: anyVersions, rem: "  fix: [INV-106, INV-107]\n", bucket: bucketWith("b", weird),
			kinds: []Kind{KindUpdate}, diff: []string{"Schedule.Frequency", "Destination.Format"},
			checkChanges: func(t *testing.T, cs []Change) {
				a := cs[0].After
				if a.IncludedVersions != "AllAndDeleteMarkers" || !slices.Equal(a.OptionalFields, []string{"EncryptionStatus", "FutureField"}) || a.Destination.Prefix != "keep/me" {
					t.Errorf("fields not sent back as read: %+v", a)
				}
				if cs[0].Read != ConfigDigest(&weird) {
					t.Error("read digest is not the configuration's as read")
				}
			}},
		{name: "not opted in", rules: anyVersions, bucket: bucketWith("b", weird), notOptedIn: 2},
		{name: "outside the match", rules: anyVersions, rem: "  fix: [INV-106, INV-107]\n  match: {accounts: [\"444444444444\"]}\n", bucket: bucketWith("b", weird), notOptedIn: 2},
		{name: "bucket limit", rem: "  fix: [INV-003]\n", bucket: bucketWith("full", many...), manual: []string{"INV-003: the bucket has 1000 configurations"}},
		{name: "no destination in the Region", rem: "  fix: [INV-001]\n",
			bucket: inventory.BucketResult{Account: workload, Bucket: inventory.Bucket{Name: "us", Region: "us-east-1"}},
			manual: []string{"INV-001: remediation.destinations has no entry for us-east-1"}},
		{name: "unapproved reported", rem: "  fix: [INV-104, INV-105]\n", bucket: bucketWith("b", good("ok"), partner),
			manual: []string{"INV-104: the configuration delivers to an unapproved destination", "INV-105: the configuration delivers"}},
		{name: "unapproved disabled, never deleted", rem: "  fix: [INV-001, INV-002, INV-104, INV-105]\n  unapproved_destinations: disable\n",
			bucket: bucketWith("b", partner), kinds: []Kind{KindCreate, KindDisable},
			checkChanges: func(t *testing.T, cs []Change) {
				if cs[0].Rules[0] != "INV-002" || cs[1].After.ID != "partner" || cs[1].After.Destination != partner.Destination {
					t.Errorf("changes: %+v", cs)
				}
			}},
		{name: "managed Id disabled", rem: "  fix: [INV-002]\n", bucket: bucketWith("b", managedOff),
			manual: []string{"INV-002: the bucket has a configuration with the managed Id org-inventory"}},
		{name: "owner unknown", rem: "  fix: [INV-103]\n", bucket: bucketWith("b", noAccount),
			manual: []string{"INV-103: the owner of arn:aws:s3:::org-inventory-other is not known"}},
		{name: "a fix that would fail another rule", rules: "  INV-102: {approved_kms_keys: [\"arn:aws:kms:eu-west-1:222222222222:key/other\"]}\n",
			rem: "  fix: [INV-101]\n", bucket: bucketWith("b", sse), manual: []string{"INV-101: the fix would still fail INV-102"}},
		{name: "sensitive fields removed", rem: "  fix: [INV-115]\n",
			bucket: bucketWith("b", func() inventory.Config {
				c := good("acl")
				c.OptionalFields = append(c.OptionalFields, "ObjectOwner")
				return c
			}()),
			kinds: []Kind{KindUpdate}, diff: []string{"OptionalFields"}, checks: true, notOptedIn: 1}, // INV-111: the bucket has no policy
		{name: "required and sensitive", rules: "  INV-109: {required_fields: [ObjectOwner]}\n", rem: "  fix: [INV-109]\n",
			bucket: bucketWith("b", func() inventory.Config { c := good("x"); c.OptionalFields = nil; return c }()),
			manual: []string{"INV-109: the fix would still fail INV-115"}},
		{name: "unreadable bucket: nothing created", rem: "  fix: [INV-001]\n",
			bucket: inventory.BucketResult{Account: workload, Bucket: inventory.Bucket{Name: "b", Region: "eu-west-1"},
				Failure: &inventory.Failure{Code: "AccessDenied", Message: "denied"}},
			manual: []string{"SCAN-003: the scan could not read it"}},
	}
}

func TestPlanTable(t *testing.T) {
	for _, c := range planCases() {
		t.Run(c.name, func(t *testing.T) {
			p := policyWith(t, c.rules, c.rem)
			r := readsOf(c.bucket)
			if c.checks {
				for _, cf := range c.bucket.Configs {
					r.Checks = append(r.Checks, inventory.DestinationCheck{Account: workload, Bucket: c.bucket.Bucket, Config: cf, Owner: archive,
						Policy: &inventory.PolicyRead{}, Reports: &inventory.ReportsRead{Newest: planNow.Add(-time.Hour), Since: planNow.Add(-72 * time.Hour)}})
				}
			}
			plan := NewPlan(r, p, planNow)
			var kinds []Kind
			for _, ch := range plan.Changes {
				kinds = append(kinds, ch.Kind)
			}
			if !slices.Equal(kinds, c.kinds) {
				t.Fatalf("changes %v; want %v\nmanual: %+v", kinds, c.kinds, plan.Manual)
			}
			if c.diff != nil {
				var fields []string
				for _, d := range plan.Changes[0].Diff {
					fields = append(fields, d.Field)
				}
				if !slices.Equal(fields, c.diff) {
					t.Errorf("diff %v; want %v", fields, c.diff)
				}
			}
			if len(plan.Manual) != len(c.manual) {
				t.Errorf("manual %+v; want %d items", plan.Manual, len(c.manual))
			}
			for i, m := range plan.Manual {
				if i < len(c.manual) && !strings.HasPrefix(m.Rule+": "+m.Reason, c.manual[i]) {
					t.Errorf("manual %d: %s: %s; want %q", i, m.Rule, m.Reason, c.manual[i])
				}
			}
			if plan.NotOptedIn != c.notOptedIn {
				fs := rules.NewEvaluator(p, r.Org).Bucket(c.bucket, "s", planNow)
				ds, _ := rules.NewEvaluator(p, r.Org).Destinations(r.Checks, "s", planNow)
				for _, f := range append(fs, ds...) {
					t.Logf("finding %s %s", f.RuleID, f.Message)
				}
				t.Errorf("not opted in %d; want %d", plan.NotOptedIn, c.notOptedIn)
			}
			if c.checkChanges != nil {
				c.checkChanges(t, plan.Changes)
			}
		})
	}
}

// TestPlanIsPure: the same reads and policy give the same plan, and the
// plan changes nothing in the reads it was given.
func TestPlanIsPure(t *testing.T) {
	c := good("weird")
	c.Frequency = "Weekly"
	b := bucketWith("b", c)
	p := policyWith(t, "", "  fix: [INV-107]\n")
	r := readsOf(b)
	first, second := NewPlan(r, p, planNow), NewPlan(r, p, planNow)
	if !reflect.DeepEqual(first, second) {
		t.Error("two plans of the same reads differ")
	}
	if r.Buckets[0].Configs[0].Frequency != "Weekly" {
		t.Error("the planner changed its input")
	}
}
