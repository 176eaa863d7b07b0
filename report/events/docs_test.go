package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv/docblock"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// TestDocsExamples keeps the example of each detail-type in
// docs/integrations.md what the publisher sends (go test -update
// rewrites it).
func TestDocsExamples(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	f := sinktest.NewFinding("111111111111", sinktest.Spec{Bucket: "payments-data", Config: "daily-all", Rule: "INV-101", Severity: rules.SeverityHigh}, "20261125T060000.000Z-1a2b3c", t0)
	f.Title = "Inventory report is not encrypted with SSE-KMS"
	f.Message = "configuration daily-all of payments-data writes reports encrypted with SSE-S3; the policy requires SSE-KMS"
	f.Evidence = map[string]string{"encryption": "SSE-S3"}
	opened, _ := report.Observe(nil, f)
	later := f
	later.ObservedAt = t0.Add(24 * time.Hour)
	later.ScanID = "20261126T060000.000Z-4d5e6f"
	waived := later
	waived.Status = rules.StatusWaived
	waived.Waiver = &rules.AppliedWaiver{Reason: "migration to KMS tracked in SEC-1234", Expires: "2026-12-31"}
	waivedRec, _ := report.Observe(&opened, waived)
	expiredRec, _ := report.Observe(&waivedRec, later)
	resolved := report.Resolve(opened, "scan-2", t0.Add(48*time.Hour+time.Minute), report.DefaultRetention, report.ResolutionNotSeen)
	reopened, _ := report.Observe(&resolved, later)
	ts := []report.Transition{
		{Kind: report.TransitionOpened, ScanID: f.ScanID, Record: opened},
		{Kind: report.TransitionReopened, ScanID: later.ScanID, Record: reopened, From: rules.StatusResolved},
		{Kind: report.TransitionResolved, ScanID: later.ScanID, Record: resolved, From: rules.StatusOpen},
		{Kind: report.TransitionWaived, ScanID: later.ScanID, Record: waivedRec, From: rules.StatusOpen},
		{Kind: report.TransitionWaiverExpired, ScanID: later.ScanID, Record: expiredRec, From: rules.StatusWaived},
	}
	sum := report.Summary{
		Run: report.Run{ScanID: f.ScanID, Trigger: "schedule", StartedAt: t0, FinishedAt: t0.Add(3 * time.Minute),
			AccountsComplete: 41, AccountsFailed: 1, Buckets: 1830, Configs: 2210,
			BySeverity: map[string]int{"HIGH": 12, "MEDIUM": 30, "LOW": 4}, ByRule: map[string]int{"INV-101": 12, "INV-001": 30, "INV-107": 3, "SCAN-001": 1}},
		Waived: 3,
		Failed: []inventory.AccountResult{{Account: inventory.Account{ID: "999999999999", Name: "legacy"}, Status: inventory.AccountRoleUnavailable,
			Failure: &inventory.Failure{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}}},
		Changes: report.TransitionCounts{Opened: 2, Resolved: 5},
	}
	api := &fakeAPI{}
	p, err := New(api, Options{Bus: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Publish(context.Background(), ts, sum); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range api.calls {
		for _, e := range c {
			var detail any
			if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
				t.Fatal(err)
			}
			out, err := json.MarshalIndent(map[string]any{
				"source": aws.ToString(e.Source), "detail-type": aws.ToString(e.DetailType),
				"time": e.Time.UTC().Format(time.RFC3339), "detail": detail,
			}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "#### %s\n\n```json\n%s\n```\n\n", aws.ToString(e.DetailType), out)
		}
	}
	docblock.Check(t, "../../docs/integrations.md", "EVENT EXAMPLES", b.String())
	docblock.Check(t, "../../docs/integrations.md", "URGENT PATTERN", "```json\n"+indent(t, UrgentOpeningsPattern)+"\n```\n")
}

func indent(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
