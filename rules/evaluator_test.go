package rules

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/s3inv/scanner/internal/base/inventory"
)

var testNow = time.Date(2027, 1, 15, 6, 0, 0, 0, time.UTC)

const strictPolicy = `
rules:
  INV-102: {approved_kms_keys: ["` + testKey + `"]}
  INV-104: {approved_accounts: ["999999999999"]}
  INV-105: {approved_buckets: ["arn:aws:s3:::central-inventory-*"]}
  INV-106: {formats: [Parquet]}
  INV-107: {frequency: Daily}
  INV-108: {versions: All}
  INV-109: {required_fields: [EncryptionStatus, Size]}
`

var testOrg = inventory.Org{FromOrganizations: true, Members: map[string]bool{testAccount: true, centralAcct: true}, Targets: []inventory.Account{testAcct}}

func ruleIDs(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		id := f.RuleID
		if f.ConfigID != "" {
			id = f.ConfigID + "/" + id
		}
		ids = append(ids, id)
	}
	return ids
}

func TestEvaluatorBucket(t *testing.T) {
	e := NewEvaluator(mustLoad(t, strictPolicy), testOrg)
	bad := with(goodConfig("b-bad"), func(c *inventory.Config) {
		c.Frequency, c.IncludedVersions, c.OptionalFields = "Weekly", "Current", []string{"Size"}
		c.Destination = inventory.Destination{AccountID: otherAcct, BucketARN: "arn:aws:s3:::elsewhere", Format: "CSV", Encryption: inventory.EncryptionSSES3}
	})
	disabled := with(bad, func(c *inventory.Config) { c.ID, c.Enabled = "a-off", false })
	filtered := with(goodConfig("c-logs"), func(c *inventory.Config) { c.FilterPrefix = "logs/" })
	cases := []struct {
		name string
		r    inventory.BucketResult
		want []string
	}{
		{"compliant", bucketWith(goodConfig("a")), nil},
		{"no configuration", bucketWith(), []string{"INV-001"}},
		{"only disabled", bucketWith(disabled), []string{"INV-002"}},
		{"partial coverage", bucketWith(filtered), []string{"INV-003"}},
		{"one config fails many rules, disabled ignored, configs by ID",
			bucketWith(filtered, disabled, bad, goodConfig("a-good")),
			[]string{"b-bad/INV-101", "b-bad/INV-104", "b-bad/INV-105", "b-bad/INV-106", "b-bad/INV-107", "b-bad/INV-108", "b-bad/INV-109"}},
		{"unreadable gets SCAN-003 only", func() inventory.BucketResult {
			r := bucketWith(bad)
			r.Failure = &inventory.Failure{Code: "AccessDenied", Message: "denied"}
			return r
		}(), []string{"SCAN-003"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := e.Bucket(c.r, "scan-1", testNow)
			if got := ruleIDs(fs); !slices.Equal(got, c.want) {
				t.Fatalf("findings %v, want %v", got, c.want)
			}
			for _, f := range fs {
				r, _ := Lookup(f.RuleID)
				if f.FindingID != FindingID(testAccount, "data", f.ConfigID, f.RuleID) || f.AccountID != testAccount ||
					f.AccountName != "prod" || f.OUID != testAcct.OUID || f.Bucket != "data" || f.Region != "us-east-1" ||
					f.Severity != r.Severity || f.Status != StatusOpen || f.Title != r.Title || f.Message == "" ||
					len(f.Evidence) == 0 || f.ScanID != "scan-1" || !f.ObservedAt.Equal(testNow) || f.Waiver != nil {
					t.Errorf("finding fields: %+v", f)
				}
				if (r.Level == LevelConfig) != (f.ConfigID != "") {
					t.Errorf("%s: config ID %q on a %s rule", f.RuleID, f.ConfigID, r.Level)
				}
			}
		})
	}
}

func TestEvaluatorMessages(t *testing.T) {
	e := NewEvaluator(mustLoad(t, strictPolicy), testOrg)
	c := with(goodConfig("daily"), func(c *inventory.Config) { c.OptionalFields = nil })
	fs := e.Bucket(bucketWith(c), "s", testNow)
	if len(fs) != 1 || fs[0].RuleID != "INV-109" {
		t.Fatalf("findings %v", ruleIDs(fs))
	}
	if want := `inventory configuration "daily" of bucket data lacks the optional fields EncryptionStatus, Size`; fs[0].Message != want {
		t.Errorf("message %q, want %q", fs[0].Message, want)
	}
	if fs[0].Evidence["missing_fields"] != "EncryptionStatus,Size" {
		t.Errorf("evidence %v", fs[0].Evidence)
	}
}

func TestEvaluatorAccount(t *testing.T) {
	e := NewEvaluator(nil, testOrg)
	for status, want := range map[inventory.AccountStatus]string{
		inventory.AccountComplete:        "",
		inventory.AccountRoleUnavailable: "SCAN-001",
		inventory.AccountBucketsUnlisted: "SCAN-002",
		inventory.AccountIncomplete:      "SCAN-004",
	} {
		r := inventory.AccountResult{Account: testAcct, Status: status, Failure: &inventory.Failure{Code: "X", Message: "m"}, Buckets: 3, Visited: 1}
		if status == inventory.AccountComplete {
			r.Failure = nil
		}
		fs := e.Account(r, "scan-1", testNow)
		if want == "" {
			if len(fs) != 0 {
				t.Errorf("%s: findings %v", status, ruleIDs(fs))
			}
			continue
		}
		if len(fs) != 1 || fs[0].RuleID != want {
			t.Fatalf("%s: findings %v, want %s", status, ruleIDs(fs), want)
		}
		f := fs[0]
		if f.Bucket != "" || f.ConfigID != "" || f.Region != "" || f.FindingID != FindingID(testAccount, "", "", want) || f.Evidence["error_code"] != "X" {
			t.Errorf("%s: %+v", status, f)
		}
		if want == "SCAN-004" && (f.Evidence["buckets"] != "3" || f.Evidence["visited"] != "1") {
			t.Errorf("SCAN-004 evidence %v", f.Evidence)
		}
	}
}

func TestEvaluatorPolicy(t *testing.T) {
	p := mustLoad(t, `
rules:
  INV-001: {enabled: false}
  INV-101: {severity: CRITICAL}
overrides:
  - match: {buckets: ["tmp-*"]}
    rules: {INV-101: {enabled: false}}
waivers:
  - {rule: INV-103, account: "111111111111", bucket: "data", reason: "SEC-9", expires: 2027-01-15}
  - {rule: SCAN-001, account: "*", reason: "SEC-10", expires: 2027-01-15}
`)
	e := NewEvaluator(p, testOrg)
	if fs := e.Bucket(bucketWith(), "s", testNow); len(fs) != 0 {
		t.Errorf("disabled INV-001 produced %v", ruleIDs(fs))
	}
	bad := with(goodConfig("a"), func(c *inventory.Config) {
		c.Destination.AccountID, c.Destination.Encryption, c.Destination.KMSKeyID = "", inventory.EncryptionNone, ""
	})
	fs := e.Bucket(bucketWith(bad), "s", testNow)
	if got := ruleIDs(fs); !slices.Equal(got, []string{"a/INV-101", "a/INV-103"}) {
		t.Fatalf("findings %v", got)
	}
	if fs[0].Severity != SeverityCritical || fs[0].Status != StatusOpen {
		t.Errorf("INV-101: %v %v", fs[0].Severity, fs[0].Status)
	}
	if fs[1].Status != StatusWaived || fs[1].Waiver == nil || *fs[1].Waiver != (AppliedWaiver{Reason: "SEC-9", Expires: "2027-01-15"}) {
		t.Errorf("INV-103 not waived: %+v", fs[1])
	}
	// The day after the expiry the same finding is open again.
	fs = e.Bucket(bucketWith(bad), "s", testNow.Add(24*time.Hour))
	if fs[1].Status != StatusOpen || fs[1].Waiver != nil {
		t.Errorf("expired waiver still applies: %+v", fs[1])
	}
	tmp := bucketWith(bad)
	tmp.Bucket.Name = "tmp-1"
	if got := ruleIDs(e.Bucket(tmp, "s", testNow)); !slices.Equal(got, []string{"a/INV-103"}) {
		t.Errorf("bucket override: %v", got)
	}
	acct := e.Account(inventory.AccountResult{Account: testAcct, Status: inventory.AccountRoleUnavailable}, "s", testNow)
	if len(acct) != 1 || acct[0].Status != StatusWaived {
		t.Errorf("SCAN-001 waiver: %+v", acct)
	}
}

func TestEvaluatorINV104Org(t *testing.T) {
	out := with(goodConfig("a"), func(c *inventory.Config) { c.Destination.AccountID = otherAcct })
	static := inventory.Org{Targets: []inventory.Account{testAcct}}
	if fs := NewEvaluator(nil, static).Bucket(bucketWith(out), "s", testNow); len(fs) != 0 {
		t.Errorf("static list, no policy list: %v", ruleIDs(fs))
	}
	if fs := NewEvaluator(nil, testOrg).Bucket(bucketWith(out), "s", testNow); !slices.Equal(ruleIDs(fs), []string{"a/INV-104"}) {
		t.Errorf("organization: %v", ruleIDs(fs))
	}
	// Members include accounts that are not targets (suspended, filtered).
	org := inventory.Org{FromOrganizations: true, Members: map[string]bool{otherAcct: true}}
	if fs := NewEvaluator(nil, org).Bucket(bucketWith(out), "s", testNow); len(fs) != 0 {
		t.Errorf("member destination: %v", ruleIDs(fs))
	}
}

// TestEvaluatorConcurrent runs one evaluator from many goroutines (go test
// -race) and checks every goroutine gets the same findings.
func TestEvaluatorConcurrent(t *testing.T) {
	e := NewEvaluator(mustLoad(t, strictPolicy+`
overrides:
  - match: {accounts: ["111111111111"]}
    rules: {INV-106: {formats: [CSV, Parquet]}}
`), testOrg)
	r := benchBucket(8)
	want := fmt.Sprint(ruleIDs(e.Bucket(r, "s", testNow)))
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if got := fmt.Sprint(ruleIDs(e.Bucket(r, "s", testNow))); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent findings %s, want %s", got, want)
	}
	if !strings.Contains(want, "INV-") {
		t.Errorf("the bench bucket produces no findings: %s", want)
	}
}

// benchBucket is a bucket with n configurations, half of them failing
// several rules of the strict policy.
func benchBucket(n int) inventory.BucketResult {
	var cs []inventory.Config
	for i := range n {
		c := goodConfig(fmt.Sprintf("cfg-%02d", i))
		if i%2 == 1 {
			c.Frequency, c.OptionalFields = "Weekly", []string{"Size"}
			c.Destination.Format, c.Destination.Encryption, c.Destination.KMSKeyID = "CSV", inventory.EncryptionSSES3, ""
		}
		cs = append(cs, c)
	}
	return bucketWith(cs...)
}

func BenchmarkEvaluate(b *testing.B) {
	p, err := LoadPolicy([]byte(strictPolicy+`
overrides:
  - match: {ous: [ou-abcd-11111111]}
    rules: {INV-107: {frequency: Weekly}}
  - match: {buckets: ["logs-*"]}
    rules: {INV-001: {enabled: false}}
waivers:
  - {rule: INV-101, account: "*", bucket: "legacy-*", reason: r, expires: 2099-12-31}
`), "bench")
	if err != nil {
		b.Fatal(err)
	}
	e := NewEvaluator(p, testOrg)
	for _, bc := range []struct {
		name string
		r    inventory.BucketResult
	}{
		{"compliant", bucketWith(goodConfig("a"))},
		{"missing", bucketWith()},
		{"8-configs", benchBucket(8)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n += len(e.Bucket(bc.r, "scan", testNow))
			}
			b.ReportMetric(float64(n)/float64(b.N), "findings/op")
		})
	}
}

// TestFindingTextsAreBounded: whatever a configuration's ID and values,
// a finding's message and evidence values stay within their bounds, cut
// at a character boundary.
func TestFindingTextsAreBounded(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6,000 bytes
	c := with(goodConfig(long), func(c *inventory.Config) {
		c.Destination.Encryption, c.Destination.KMSKeyID = inventory.EncryptionSSES3, ""
	})
	fs := NewEvaluator(nil, testOrg).Bucket(bucketWith(c), "scan-1", testNow)
	if len(fs) != 1 || fs[0].RuleID != "INV-101" {
		t.Fatalf("findings %v", ruleIDs(fs))
	}
	f := fs[0]
	if len(f.Message) > MaxMessageBytes || !strings.HasSuffix(f.Message, "é…") || !utf8.ValidString(f.Message) {
		t.Errorf("message of %d bytes, ending %q", len(f.Message), f.Message[len(f.Message)-8:])
	}
	if f.ConfigID != long || f.FindingID != FindingID(testAccount, "data", long, "INV-101") {
		t.Error("the finding's key is not the configuration's")
	}
	ev := clipEvidence(map[string]string{"a": long, "b": "short"})
	if len(ev["a"]) > MaxEvidenceBytes || !utf8.ValidString(ev["a"]) || ev["b"] != "short" {
		t.Errorf("evidence %d bytes, %q", len(ev["a"]), ev["b"])
	}
	if clip("abc", 3) != "abc" || clip("abcdef", 5) != "ab…" {
		t.Errorf("clip: %q %q", clip("abc", 3), clip("abcdef", 5))
	}
}
