package remediate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/iampolicy"
	"github.com/s3inv/scanner/internal/base/inventory"
)

const (
	destARN = "arn:aws:s3:::org-inventory-eu-west-1"
	// otherStatements are kept as read by every merge: an unrelated
	// allow, and a Deny of a bucket that is not a source.
	otherStatements = `{"Sid":"ReadOnlyAudit","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::org-inventory-eu-west-1/*"},` +
		`{"Sid":"NoEvil","Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::org-inventory-eu-west-1/*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::evil"}}}`
	keyAdmin = `{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}`
)

// mergeReads are n source buckets of the workload account delivering to
// the log archive's bucket (whose policy is bucketPolicy) with its key
// (whose policy is keyPolicy).
func mergeReads(n int, bucketPolicy, keyPolicy string) Reads {
	var bs []inventory.BucketResult
	var checks []inventory.DestinationCheck
	for i := range n {
		b := bucketWith(fmt.Sprintf("source-%04d-with-a-long-name-for-the-limit", i), good("daily"))
		bs = append(bs, b)
		checks = append(checks, inventory.DestinationCheck{Account: workload, Bucket: b.Bucket, Config: b.Configs[0], Owner: archive,
			Partition: "aws", OrgID: "o-abcd123456", Policy: &inventory.PolicyRead{Policy: bucketPolicy},
			Key:     &inventory.KeyRead{ARN: reportKey, State: "Enabled", Policy: keyPolicy},
			Reports: &inventory.ReportsRead{Newest: planNow.Add(-1e9), Since: planNow.Add(-72 * 3600e9)}})
	}
	r := readsOf(bs...)
	r.Org.ID, r.Checks = "o-abcd123456", checks
	return r
}

func policyDoc(sts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(sts, ",") + `]}`
}

func TestPlanMergesManagedStatements(t *testing.T) {
	p := policyWith(t, "", "  fix: [INV-111, INV-113]\n")
	plan := NewPlan(mergeReads(2, policyDoc(otherStatements), policyDoc(keyAdmin)), p, planNow)
	if tot := plan.Totals(); tot.BucketPolicy != 1 || tot.KeyPolicy != 1 || tot.Manual != 0 {
		t.Fatalf("plan: %s %+v", tot, plan.Manual)
	}
	for _, c := range plan.Changes {
		if c.Account != archive || c.Read != PolicyDigest(c.PolicyBefore) {
			t.Errorf("%s: account %s, read %s", c.Kind, c.Account, c.Read)
		}
		var doc struct{ Statement []json.RawMessage }
		if err := json.Unmarshal([]byte(c.PolicyAfter), &doc); err != nil {
			t.Fatal(err)
		}
		want := []string{"ReadOnlyAudit", "NoEvil", SidDelivery}
		arn := destARN
		if c.Kind == KindKeyPolicy {
			want, arn = []string{"Admin", SidEncryption}, reportKey
		}
		if len(doc.Statement) != len(want) {
			t.Fatalf("%s: statements %s", c.Kind, c.PolicyAfter)
		}
		for i, sid := range want[:len(want)-1] {
			if !strings.Contains(string(doc.Statement[i]), `"Sid":"`+sid+`"`) || !strings.Contains(c.PolicyBefore, string(doc.Statement[i])) {
				t.Errorf("%s: statement %s not kept as read: %s", c.Kind, sid, doc.Statement[i])
			}
		}
		managed := string(doc.Statement[len(doc.Statement)-1])
		if !strings.Contains(managed, "aws:SourceAccount") || !strings.Contains(managed, "aws:SourceArn") || strings.Contains(managed, "aws:SourceOrgID") {
			t.Errorf("%s: managed statement %s", c.Kind, managed)
		}
		// The evaluator agrees: each source may deliver, another may not.
		pol, err := iampolicy.Parse([]byte(c.PolicyAfter))
		if err != nil {
			t.Fatal(err)
		}
		for _, bucket := range []string{"source-0000-with-a-long-name-for-the-limit", "stranger"} {
			src := iampolicy.Source{Account: workload.ID, Bucket: bucket, ConfigID: "daily"}
			d, err := pol.InventoryDelivery(src, destARN, "")
			if c.Kind == KindKeyPolicy {
				d, err = pol.KMSGenerateDataKey(src, arn)
			}
			if allowed := err == nil && d.Outcome == iampolicy.Allow; allowed != (bucket != "stranger") {
				t.Errorf("%s: %s allowed %v (%v, %v)", c.Kind, bucket, allowed, d, err)
			}
		}
	}
	// Applied, the policies plan nothing more.
	var bucketAfter, keyAfter string
	for _, c := range plan.Changes {
		if c.Kind == KindKeyPolicy {
			keyAfter = c.PolicyAfter
		} else {
			bucketAfter = c.PolicyAfter
		}
	}
	if again := NewPlan(mergeReads(2, bucketAfter, keyAfter), p, planNow); len(again.Changes)+len(again.Manual) != 0 {
		t.Errorf("after the merge: %s", again.Totals())
	}
	// A merge is skipped when the policy as read already means the
	// merged one: an indented copy does, another policy does not.
	var v any
	_ = json.Unmarshal([]byte(bucketAfter), &v)
	indented, _ := json.MarshalIndent(v, "", "  ")
	if !sameMeaning(string(indented), bucketAfter) || sameMeaning(bucketAfter, policyDoc(otherStatements)) {
		t.Error("sameMeaning does not compare by meaning")
	}
}

func TestPlanMergeNeverOverridesADeny(t *testing.T) {
	deny := `{"Sid":"NoSource","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::org-inventory-eu-west-1/*","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::source-0001-with-a-long-name-for-the-limit"}}}`
	plan := NewPlan(mergeReads(2, policyDoc(otherStatements, deny), policyDoc(keyAdmin)), policyWith(t, "", "  fix: [INV-111]\n"), planNow)
	if tot := plan.Totals(); tot.BucketPolicy != 0 || tot.Manual != 2 {
		t.Fatalf("plan: %s", tot)
	}
	if !strings.Contains(plan.Manual[0].Reason, "denies source-0001") || !strings.Contains(plan.Manual[0].Reason, "never overrides a Deny") {
		t.Errorf("reason: %s", plan.Manual[0].Reason)
	}
}

// TestPlanMergeOverTheLimit: sources whose list would not fit in 20 KB
// are allowed by the organization when INV-112 is off, and are manual
// when it runs (aws:SourceOrgID alone does not scope for INV-112).
func TestPlanMergeOverTheLimit(t *testing.T) {
	reads := mergeReads(400, policyDoc(otherStatements), policyDoc(keyAdmin))
	plan := NewPlan(reads, policyWith(t, "", "  fix: [INV-111]\n"), planNow)
	if tot := plan.Totals(); tot.BucketPolicy != 0 || tot.Manual != 400 || !strings.Contains(plan.Manual[0].Reason, "lets S3 write unscoped") {
		t.Fatalf("INV-112 on: %s; %+v", tot, plan.Manual[0])
	}
	plan = NewPlan(reads, policyWith(t, "  INV-112: {enabled: false}\n", "  fix: [INV-111]\n"), planNow)
	if tot := plan.Totals(); tot.BucketPolicy != 1 {
		t.Fatalf("INV-112 off: %s; %+v", tot, plan.Manual)
	}
	after := plan.Changes[0].PolicyAfter
	if !strings.Contains(after, `"aws:SourceOrgID":["o-abcd123456"]`) || strings.Contains(after, "source-0001") || compactLen(after) > MaxBucketPolicySize {
		t.Errorf("merged policy (%d bytes): %.300s", compactLen(after), after)
	}
}

// TestPlanHostileInputs: what a member account controls cannot make the
// plan write over it or print raw control characters: a destination
// policy that is not JSON is never merged into, a configuration Id with an escape
// sequence is quoted in the text plan.
func TestPlanHostileInputs(t *testing.T) {
	plan := NewPlan(mergeReads(1, `{"Statement": [`, policyDoc(keyAdmin)), policyWith(t, "", "  fix: [INV-111]\n"), planNow)
	if len(plan.Changes) != 0 {
		t.Errorf("a policy that is not JSON: %s", plan.Totals())
	}
	if _, err := mergeStatement(`{"Statement": [`, map[string]any{"Sid": SidDelivery}); err == nil {
		t.Error("merged into a policy that is not JSON")
	}
	c := good("evil\x1b[2J")
	c.Frequency = "Weekly"
	plan = NewPlan(readsOf(bucketWith("b", c)), policyWith(t, "", "  fix: [INV-107]\n"), planNow)
	var out strings.Builder
	if err := plan.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(out.String(), '\x1b') || !strings.Contains(out.String(), `"evil\x1b[2J"`) {
		t.Errorf("text plan:\n%s", out.String())
	}
}

// TestPlanNeverMergesIntoAKeyThatIsNotEnabled: the finding of another
// account's key does not tell its state, the scan's read does: a key read
// Disabled gets no merge, its INV-113 is manual.
func TestPlanNeverMergesIntoAKeyThatIsNotEnabled(t *testing.T) {
	reads := mergeReads(1, policyDoc(otherStatements), policyDoc(keyAdmin))
	for i := range reads.Checks {
		reads.Checks[i].Key.State = "Disabled"
	}
	plan := NewPlan(reads, policyWith(t, "", "  fix: [INV-113]\n"), planNow)
	if tot := plan.Totals(); tot.KeyPolicy != 0 || tot.Manual == 0 {
		t.Fatalf("plan: %s %+v", tot, plan.Manual)
	}
	for _, m := range plan.Manual {
		if m.Rule == "INV-113" && strings.Contains(m.Reason, "is Disabled") && strings.Contains(m.Reason, "never changes a key's state") {
			return
		}
	}
	t.Errorf("manual items %+v; want INV-113: the key is Disabled", plan.Manual)
}
