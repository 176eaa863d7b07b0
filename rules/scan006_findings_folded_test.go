package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// floodPolicy keeps 10 findings a bucket and makes a Weekly configuration
// fail INV-107 (LOW), an approved destination account list INV-104.
const floodPolicy = `
limits: {findings_per_bucket: 10}
rules:
  INV-104: {approved_accounts: ["999999999999"]}
  INV-107: {frequency: Daily}
`

// floodBucket is a bucket of n configurations c-00…, each failing INV-101
// and INV-103 (HIGH) and INV-107 (LOW); the configurations named in
// critical name an unapproved account instead of none, so they fail
// INV-104 (CRITICAL) and not INV-103.
func floodBucket(n int, critical ...string) inventory.BucketResult {
	var cs []inventory.Config
	for i := range n {
		c := with(goodConfig(fmt.Sprintf("c-%02d", i)), func(c *inventory.Config) {
			c.Frequency = "Weekly"
			c.Destination.Encryption, c.Destination.KMSKeyID, c.Destination.AccountID = inventory.EncryptionNone, "", ""
		})
		if slices.Contains(critical, c.ID) {
			c.Destination.AccountID = "123456789012"
		}
		cs = append(cs, c)
	}
	return bucketWith(cs...)
}

func TestFindingsFoldedKeepsTheWorst(t *testing.T) {
	e := NewEvaluator(mustLoad(t, floodPolicy), testOrg)
	fs := e.Bucket(floodBucket(30, "c-25"), "scan-1", testNow)
	want := []string{"c-00/INV-101", "c-00/INV-103", "c-01/INV-101", "c-01/INV-103", "c-02/INV-101", "c-02/INV-103",
		"c-03/INV-101", "c-03/INV-103", "c-04/INV-101", "c-25/INV-104", "SCAN-006"}
	if got := ruleIDs(fs); !slices.Equal(got, want) {
		t.Fatalf("findings %v\nwant %v", got, want)
	}
	f := fs[len(fs)-1]
	if f.Severity != SeverityHigh || f.Bucket != "data" || f.ConfigID != "" || f.Status != StatusOpen ||
		f.FindingID != FindingID(testAccount, "data", foldConfigs, "SCAN-006") {
		t.Errorf("the folded finding %+v", f)
	}
	for k, v := range map[string]string{"folded_findings": "80", "folded_configurations": "30", "by_severity": "HIGH:50,LOW:30",
		"by_rule": "INV-101:25,INV-103:25,INV-107:30", "limit": "10", "of": "configurations", "worst": `INV-103 on configuration "c-04"`} {
		if f.Evidence[k] != v {
			t.Errorf("evidence %s = %q, want %q (%v)", k, f.Evidence[k], v, f.Evidence)
		}
	}
	if !strings.Contains(f.Message, "bucket data has 80 more findings of its configurations than the policy itemizes") {
		t.Errorf("message %q", f.Message)
	}

	// Fifteen CRITICAL findings, ten kept: the folded finding is CRITICAL.
	var crit []string
	for i := range 15 {
		crit = append(crit, fmt.Sprintf("c-%02d", 2*i))
	}
	fs = e.Bucket(floodBucket(30, crit...), "scan-1", testNow)
	if f := fs[len(fs)-1]; len(fs) != 11 || f.RuleID != "SCAN-006" || f.Severity != SeverityCritical || f.Evidence["by_severity"] != "CRITICAL:5,HIGH:45,LOW:30" {
		t.Errorf("fifteen CRITICAL: %v, folded %+v", ruleIDs(fs), f)
	}
	for _, k := range fs[:10] {
		if k.Severity != SeverityCritical {
			t.Errorf("kept %s/%s (%s) while CRITICAL findings were folded", k.ConfigID, k.RuleID, k.Severity)
		}
	}
}

// TestFindingsFoldedIsDeterministic: the same bucket, its configurations
// listed in any order, gives the same findings, and the folded finding
// keeps its key whatever it stands for.
func TestFindingsFoldedIsDeterministic(t *testing.T) {
	e := NewEvaluator(mustLoad(t, floodPolicy), testOrg)
	b := floodBucket(50, "c-07", "c-33")
	first := e.Bucket(b, "scan-1", testNow)
	for range 5 {
		shuffled := b
		shuffled.Configs = slices.Clone(b.Configs)
		rand.Shuffle(len(shuffled.Configs), func(i, j int) { shuffled.Configs[i], shuffled.Configs[j] = shuffled.Configs[j], shuffled.Configs[i] })
		again := e.Bucket(shuffled, "scan-2", testNow)
		if !slices.EqualFunc(first, again, func(a, b Finding) bool { return a.FindingID == b.FindingID && a.Message == b.Message }) {
			t.Fatalf("shuffled configurations: %v\nwant %v", ruleIDs(again), ruleIDs(first))
		}
	}
	fewer := e.Bucket(floodBucket(12), "scan-3", testNow)
	if f := fewer[len(fewer)-1]; f.RuleID != "SCAN-006" || f.FindingID != first[len(first)-1].FindingID || f.Evidence["folded_findings"] != "26" {
		t.Errorf("twelve configurations: %+v; want the same SCAN-006 item, standing for 26", f)
	}
}

func TestFindingsFoldedUnderTheLimit(t *testing.T) {
	e := NewEvaluator(mustLoad(t, floodPolicy), testOrg)
	if fs := e.Bucket(floodBucket(3), "scan-1", testNow); len(fs) != 9 || slices.Contains(ruleIDs(fs), "SCAN-006") {
		t.Errorf("nine findings, limit ten: %v", ruleIDs(fs))
	}
	if fs := NewEvaluator(nil, testOrg).Bucket(floodBucket(50), "scan-1", testNow); len(fs) != 100 || slices.Contains(ruleIDs(fs), "SCAN-006") {
		t.Errorf("the default limit (100), 100 findings: %d, %v", len(fs), slices.Contains(ruleIDs(fs), "SCAN-006"))
	}
	if fs := NewEvaluator(nil, testOrg).Bucket(floodBucket(51), "scan-1", testNow); len(fs) != 101 || fs[100].Evidence["folded_findings"] != "2" {
		t.Errorf("the default limit (100), 102 findings: %d", len(fs))
	}
	one := mustLoad(t, "limits: {findings_per_bucket: 1}\nrules: {INV-104: {approved_accounts: [\"999999999999\"]}}")
	fs := NewEvaluator(one, testOrg).Bucket(floodBucket(1000, "c-999"), "scan-1", testNow)
	if got := ruleIDs(fs); !slices.Equal(got, []string{"c-999/INV-104", "SCAN-006"}) || fs[1].Evidence["folded_findings"] != "1999" ||
		fs[1].Evidence["folded_configurations"] != "1000" || fs[1].Severity != SeverityHigh {
		t.Errorf("limit 1 over 1,000 configurations: %v %v", got, fs[len(fs)-1].Evidence)
	}
}

// TestFindingsFoldedOpenBeforeWaived: of findings as severe, the open
// ones are kept before the waived; a waiver of SCAN-006 waives the
// folded finding, whose severity stays the worst.
func TestFindingsFoldedOpenBeforeWaived(t *testing.T) {
	p := mustLoad(t, floodPolicy+`
waivers:
  - {rule: INV-101, account: "*", reason: "accepted", expires: 2099-01-01}
  - {rule: SCAN-006, account: "111111111111", bucket: data, reason: "known noisy bucket", expires: 2099-01-01}
`)
	fs := NewEvaluator(p, testOrg).Bucket(floodBucket(30), "scan-1", testNow)
	for _, f := range fs[:10] {
		if f.RuleID != "INV-103" || f.Status != StatusOpen {
			t.Errorf("kept %s/%s %s; want the open INV-103 findings first", f.ConfigID, f.RuleID, f.Status)
		}
	}
	if f := fs[10]; f.RuleID != "SCAN-006" || f.Status != StatusWaived || f.Severity != SeverityHigh || f.Evidence["folded_waived"] != "30" {
		t.Errorf("the folded finding %+v", f)
	}
}

// TestFindingsFoldedDestinations: a bucket's destination findings are
// kept and folded by the same limit, into a SCAN-006 finding of their own
// that AboutDestinations names, so an unverified bucket keeps it.
func TestFindingsFoldedDestinations(t *testing.T) {
	e := NewEvaluator(mustLoad(t, floodPolicy), testOrg)
	var ds []inventory.DestinationCheck
	for i := range 40 {
		d := goodDest(fmt.Sprintf("c-%02d", i))
		d.Reports.Newest = testNow.Add(-10 * 24 * time.Hour) // INV-114, MEDIUM
		if i == 37 {
			d.Key.State = "Disabled" // INV-113, HIGH
		}
		ds = append(ds, d)
	}
	other := goodDest("x")
	other.Bucket.Name = "logs"
	other.Key.State = "Disabled"
	fs, _ := e.Destinations(append(ds, other), "scan-1", testNow)
	got := ruleIDs(fs)
	if len(fs) != 13 || got[9] != "c-37/INV-113" || got[10] != "SCAN-006" || got[11] != "x/INV-111" || got[12] != "x/INV-113" {
		t.Fatalf("findings %v", got)
	}
	f := fs[10]
	if f.Severity != SeverityMedium || f.Evidence["folded_findings"] != "31" || f.Evidence["of"] != "destinations" ||
		f.FindingID != FindingID(testAccount, "data", foldDestinations, "SCAN-006") {
		t.Errorf("the folded finding %+v", f)
	}
	if !AboutDestinations(f) || !AboutDestinations(fs[9]) {
		t.Error("AboutDestinations: false for a destination finding or their fold")
	}
	configFold := e.Bucket(floodBucket(30), "scan-1", testNow)
	if f := configFold[len(configFold)-1]; AboutDestinations(f) || AboutDestinations(configFold[0]) {
		t.Errorf("AboutDestinations: true for %s or %s", f.RuleID, configFold[0].RuleID)
	}
}

// TestFindingsFoldedSeverityText: catalogues show SCAN-006's severity as
// the worst folded, every other rule's by name.
func TestFindingsFoldedSeverityText(t *testing.T) {
	fold, _ := Lookup("SCAN-006")
	other, _ := Lookup("INV-104")
	if fold.SeverityText() != "the worst folded" || other.SeverityText() != "CRITICAL" {
		t.Errorf("SeverityText: %q, %q", fold.SeverityText(), other.SeverityText())
	}
	if fold.Kind != KindCoverage || fold.Level != LevelBucket {
		t.Errorf("SCAN-006: kind %s, level %s; want coverage, bucket", fold.Kind, fold.Level)
	}
}
