package securityhub

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

var t0 = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// record returns a stored record of spec in account, first seen at t0 and
// last seen a day later.
func record(account string, s sinktest.Spec) report.Record {
	f := sinktest.NewFinding(account, s, "scan-2", t0.Add(24*time.Hour))
	r, _ := report.Observe(nil, f)
	r.FirstSeen = t0
	return r
}

// TestFindingRequiredFields: every field Security Hub requires is there,
// with the values the mapping promises, for a bucket's finding.
func TestFindingRequiredFields(t *testing.T) {
	r := record("111111111111", sinktest.Spec{Bucket: "payments-data", Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh})
	f := Finding(r, "aws", "us-east-1")
	rule, _ := rules.Lookup("INV-101")
	for _, c := range []struct{ name, got, want string }{
		{"SchemaVersion", aws.ToString(f.SchemaVersion), "2018-10-08"},
		{"Id", aws.ToString(f.Id), r.FindingID},
		{"ProductArn", aws.ToString(f.ProductArn), "arn:aws:securityhub:eu-west-1:111111111111:product/111111111111/default"},
		{"GeneratorId", aws.ToString(f.GeneratorId), "INV-101"},
		{"AwsAccountId", aws.ToString(f.AwsAccountId), "111111111111"},
		{"Region", aws.ToString(f.Region), "eu-west-1"},
		{"CreatedAt", aws.ToString(f.CreatedAt), "2026-11-25T06:00:00.000Z"},
		{"UpdatedAt", aws.ToString(f.UpdatedAt), "2026-11-26T06:00:00.000Z"},
		{"Severity.Label", string(f.Severity.Label), "HIGH"},
		{"FindingProviderFields.Severity.Label", string(f.FindingProviderFields.Severity.Label), "HIGH"},
		{"Title", aws.ToString(f.Title), r.Title},
		{"Description", aws.ToString(f.Description), r.Message},
		{"RecordState", string(f.RecordState), "ACTIVE"},
		{"Compliance.Status", string(f.Compliance.Status), "FAILED"},
		{"Resources[0].Type", aws.ToString(f.Resources[0].Type), "AwsS3Bucket"},
		{"Resources[0].Id", aws.ToString(f.Resources[0].Id), "arn:aws:s3:::payments-data"},
		{"Resources[0].Region", aws.ToString(f.Resources[0].Region), "eu-west-1"},
		{"Resources[0].Partition", string(f.Resources[0].Partition), "aws"},
		{"Remediation.Text", aws.ToString(f.Remediation.Recommendation.Text), rule.Remediation},
		{"Remediation.Url", aws.ToString(f.Remediation.Recommendation.Url), rule.Links[0]},
		{"ProductFields config_id", f.ProductFields["s3-inventory-scanner/config_id"], "daily"},
		{"ProductFields evidence", f.ProductFields["s3-inventory-scanner/evidence/format"], "CSV"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q; want %q", c.name, c.got, c.want)
		}
	}
	if len(f.Resources) != 1 {
		t.Errorf("%d resources; want the bucket", len(f.Resources))
	}
	for _, typ := range append(f.Types, f.FindingProviderFields.Types...) {
		if parts := strings.Split(typ, "/"); len(parts) < 2 || len(parts) > 3 || parts[0] != "Software and Configuration Checks" {
			t.Errorf("type %q: want namespace/category[/classifier] under Software and Configuration Checks", typ)
		}
	}
	if f.Workflow != nil || f.Note != nil || f.UserDefinedFields != nil || f.VerificationState != "" {
		t.Errorf("Workflow %v, Note %v, UserDefinedFields %v, VerificationState %q; a provider sets none of them",
			f.Workflow, f.Note, f.UserDefinedFields, f.VerificationState)
	}
	if size, err := Size(f); err != nil || size > MaxFindingSize {
		t.Errorf("Size = %d, %v", size, err)
	}
}

// TestFindingStates: the record's status decides RecordState and
// Compliance.Status; a resolved finding's UpdatedAt is its resolution.
func TestFindingStates(t *testing.T) {
	open := record("111111111111", sinktest.Spec{Bucket: "b", Rule: "INV-001", Severity: rules.SeverityMedium})
	waived := record("111111111111", sinktest.Spec{Bucket: "b", Rule: "INV-002", Severity: rules.SeverityCritical, Waived: true})
	resolved := report.Resolve(open, "s2", t0.Add(48*time.Hour), report.DefaultRetention, report.ResolutionNotSeen)
	for _, c := range []struct {
		r          report.Record
		state      types.RecordState
		compliance types.ComplianceStatus
		updated    string
		sev        types.SeverityLabel
	}{
		{open, types.RecordStateActive, types.ComplianceStatusFailed, "2026-11-26T06:00:00.000Z", types.SeverityLabelMedium},
		{waived, types.RecordStateArchived, types.ComplianceStatusFailed, "2026-11-26T06:00:00.000Z", types.SeverityLabelCritical},
		{resolved, types.RecordStateArchived, types.ComplianceStatusPassed, "2026-11-27T06:00:00.000Z", types.SeverityLabelMedium},
	} {
		f := Finding(c.r, "aws", "us-east-1")
		if f.RecordState != c.state || f.Compliance.Status != c.compliance || aws.ToString(f.UpdatedAt) != c.updated || f.Severity.Label != c.sev {
			t.Errorf("%s record: %s/%s updated %s severity %s; want %s/%s updated %s severity %s", c.r.Status,
				f.RecordState, f.Compliance.Status, aws.ToString(f.UpdatedAt), f.Severity.Label, c.state, c.compliance, c.updated, c.sev)
		}
	}
	if f := Finding(waived, "aws", "us-east-1"); f.ProductFields["s3-inventory-scanner/waiver_reason"] != "migration ticket OPS-42" {
		t.Errorf("waived finding: ProductFields %v; want the waiver's reason", f.ProductFields)
	}
	if f := Finding(resolved, "aws", "us-east-1"); f.ProductFields["s3-inventory-scanner/resolution"] != report.ResolutionNotSeen {
		t.Errorf("resolved finding: ProductFields %v; want the resolution", f.ProductFields)
	}
	for sev, want := range map[rules.Severity]types.SeverityLabel{rules.SeverityInfo: "INFORMATIONAL", rules.SeverityLow: "LOW", rules.SeverityCritical: "CRITICAL"} {
		if got := Severity(sev); got != want {
			t.Errorf("Severity(%s) = %s; want %s", sev, got, want)
		}
	}
}

// TestAccountFinding: an account-level finding (no bucket, no Region) is
// about the account, imported in the scanner's Region, in its partition.
func TestAccountFinding(t *testing.T) {
	r := record("222222222222", sinktest.Spec{Rule: "SCAN-002", Severity: rules.SeverityHigh})
	f := Finding(r, "aws-us-gov", "us-gov-west-1")
	res := f.Resources[0]
	if aws.ToString(res.Type) != "AwsAccount" || aws.ToString(res.Id) != "AWS::::Account:222222222222" || aws.ToString(res.Region) != "us-gov-west-1" || res.Partition != "aws-us-gov" {
		t.Errorf("resource %s %s in %s, %s; want AwsAccount AWS::::Account:222222222222 in us-gov-west-1, aws-us-gov",
			aws.ToString(res.Type), aws.ToString(res.Id), aws.ToString(res.Region), res.Partition)
	}
	if got, want := aws.ToString(f.ProductArn), "arn:aws-us-gov:securityhub:us-gov-west-1:222222222222:product/222222222222/default"; got != want {
		t.Errorf("ProductArn %s; want %s", got, want)
	}
	if to := TargetOf(r, "us-gov-west-1"); to != (Target{"222222222222", "us-gov-west-1"}) {
		t.Errorf("TargetOf = %+v", to)
	}
}

// TestLongTextsCut: titles, descriptions and remediation texts beyond
// Security Hub's limits are cut on a rune boundary, within the limit.
func TestLongTextsCut(t *testing.T) {
	r := record("111111111111", sinktest.Spec{Bucket: "b", Rule: "INV-001", Severity: rules.SeverityLow})
	r.Title = strings.Repeat("é", 300)         // 600 bytes
	r.Message = "x" + strings.Repeat("€", 600) // 1801 bytes, odd offset
	f := Finding(r, "aws", "us-east-1")
	for _, c := range []struct {
		name string
		s    string
		max  int
	}{{"Title", aws.ToString(f.Title), MaxTitle}, {"Description", aws.ToString(f.Description), MaxDescription}} {
		if len(c.s) > c.max || !utf8.ValidString(c.s) || !strings.HasSuffix(c.s, "…") || len(c.s) < c.max-4 {
			t.Errorf("%s: %d bytes, valid UTF-8 %v, %q…; want a valid cut of at most %d bytes ending in …", c.name, len(c.s), utf8.ValidString(c.s), c.s[:10], c.max)
		}
	}
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"abcdefghij", 10, "abcdefghij"},
		{"abcdefghijk", 10, "abcdefg…"},
		{"ééééé", 8, "éé…"}, // 10 bytes; "éé" + "…" is 7
	} {
		if got := Cut(c.in, c.max); got != c.want {
			t.Errorf("Cut(%q, %d) = %q; want %q", c.in, c.max, got, c.want)
		}
	}
}

// TestLargestFindingFits: the ProductFields cap (40 pairs of at most
// 2 KB) and the text limits keep any finding within the 240 KB Security
// Hub takes, however much evidence a record carries.
func TestLargestFindingFits(t *testing.T) {
	r := record("111111111111", sinktest.Spec{Bucket: strings.Repeat("b", 63), Config: strings.Repeat("c", 64), Rule: "INV-109", Severity: rules.SeverityLow})
	r.Title, r.Message = strings.Repeat("t", 5000), strings.Repeat("m", 50000)
	r.Waiver = &rules.AppliedWaiver{Reason: strings.Repeat("w", 5000), Expires: "2099-12-31"}
	for i := range 200 {
		r.Evidence[fmt.Sprintf("key-%03d", i)] = strings.Repeat("v", 10000)
	}
	f := Finding(r, "aws", "us-east-1")
	size, err := Size(f)
	if err != nil || size > MaxFindingSize {
		t.Errorf("largest finding: %d bytes, %v; want at most %d", size, err, MaxFindingSize)
	}
	if n := len(f.ProductFields); n != maxProductFields {
		t.Errorf("%d ProductFields; want the cap, %d", n, maxProductFields)
	}
	for k, v := range f.ProductFields {
		if len(v) > maxFieldValue {
			t.Errorf("ProductFields[%s]: %d bytes; want at most %d", k, len(v), maxFieldValue)
		}
	}
}

// TestAnotherAccountsDestinationTellsNothing: the ASFF findings of a
// source account whose destinations another account owns say which
// account refuses delivery, and hold nothing that account's policies,
// key or APIs answered; the same findings of the source account's own
// destinations hold those details (so the probe would see a leak).
func TestAnotherAccountsDestinationTellsNothing(t *testing.T) {
	for _, c := range []struct {
		owner string
		leaks bool
	}{{sinktest.AccountA, true}, {sinktest.AccountB, false}} {
		fs := sinktest.DestinationFindings(c.owner, t0)
		var all strings.Builder
		rulesSeen := map[string]bool{}
		for _, f := range fs {
			r, _ := report.Observe(nil, f)
			b, err := json.Marshal(Finding(r, "aws", "us-east-1"))
			if err != nil {
				t.Fatal(err)
			}
			all.Write(b)
			rulesSeen[f.RuleID] = true
		}
		for _, id := range []string{"INV-111", "INV-112", "INV-113", "SCAN-005"} {
			if !rulesSeen[id] {
				t.Errorf("owner %s: no %s finding to export", c.owner, id)
			}
		}
		var leaked []string
		for _, s := range sinktest.OwnerSecrets {
			if strings.Contains(all.String(), s) {
				leaked = append(leaked, s)
			}
		}
		switch {
		case c.leaks && len(leaked) != len(sinktest.OwnerSecrets):
			t.Errorf("the source account's own destinations: the export holds %v of %v; want every detail", leaked, sinktest.OwnerSecrets)
		case !c.leaks && len(leaked) > 0:
			t.Errorf("account %s's destinations: account %s's export holds %v", c.owner, sinktest.AccountA, leaked)
		case !c.leaks && !strings.Contains(all.String(), "owned by account "+c.owner+", refuses delivery"):
			t.Errorf("account %s's destinations: the export does not say that the destination refuses delivery", c.owner)
		}
	}
}
