package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/testenv/docblock"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// TestOCSFDocs keeps the OCSF mapping and its example in
// docs/integrations.md current (go test -update rewrites them).
func TestOCSFDocs(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	f := sinktest.NewFinding("111111111111", sinktest.Spec{Bucket: "payments-data", Config: "daily-all", Rule: "INV-101", Severity: rules.SeverityHigh}, "20261126T060000.000Z-4d5e6f", t0.Add(24*time.Hour))
	f.Title = "Inventory report is not encrypted with SSE-KMS"
	f.Message = "configuration daily-all of payments-data writes reports encrypted with SSE-S3; the policy requires SSE-KMS"
	f.Evidence = map[string]string{"encryption": "SSE-S3"}
	rec := report.Record{Finding: f, FirstSeen: t0, LastSeen: f.ObservedAt}
	var line bytes.Buffer
	if err := report.WriteOCSF(&line, []report.Record{rec}, "v1.4.0"); err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, bytes.TrimSpace(line.Bytes()), "", "  "); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`Schema version **%s**; class_uid %d (Compliance Finding), category_uid %d (Findings).

| OCSF attribute | from |
|---|---|
| activity_id, activity_name | %d Create: a scan's finding, or a record first seen by its last scan; %d Update: a record seen again; %d Close: a resolved record |
| type_uid, type_name | class_uid × 100 + activity_id (200301, 200302, 200303) |
| time | last_seen (observed_at for a scan's finding); resolved_at for a resolved record; milliseconds since the epoch |
| severity_id, severity | INFO 1 Informational, LOW 2, MEDIUM 3, HIGH 4, CRITICAL 5 |
| status_id, status | OPEN 1 New, WAIVED 3 Suppressed, RESOLVED 4 Resolved |
| message | message |
| metadata.version | the schema version above |
| metadata.product | name and vendor_name %q, version the scanner's version |
| metadata.profiles | ["cloud"] |
| metadata.uid | finding_id/scan_id |
| finding_info.uid | finding_id |
| finding_info.title, desc | title (the rule's title when empty), message |
| finding_info.first_seen_time, last_seen_time | first_seen, last_seen (ms) |
| finding_info.analytic | the rule: uid rule_id, name the rule's name, type Rule |
| finding_info.types | ["S3 Inventory Configuration"] |
| compliance.standards | [%q] |
| compliance.control | rule_id |
| compliance.status_id, status | 3 Fail while OPEN or WAIVED; 1 Pass once RESOLVED |
| compliance.status_detail | resolution (NOT_SEEN, OUT_OF_SCOPE_<reason>) |
| cloud.provider, region | AWS, region |
| cloud.account | uid account_id, name account_name, type AWS Account |
| resources[0] | the bucket: uid its ARN (partition from the Region), name, type AWS::S3::Bucket, region, owner.account; for an account-level finding the account (type AWS::::Account); data: evidence |
| remediation | desc: the rule's remediation; references: its documentation links |
| unmapped | scan_id, config_id, ou_id, waiver |

A finding seen again, as `+"`scanner findings --format ocsf`"+` writes it (one line, indented here):

`+"```json\n%s\n```\n",
		report.OCSFVersion, report.OCSFClassUID, report.OCSFCategoryUID,
		report.OCSFActivityCreate, report.OCSFActivityUpdate, report.OCSFActivityClose,
		report.OCSFProduct, report.OCSFProduct+" policy", pretty.String())
	docblock.Check(t, "../docs/integrations.md", "OCSF MAPPING", body)
}
