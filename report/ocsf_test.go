package report_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// fromOCSF maps an OCSF Compliance Finding back to the finding it was
// made of: the suite then checks that the output keeps every field.
func fromOCSF(t *testing.T, line []byte) rules.Finding {
	t.Helper()
	var e struct {
		report.OCSFFinding
		Unmapped struct {
			ScanID   string               `json:"scan_id"`
			ConfigID string               `json:"config_id"`
			OUID     string               `json:"ou_id"`
			Waiver   *rules.AppliedWaiver `json:"waiver"`
		} `json:"unmapped"`
	}
	if err := json.Unmarshal(line, &e); err != nil {
		t.Fatalf("OCSF line %s: %v", line, err)
	}
	sev := map[int]rules.Severity{1: rules.SeverityInfo, 2: rules.SeverityLow, 3: rules.SeverityMedium, 4: rules.SeverityHigh, 5: rules.SeverityCritical}
	status := map[int]rules.Status{1: rules.StatusOpen, 3: rules.StatusWaived, 4: rules.StatusResolved}
	f := rules.Finding{
		FindingID: e.FindingInfo.UID, AccountID: e.Cloud.Account.UID, AccountName: e.Cloud.Account.Name,
		OUID: e.Unmapped.OUID, Region: e.Cloud.Region, ConfigID: e.Unmapped.ConfigID, RuleID: e.Compliance.Control,
		Severity: sev[e.SeverityID], Status: status[e.StatusID], Title: e.FindingInfo.Title, Message: e.Message,
		ScanID: e.Unmapped.ScanID, ObservedAt: time.UnixMilli(e.Time).UTC(), Waiver: e.Unmapped.Waiver,
	}
	if len(e.Resources) != 1 {
		t.Fatalf("OCSF finding %s: %d resources; want 1", f.FindingID, len(e.Resources))
	}
	if r := e.Resources[0]; r.Type == "AWS::S3::Bucket" {
		f.Bucket = r.Name
	}
	f.Evidence = e.Resources[0].Data
	return f
}

func TestOCSFConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		var buf syncBuffer
		return sinktest.Fixture{
			Sink: report.NewOCSF(&buf, "test"),
			Output: func(t *testing.T) []rules.Finding {
				var out []rules.Finding
				sc := bufio.NewScanner(strings.NewReader(buf.String()))
				sc.Buffer(nil, 1<<20)
				for sc.Scan() {
					out = append(out, fromOCSF(t, sc.Bytes()))
				}
				return out
			},
		}
	})
}

// ocsfRequired are the attributes the Compliance Finding class (2003)
// requires in OCSF 1.3.0, with those of the objects it requires and of
// the cloud profile it declares: base event (activity_id, category_uid,
// class_uid, metadata, severity_id, time, type_uid), finding
// (finding_info), compliance finding (compliance); metadata (product,
// version), product (name; vendor_name in earlier 1.x), finding_info
// (uid, title), compliance (standards), cloud profile (cloud), cloud
// (provider).
var ocsfRequired = []string{
	"activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid",
	"finding_info", "compliance", "cloud",
	"metadata.product", "metadata.version", "metadata.product.name", "metadata.product.vendor_name",
	"finding_info.uid", "finding_info.title", "compliance.standards", "cloud.provider",
}

// lookup returns the value at a dotted path of a decoded JSON object.
func lookup(m map[string]any, path string) (any, bool) {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestOCSFRequiredAttributesAndMapping(t *testing.T) {
	t0 := sinktest.T0
	bucket := sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "data", Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh}, "s2", t0.Add(time.Hour))
	account := sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Rule: "SCAN-001", Severity: rules.SeverityCritical}, "s2", t0)
	waived := sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "logs", Rule: "INV-001", Severity: rules.SeverityLow, Waived: true}, "s1", t0)
	cn := bucket
	cn.Region = "cn-north-1"
	cases := []struct {
		name                          string
		rec                           report.Record
		activity, sev, status, compl  int
		resourceType, resourceUID, at string
	}{
		{"new bucket finding", report.Record{Finding: bucket, FirstSeen: bucket.ObservedAt, LastSeen: bucket.ObservedAt},
			1, 4, 1, 3, "AWS::S3::Bucket", "arn:aws:s3:::data", bucket.ObservedAt.Format(time.RFC3339)},
		{"seen again", report.Record{Finding: bucket, FirstSeen: t0, LastSeen: bucket.ObservedAt},
			2, 4, 1, 3, "AWS::S3::Bucket", "arn:aws:s3:::data", bucket.ObservedAt.Format(time.RFC3339)},
		{"account level", report.Record{Finding: account, FirstSeen: t0, LastSeen: t0},
			1, 5, 1, 3, "AWS::::Account", sinktest.AccountA, t0.Format(time.RFC3339)},
		{"waived", report.Record{Finding: waived, FirstSeen: t0, LastSeen: t0},
			1, 2, 3, 3, "AWS::S3::Bucket", "arn:aws:s3:::logs", t0.Format(time.RFC3339)},
		{"resolved", report.Resolve(report.Record{Finding: bucket, FirstSeen: t0, LastSeen: bucket.ObservedAt}, "scan-2", t0.Add(48*time.Hour), time.Hour, report.ResolutionNotSeen),
			3, 4, 4, 1, "AWS::S3::Bucket", "arn:aws:s3:::data", t0.Add(48 * time.Hour).Format(time.RFC3339)},
		{"China partition", report.Record{Finding: cn, FirstSeen: cn.ObservedAt, LastSeen: cn.ObservedAt},
			1, 4, 1, 3, "AWS::S3::Bucket", "arn:aws-cn:s3:::data", cn.ObservedAt.Format(time.RFC3339)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteOCSF(&buf, []report.Record{tc.rec}, "1.2.3"); err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatalf("%s: %v", buf.String(), err)
			}
			for _, path := range ocsfRequired {
				v, ok := lookup(m, path)
				if !ok || v == nil || v == "" || v == float64(0) && path != "activity_id" {
					t.Errorf("required attribute %s = %v; want it set", path, v)
				}
				if l, isList := v.([]any); isList && len(l) == 0 {
					t.Errorf("required attribute %s is an empty list", path)
				}
			}
			num := func(path string) int {
				v, _ := lookup(m, path)
				f, _ := v.(float64)
				return int(f)
			}
			str := func(path string) string {
				v, _ := lookup(m, path)
				s, _ := v.(string)
				return s
			}
			if num("class_uid") != 2003 || num("category_uid") != 2 || str("class_name") != "Compliance Finding" {
				t.Errorf("class %d (%s), category %d; want 2003 Compliance Finding, 2", num("class_uid"), str("class_name"), num("category_uid"))
			}
			if str("metadata.version") != report.OCSFVersion || str("metadata.product.version") != "1.2.3" {
				t.Errorf("metadata.version %q, product version %q; want %s and 1.2.3", str("metadata.version"), str("metadata.product.version"), report.OCSFVersion)
			}
			if num("activity_id") != tc.activity || num("type_uid") != 2003*100+tc.activity {
				t.Errorf("activity_id %d, type_uid %d; want %d, %d", num("activity_id"), num("type_uid"), tc.activity, 2003*100+tc.activity)
			}
			if num("severity_id") != tc.sev || num("status_id") != tc.status || num("compliance.status_id") != tc.compl {
				t.Errorf("severity_id %d, status_id %d, compliance.status_id %d; want %d, %d, %d",
					num("severity_id"), num("status_id"), num("compliance.status_id"), tc.sev, tc.status, tc.compl)
			}
			if want, _ := time.Parse(time.RFC3339, tc.at); int64(num("time")) != want.UnixMilli() {
				t.Errorf("time %d; want %d (%s, in milliseconds)", num("time"), want.UnixMilli(), tc.at)
			}
			r := tc.rec
			if str("finding_info.uid") != r.FindingID || str("compliance.control") != r.RuleID || str("finding_info.analytic.uid") != r.RuleID ||
				str("cloud.account.uid") != r.AccountID || str("cloud.region") != r.Region || str("message") != r.Message || str("finding_info.title") != r.Title {
				t.Errorf("identity not mapped from the record %+v:\n%s", r, buf.String())
			}
			res, _ := lookup(m, "resources")
			list, _ := res.([]any)
			if len(list) != 1 {
				t.Fatalf("resources %v; want one", res)
			}
			first, _ := list[0].(map[string]any)
			if first["type"] != tc.resourceType || first["uid"] != tc.resourceUID {
				t.Errorf("resource %v; want %s %s", first, tc.resourceType, tc.resourceUID)
			}
			if rule, ok := rules.Lookup(r.RuleID); ok && str("remediation.desc") != rule.Remediation {
				t.Errorf("remediation.desc %q; want the rule's %q", str("remediation.desc"), rule.Remediation)
			}
			if r.Status == rules.StatusResolved && str("compliance.status_detail") != report.ResolutionNotSeen {
				t.Errorf("resolved: compliance.status_detail %q; want the resolution", str("compliance.status_detail"))
			}
		})
	}
}

// TestOCSFAnotherAccountsDestinationTellsNothing: the OCSF findings of a
// source account whose destinations another account owns hold nothing
// that account's policies, key or APIs answered; those of the source
// account's own destinations hold every detail.
func TestOCSFAnotherAccountsDestinationTellsNothing(t *testing.T) {
	for _, c := range []struct {
		owner string
		leaks bool
	}{{sinktest.AccountA, true}, {sinktest.AccountB, false}} {
		var recs []report.Record
		for _, f := range sinktest.DestinationFindings(c.owner, time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)) {
			recs = append(recs, report.Record{Finding: f})
		}
		var out bytes.Buffer
		if err := report.WriteOCSF(&out, recs, "test"); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n != len(recs) || n < 4 {
			t.Fatalf("owner %s: %d OCSF lines of %d findings; want one each, and the four rules", c.owner, n, len(recs))
		}
		var leaked []string
		for _, s := range sinktest.OwnerSecrets {
			if strings.Contains(out.String(), s) {
				leaked = append(leaked, s)
			}
		}
		if c.leaks && len(leaked) != len(sinktest.OwnerSecrets) {
			t.Errorf("the source account's own destinations: OCSF holds %v of %v; want every detail", leaked, sinktest.OwnerSecrets)
		}
		if !c.leaks && (len(leaked) > 0 || !strings.Contains(out.String(), "owned by account "+c.owner+", refuses delivery")) {
			t.Errorf("account %s's destinations: account %s's OCSF holds %v, or does not say the destination refuses delivery", c.owner, sinktest.AccountA, leaked)
		}
	}
}
