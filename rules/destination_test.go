package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// goodPolicy is the destination bucket policy of the S3 documentation's
// inventory example, for the source bucket data of testAccount.
const goodPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"InventoryDelivery","Effect":"Allow",
 "Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::central-inventory-us-east-1/*",
 "Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::data"},
  "StringEquals":{"aws:SourceAccount":"111111111111","s3:x-amz-acl":"bucket-owner-full-control"}}}]}`

// goodKeyPolicy lets S3 use the key for the source bucket data.
const goodKeyPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"InventoryReportEncryption","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey","Resource":"*",
  "Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"},"ArnLike":{"aws:SourceArn":"arn:aws:s3:::data"}}}]}`

// goodDest is a destination check that passes every destination rule.
func goodDest(id string) inventory.DestinationCheck {
	return inventory.DestinationCheck{
		Account: testAcct, Bucket: inventory.Bucket{Name: "data", Region: "us-east-1"}, Config: goodConfig(id),
		Owner: centralAcct, OwnerListed: true, Partition: "aws",
		Policy:  &inventory.PolicyRead{Policy: goodPolicy},
		Key:     &inventory.KeyRead{ARN: testKey, State: "Enabled", Policy: goodKeyPolicy},
		Reports: &inventory.ReportsRead{Newest: testNow.Add(-20 * time.Hour), Since: testNow.Add(-32 * 24 * time.Hour)},
	}
}

func destWith(f func(*inventory.DestinationCheck)) *inventory.DestinationCheck {
	d := goodDest("daily")
	f(&d)
	return &d
}

// localWith is destWith with the destination bucket and the key in the
// source account, whose findings keep every detail of what was read.
func localWith(f func(*inventory.DestinationCheck)) *inventory.DestinationCheck {
	return destWith(func(d *inventory.DestinationCheck) {
		d.Owner, d.Config.Destination.AccountID, d.Config.Destination.KMSKeyID, d.Key.ARN = testAccount, testAccount, localKey, localKey
		f(d)
	})
}

var accessDenied = &inventory.Failure{Code: "AccessDenied", Message: "not authorized"}

// TestDestinationsForeignGapsTellNothing: a destination check that could
// not be made on what another account owns (its bucket, or the key of a
// destination in the source account) is a SCAN-005 naming that account
// and the cause, without what that account answered; the same gap in
// the source account's own destination keeps it.
func TestDestinationsForeignGapsTellNothing(t *testing.T) {
	undecidable := `{"Version":"2012-10-17","Statement":[{"Sid":"SecretSid","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
	 "Action":"s3:PutObject","Resource":"arn:aws:s3:::central-inventory-us-east-1/*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}]}`
	e := NewEvaluator(nil, inventory.Org{})
	foreign := destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: undecidable} })
	own := localWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: undecidable} })
	foreignKey := localWith(func(d *inventory.DestinationCheck) {
		d.Config.ID, d.Config.Destination.KMSKeyID = "keyed", testKey
		d.Key = &inventory.KeyRead{ARN: testKey, Failure: &inventory.Failure{Code: "KMSInvalidStateException", Message: "arn:aws:kms:us-east-1:999999999999:key/secret-key is pending import"}}
	})
	for _, c := range []struct {
		name    string
		d       *inventory.DestinationCheck
		owner   string
		absent  []string // in neither message nor evidence
		present string   // in the message
	}{
		{"another account's bucket", foreign, centralAcct, []string{"SecretSid", "NumericLessThan"}, "could not be verified in account 999999999999: Undecidable"},
		{"the source account's bucket", own, "", nil, "SecretSid"},
		{"another account's key", foreignKey, centralAcct, []string{"secret-key", "pending import"}, "could not be verified in account 999999999999: KMSInvalidStateException"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs, _ := e.Destinations([]inventory.DestinationCheck{*c.d}, "scan-1", testNow)
			var gaps []Finding
			for _, f := range fs {
				if f.RuleID == "SCAN-005" {
					gaps = append(gaps, f)
				}
				for _, a := range c.absent {
					if strings.Contains(f.Message, a) {
						t.Errorf("%s message %q holds %q", f.RuleID, f.Message, a)
					}
					for k, v := range f.Evidence {
						if strings.Contains(v, a) {
							t.Errorf("%s evidence %s=%q holds %q", f.RuleID, k, v, a)
						}
					}
				}
			}
			if len(gaps) != 1 || !strings.Contains(gaps[0].Message, c.present) || gaps[0].Evidence["owner"] != c.owner {
				t.Fatalf("SCAN-005 findings %+v; want one whose message holds %q, owner %q", gaps, c.present, c.owner)
			}
			if _, ok := gaps[0].Evidence["error_message"]; ok == (c.owner != "") {
				t.Errorf("evidence %v: error_message only for the source account's own destination", gaps[0].Evidence)
			}
		})
	}
}

func TestDestinationsGapsBecomeOneSCAN005(t *testing.T) {
	e := NewEvaluator(nil, inventory.Org{})
	var ds []inventory.DestinationCheck
	for _, id := range []string{"b", "a"} {
		d := goodDest(id)
		d.Policy = &inventory.PolicyRead{Failure: accessDenied}
		ds = append(ds, d)
	}
	fs, unverified := e.Destinations(ds, "scan-1", testNow)
	if len(fs) != 1 || len(unverified) != 1 || unverified[0] != "data" {
		t.Fatalf("%d findings, want one SCAN-005: %+v", len(fs), fs)
	}
	f := fs[0]
	if f.RuleID != "SCAN-005" || f.AccountID != testAccount || f.Bucket != "central-inventory-us-east-1" || f.ConfigID != "" {
		t.Errorf("finding %+v", f)
	}
	if got := f.Evidence["configurations"]; got != "data/a,data/b" {
		t.Errorf("configurations %q, want data/a,data/b", got)
	}
	if got := f.Evidence["checks"]; got != "INV-110,INV-111,INV-112" {
		t.Errorf("checks %q", got)
	}
	if !strings.Contains(f.Message, "AccessDenied") {
		t.Errorf("message %q", f.Message)
	}
	// Another cause is another finding; the same cause again the same one.
	ds[0].Reports = &inventory.ReportsRead{Failure: &inventory.Failure{Code: "Throttled"}}
	fs2, _ := e.Destinations(ds, "scan-2", testNow)
	if len(fs2) != 2 || fs2[0].FindingID != f.FindingID || fs2[1].FindingID == f.FindingID {
		t.Errorf("findings %+v; want the same SCAN-005 and one for the reports", fs2)
	}
}

func TestDestinationsRuleFindingsAreTheSourceConfigs(t *testing.T) {
	e := NewEvaluator(nil, inventory.Org{})
	d := goodDest("daily")
	d.Key.State = "Disabled"
	fs, unverified := e.Destinations([]inventory.DestinationCheck{d, goodDest("clean")}, "scan-1", testNow)
	if len(unverified) != 0 || len(fs) != 1 || fs[0].RuleID != "INV-113" || fs[0].Bucket != "data" || fs[0].ConfigID != "daily" ||
		fs[0].FindingID != FindingID(testAccount, "data", "daily", "INV-113") {
		t.Fatalf("findings %+v", fs)
	}
	// A disabled rule makes no finding and no gap.
	p, err := LoadPolicy([]byte("version: 1\nrules:\n  INV-113: {enabled: false}\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d.Key.Failure = accessDenied
	if fs, _ := NewEvaluator(p, inventory.Org{}).Destinations([]inventory.DestinationCheck{d}, "s", testNow); len(fs) != 0 {
		t.Errorf("disabled INV-113: %+v", fs)
	}
	if !NewEvaluator(nil, inventory.Org{}).ReadsDestinations() {
		t.Error("the default policy reads no destination")
	}
	off := "version: 1\nrules:\n"
	for _, id := range []string{"INV-110", "INV-111", "INV-112", "INV-113", "INV-114", "INV-115"} {
		off += "  " + id + ": {enabled: false}\n"
	}
	p, err = LoadPolicy([]byte(off), "off.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if NewEvaluator(p, inventory.Org{}).ReadsDestinations() {
		t.Error("every destination rule is off, and the scan still reads destinations")
	}
	p, err = LoadPolicy([]byte(off+"overrides:\n  - match: {accounts: [\"111111111111\"]}\n    rules: {INV-114: {enabled: true}}\n"), "on.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !NewEvaluator(p, inventory.Org{}).ReadsDestinations() {
		t.Error("an override enables INV-114, and the scan reads no destination")
	}
}

func TestINV110(t *testing.T) {
	missing := &inventory.PolicyRead{Missing: true}
	runRuleCases(t, "INV-110", []ruleCase{
		{name: "exists", dest: destWith(func(*inventory.DestinationCheck) {}), want: pass},
		{name: "missing in a listed owner", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = missing }), want: fail,
			message: "does not exist in account 999999999999", evidence: map[string]string{"owner": centralAcct}},
		{name: "missing, owner not listed", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy, d.OwnerListed = missing, false }),
			want: unverifiable, gap: "NoSuchBucket"},
		{name: "policy unreadable", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Failure: accessDenied} }),
			want: unverifiable, gap: "AccessDenied"},
		{name: "outside the organization", dest: destWith(func(d *inventory.DestinationCheck) {
			d.Policy, d.Failure = nil, &inventory.Failure{Code: "OutsideOrganization"}
		}), want: unverifiable, gap: "OutsideOrganization"},
		{name: "not read", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = nil }), want: notApplicable},
	})
}

func TestINV111(t *testing.T) {
	pol := func(p string) *inventory.DestinationCheck {
		return localWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: p} })
	}
	foreign := func(p string) *inventory.DestinationCheck {
		return destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: p} })
	}
	deny := `{"Version":"2012-10-17","Statement":[` + strings.TrimSuffix(strings.TrimPrefix(goodPolicy, `{"Version":"2012-10-17","Statement":[`), `]}`) +
		`,{"Sid":"DenyUnencrypted","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::central-inventory-us-east-1/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}`
	explicitDeny := strings.Replace(goodPolicy, `]}`, `,{"Sid":"NoS3","Effect":"Deny","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:Put*","Resource":"*"}]}`, 1)
	refused := map[string]string{"owner": centralAcct, "destination": "arn:aws:s3:::central-inventory-us-east-1"}
	runRuleCases(t, "INV-111", []ruleCase{
		{name: "documented example", dest: pol(goodPolicy), want: pass},
		{name: "no policy", dest: pol(""), want: fail, message: "has no bucket policy",
			evidence: map[string]string{"decision": "NotAllowed"}},
		{name: "other source bucket only", dest: pol(strings.ReplaceAll(goodPolicy, "arn:aws:s3:::data", "arn:aws:s3:::other")), want: fail,
			message: "has no statement that allows it", evidence: map[string]string{"decision": "NotAllowed"}},
		{name: "undecidable deny", dest: pol(deny), want: unverifiable, gap: "Undecidable"},
		{name: "explicit deny", dest: pol(explicitDeny),
			want: fail, message: "denies it (statements NoS3)", evidence: map[string]string{"decision": "Deny", "statements": "NoS3"}},
		{name: "unparsable", dest: pol(`{"Statement":[{"Effect":"Allow"}]}`), want: unverifiable, gap: "UnreadablePolicy"},
		{name: "bucket missing", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Missing: true} }), want: notApplicable},
		// Another account's destination: that it refuses, nothing of why.
		{name: "another account's documented example", dest: foreign(goodPolicy), want: pass},
		{name: "another account's explicit deny", dest: foreign(explicitDeny), want: fail,
			message: "owned by account 999999999999, refuses delivery: S3 cannot deliver the report", evidence: refused,
			absent: []string{"NoS3", "Deny", "decision", "statements"}},
		{name: "another account's bucket without a policy", dest: foreign(""), want: fail,
			message: "owned by account 999999999999, refuses delivery", evidence: refused, absent: []string{"no bucket policy", "NotAllowed"}},
		{name: "another account's undecidable deny", dest: foreign(deny), want: unverifiable, gap: "Undecidable"},
	})
	// The statement the finding offers makes the check pass, in the
	// source account's destination and in another account's.
	for _, d := range []*inventory.DestinationCheck{pol(""), foreign("")} {
		res := checkDestinationPolicyBlocksDelivery(subject{dest: d, config: &d.Config, bucket: &inventory.BucketResult{Account: d.Account, Bucket: d.Bucket}})
		fixed := *d
		fixed.Policy = &inventory.PolicyRead{Policy: `{"Version":"2012-10-17","Statement":[` + res.evidence["statement"] + `]}`}
		if r := checkDestinationPolicyBlocksDelivery(subject{dest: &fixed, config: &fixed.Config, bucket: &inventory.BucketResult{Account: d.Account, Bucket: d.Bucket}}); r.verdict != pass {
			t.Errorf("owner %s: the remediation statement %s: verdict %v", d.Owner, res.evidence["statement"], r.verdict)
		}
	}
}

func TestINV112(t *testing.T) {
	pol := func(p string) *inventory.DestinationCheck {
		return localWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: p} })
	}
	unscoped := `{"Version":"2012-10-17","Statement":[{"Sid":"AnyInventory","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
	 "Action":"s3:PutObject","Resource":"arn:aws:s3:::central-inventory-us-east-1/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`
	runRuleCases(t, "INV-112", []ruleCase{
		{name: "scoped", dest: pol(goodPolicy), want: pass},
		{name: "no policy", dest: pol(""), want: pass},
		{name: "no SourceArn or SourceAccount", dest: pol(unscoped), want: fail, message: "AnyInventory",
			evidence: map[string]string{"statements": "AnyInventory"}},
		{name: "another account's, without SourceArn or SourceAccount", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Policy: unscoped} }),
			want: fail, message: "owned by account 999999999999, takes S3 deliveries of any account's inventory",
			evidence: map[string]string{"owner": centralAcct}, absent: []string{"AnyInventory", "statements"}},
		{name: "policy unreadable", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Failure: accessDenied} }),
			want: unverifiable, gap: "AccessDenied"},
		{name: "bucket missing", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Missing: true} }), want: notApplicable},
	})
}

func TestINV113(t *testing.T) {
	key := func(f func(k *inventory.KeyRead)) *inventory.DestinationCheck {
		return localWith(func(d *inventory.DestinationCheck) { f(d.Key) })
	}
	// foreign is a key of another account, configured by its alias and
	// described by its key ARN.
	const alias = "arn:aws:kms:us-east-1:999999999999:alias/inventory"
	foreign := func(f func(k *inventory.KeyRead)) *inventory.DestinationCheck {
		return destWith(func(d *inventory.DestinationCheck) { d.Config.Destination.KMSKeyID = alias; f(d.Key) })
	}
	refused := map[string]string{"owner": centralAcct, "kms_key": alias}
	defaultPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"kms:*","Resource":"*"}]}`
	runRuleCases(t, "INV-113", []ruleCase{
		{name: "usable", dest: key(func(*inventory.KeyRead) {}), want: pass},
		{name: "disabled", dest: key(func(k *inventory.KeyRead) { k.State = "Disabled" }), want: fail, message: "is Disabled",
			evidence: map[string]string{"key_state": "Disabled"}},
		{name: "pending deletion", dest: key(func(k *inventory.KeyRead) { k.State = "PendingDeletion" }), want: fail, message: "is PendingDeletion"},
		{name: "missing", dest: key(func(k *inventory.KeyRead) { k.Missing, k.State = true, "" }), want: fail, message: "does not exist"},
		{name: "default key policy", dest: key(func(k *inventory.KeyRead) { k.Policy = defaultPolicy }),
			want: fail, message: "may not kms:GenerateDataKey", evidence: map[string]string{"decision": "NotAllowed"}},
		{name: "default key policy, key policy not checked", dest: key(func(k *inventory.KeyRead) { k.Policy = `{}` }),
			set: setParam(checkKeyPolicy, false), want: pass},
		{name: "key in a foreign account", dest: key(func(k *inventory.KeyRead) { k.Failure = &inventory.Failure{Code: "OutsideOrganization"} }),
			want: unverifiable, gap: "OutsideOrganization"},
		{name: "SSE-S3", dest: destWith(func(d *inventory.DestinationCheck) {
			d.Config.Destination.Encryption, d.Key = inventory.EncryptionSSES3, nil
		}),
			want: notApplicable},
		// Another account's key: that it refuses, nothing of why, and the
		// key as configured, not as described.
		{name: "another account's usable key", dest: foreign(func(*inventory.KeyRead) {}), want: pass},
		{name: "another account's disabled key", dest: foreign(func(k *inventory.KeyRead) { k.State = "Disabled" }), want: fail,
			message:  "the KMS key " + alias + " of inventory configuration \"daily\" of bucket data, owned by account 999999999999, refuses delivery",
			evidence: refused, absent: []string{"Disabled", "key_state", "key/1234abcd"}},
		{name: "another account's key pending deletion", dest: foreign(func(k *inventory.KeyRead) { k.State = "PendingDeletion" }), want: fail,
			message: "refuses delivery", evidence: refused, absent: []string{"PendingDeletion"}},
		{name: "another account's missing key", dest: foreign(func(k *inventory.KeyRead) { k.Missing, k.State = true, "" }), want: fail,
			message: "refuses delivery", evidence: refused, absent: []string{"does not exist"}},
		{name: "another account's default key policy", dest: foreign(func(k *inventory.KeyRead) { k.Policy = defaultPolicy }), want: fail,
			message: "refuses delivery", evidence: refused, absent: []string{"NotAllowed", "decision", "may not"}},
	})
}

func TestINV114(t *testing.T) {
	reports := func(newest time.Time, freq string) *inventory.DestinationCheck {
		return destWith(func(d *inventory.DestinationCheck) { d.Reports.Newest, d.Config.Frequency = newest, freq })
	}
	day := 24 * time.Hour
	runRuleCases(t, "INV-114", []ruleCase{
		{name: "daily, yesterday", dest: reports(testNow.Add(-day), "Daily"), want: pass},
		{name: "daily, three days ago", dest: reports(testNow.Add(-3*day), "Daily"), want: fail, message: "in the last 2 days",
			evidence: map[string]string{"newest_report": "2027-01-12T06:00:00Z", "max_age_days": "2", "report_prefix": "data/daily/"}},
		{name: "daily, three days ago, window of 4", dest: reports(testNow.Add(-3*day), "Daily"), set: setParam(dailyMaxAge, 4), want: pass},
		{name: "weekly, six days ago", dest: reports(testNow.Add(-6*day), "Weekly"), want: pass},
		{name: "weekly, nine days ago", dest: reports(testNow.Add(-9*day), "Weekly"), want: fail, message: "in the last 8 days"},
		{name: "none at all", dest: reports(time.Time{}, "Daily"), want: fail, message: "none since 2026-12-14"},
		{name: "only forged folders", dest: destWith(func(d *inventory.DestinationCheck) { d.Reports.Newest, d.Reports.Ignored = time.Time{}, 2 }),
			want: fail, message: "2 folder(s) ignored: dated after the scan", evidence: map[string]string{"ignored_folders": "2"}},
		{name: "reports unreadable", dest: destWith(func(d *inventory.DestinationCheck) { d.Reports = &inventory.ReportsRead{Failure: accessDenied} }),
			want: unverifiable, gap: "AccessDenied"},
		{name: "bucket missing", dest: destWith(func(d *inventory.DestinationCheck) { d.Policy = &inventory.PolicyRead{Missing: true} }), want: notApplicable},
	})
}

// TestINV114StatesTheBounds: the rule's text states the bounds the scan
// applies to a delivery (inventory.ReportClockSkew, ManifestWindow).
func TestINV114StatesTheBounds(t *testing.T) {
	r, _ := Lookup("INV-114")
	for _, want := range []string{
		fmt.Sprintf("at most %d minutes after the scan", int(inventory.ReportClockSkew.Minutes())),
		fmt.Sprintf("at most %d hours after it", int(inventory.ManifestWindow.Hours())),
	} {
		if !strings.Contains(r.Rationale, want) {
			t.Errorf("INV-114's rationale does not say %q: %s", want, r.Rationale)
		}
	}
}

func TestINV115(t *testing.T) {
	fields := func(owner string, fs ...string) *inventory.DestinationCheck {
		return destWith(func(d *inventory.DestinationCheck) {
			d.Config.Destination.AccountID, d.Config.OptionalFields = owner, fs
		})
	}
	runRuleCases(t, "INV-115", []ruleCase{
		{name: "no sensitive field", dest: fields(centralAcct, "Size"), want: pass},
		{name: "ACL to another account", dest: fields(centralAcct, "Size", "ObjectAccessControlList", "ObjectOwner"), want: fail,
			message:  "exports ObjectAccessControlList, ObjectOwner to account 999999999999",
			evidence: map[string]string{"sensitive_fields": "ObjectAccessControlList,ObjectOwner", "destination_account": centralAcct}},
		{name: "ACL to the same account", dest: fields(testAccount, "ObjectAccessControlList"), want: pass},
		{name: "owner only sensitive", dest: fields(centralAcct, "ObjectAccessControlList"), set: setParam(sensitiveFields, []string{"ObjectOwner"}), want: pass},
		{name: "no destination account", dest: fields("", "ObjectOwner"), want: notApplicable},
	})
}

func TestSCAN005(t *testing.T) {
	g := &destinationGap{gap: gap{what: "KMS key k", code: "AccessDenied", msg: "no"}, destination: "arn:aws:s3:::d",
		configs: []string{"a/x"}, checks: []string{"INV-113"}}
	foreign := *g
	foreign.whats, foreign.msg = []string{"KMS key arn:aws:kms:us-east-1:999999999999:key/secret-key"}, "User: arn:aws:sts::111111111111:assumed-role/r/s is not authorized"
	foreign.foreign = []string{centralAcct}
	outside := foreign
	outside.code, outside.msg = "OutsideScope", "account 999999999999 is not one of the accounts the scan was asked to scan"
	runRuleCases(t, "SCAN-005", []ruleCase{
		{name: "nothing unverified", want: pass},
		{name: "a key unreadable", gaps: g, want: fail, message: "the KMS key k of destination arn:aws:s3:::d could not be checked: AccessDenied: no; INV-113 not made for 1 configuration(s): a/x",
			evidence: map[string]string{"configurations": "a/x", "error_code": "AccessDenied"}},
		{name: "another account's key unreadable", gaps: &foreign, want: fail,
			message:  "destination arn:aws:s3:::d could not be verified in account 999999999999: AccessDenied; INV-113 not made for 1 configuration(s): a/x",
			evidence: map[string]string{"owner": centralAcct, "error_code": "AccessDenied", "configurations": "a/x", "checks": "INV-113"},
			absent:   []string{"secret-key", "not authorized", "KMS key", "error_message", "unverified"}},
		{name: "another account outside a static list", gaps: &outside, want: fail,
			message:  "could not be verified in account 999999999999: OutsideScope (not one of the scanned accounts: the scanner assumes no role there)",
			evidence: map[string]string{"error_code": "OutsideScope"}},
	})
}

// TestDestinationsGapOfManyConfigurations: every configuration of an
// account may deliver to one destination that cannot be read; its one
// SCAN-005 finding counts them all and names 20.
func TestDestinationsGapOfManyConfigurations(t *testing.T) {
	var ds []inventory.DestinationCheck
	for i := range 20000 {
		d := goodDest(fmt.Sprintf("c-%05d", i%1000))
		d.Bucket.Name = fmt.Sprintf("b-%02d", i/1000)
		d.Failure, d.Policy, d.Key, d.Reports = accessDenied, nil, nil, nil
		ds = append(ds, d)
	}
	fs, unverified := NewEvaluator(nil, inventory.Org{}).Destinations(ds, "scan-1", testNow)
	if len(fs) != 1 || len(unverified) != 20 || unverified[19] != "b-19" {
		t.Fatalf("%d findings, %d buckets unverified", len(fs), len(unverified))
	}
	f := fs[0]
	if !strings.Contains(f.Message, "not made for 20000 configuration(s): b-00/c-00000, ") || !strings.HasSuffix(f.Message, "b-00/c-00019, … and 19980 more") {
		t.Errorf("message %q", f.Message)
	}
	if got := f.Evidence["configurations"]; strings.Count(got, ",") != 20 || !strings.HasSuffix(got, ",… and 19980 more") {
		t.Errorf("configurations %q", got)
	}
}
