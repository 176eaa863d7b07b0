package report_test

import (
	"context"
	"sync"
	"testing"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// TestGateCountsOpenFindingsAtOrAboveItsThreshold: waived findings and
// findings below the threshold do not count; puts may be concurrent.
func TestGateCountsOpenFindingsAtOrAboveItsThreshold(t *testing.T) {
	fs := []rules.Finding{
		sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "a", Rule: "INV-001", Severity: rules.SeverityMedium}, "s", sinktest.T0),
		sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "b", Config: "c", Rule: "INV-101", Severity: rules.SeverityHigh}, "s", sinktest.T0),
		sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Bucket: "b", Config: "c", Rule: "INV-104", Severity: rules.SeverityCritical, Waived: true}, "s", sinktest.T0),
		sinktest.NewFinding(sinktest.AccountA, sinktest.Spec{Rule: "SCAN-001", Severity: rules.SeverityHigh}, "s", sinktest.T0),
	}
	for _, tc := range []struct {
		threshold rules.Severity
		want      int
	}{{0, 0}, {rules.SeverityCritical, 0}, {rules.SeverityHigh, 2 * 8}, {rules.SeverityLow, 3 * 8}} {
		g := report.NewGate(tc.threshold)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if err := g.Put(context.Background(), fs); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if got := g.Count(); got != tc.want {
			t.Errorf("gate at %v: %d; want %d", tc.threshold, got, tc.want)
		}
	}
}
