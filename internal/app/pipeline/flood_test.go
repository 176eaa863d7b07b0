package pipeline_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// streamingPublisher is a recordingPublisher that also publishes changes
// alone (pipeline.ChangePublisher), as the EventBridge publisher does.
type streamingPublisher struct {
	recordingPublisher
	changes [][]report.Transition
}

func (p *streamingPublisher) PublishChanges(_ context.Context, ts []report.Transition) (int, error) {
	p.changes = append(p.changes, ts)
	return 0, nil
}

// TestFloodedAccountIsFoldedAndStreamed: an account of 25 buckets with 60
// failing configurations each (120 findings a bucket) gets the policy's
// 100 findings a bucket and one SCAN-006, in the table, the events and
// Security Hub; the run hands its 2,525 changes over 1,000 at a time
// while it goes on, every one once, and counts them all; the next run
// writes the same items and changes nothing.
func TestFloodedAccountIsFoldedAndStreamed(t *testing.T) {
	ctx := context.Background()
	const account = "677777777777"
	bad := awssim.InventoryConfig{ID: "bad", Enabled: true, Frequency: "Daily", Versions: "All",
		Destination: awssim.Destination{Bucket: "arn:aws:s3:::flood-sink", Format: "CSV"}} // INV-101, INV-103
	a := awssim.Account{ID: account}
	for b := range 25 {
		a.Buckets = append(a.Buckets, awssim.Bucket{Name: fmt.Sprintf("flood-%02d", b), Inventory: []awssim.InventoryConfig{bad}, Generated: 59})
	}
	_, awsCfg := testenv.Sim(t, &awssim.Fixture{Organization: awssim.Organization{
		Role: &awssim.Role{Name: "S3InventoryScannerMember", ExternalID: "flood"}, Accounts: []awssim.Account{a}}})
	policy, err := rules.LoadPolicy([]byte("rules:\n  INV-110: {enabled: false}\n  INV-111: {enabled: false}\n  INV-112: {enabled: false}\n"+
		"  INV-113: {enabled: false}\n  INV-114: {enabled: false}\n  INV-115: {enabled: false}\n"), "flood.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = "S3InventoryScannerMember", "flood"
	cfg.AccountSource, cfg.Accounts = config.SourceStatic, []string{account}
	log := &report.TransitionLog{}
	store := report.NewMemory(report.StoreOptions{OnTransition: log.Record})
	pub := &streamingPublisher{}
	exp := &recordingExporter{counts: report.SecurityHubCounts{Imported: 1}}
	s := pipeline.Settings{Config: cfg, Policy: policy, Trigger: "cli", Sink: store, Transitions: log, Publisher: pub, Exporter: exp,
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}}}

	first, err := pipeline.Run(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	const want = 25 * 101
	if first.Findings() != want || first.ByRule["SCAN-006"] != 25 || first.Changes.Opened != want {
		t.Fatalf("first run: %d findings, %d SCAN-006, %d opened; want %d, 25, %d", first.Findings(), first.ByRule["SCAN-006"], first.Changes.Opened, want, want)
	}
	// Two batches of 1,000 streamed while the run went on, the rest (525)
	// at its end, with the summary: each change once, everywhere.
	if len(exp.calls) != 3 || len(exp.calls[0]) != 1000 || len(exp.calls[1]) != 1000 || len(exp.calls[2]) != 525 {
		t.Errorf("exporter calls of %v transitions; want 1000, 1000, 525", lens(exp.calls))
	}
	if len(pub.changes) != 2 || len(pub.changes[0]) != 1000 || len(pub.changes[1]) != 1000 || len(pub.calls) != 1 || len(pub.calls[0].ts) != 525 {
		t.Errorf("published changes %v, then %d calls with the summary; want 1000, 1000, then one with 525", lens(pub.changes), len(pub.calls))
	}
	seen := map[string]int{}
	for _, batch := range exp.calls {
		for _, tr := range batch {
			seen[tr.Record.FindingID]++
		}
	}
	if len(seen) != want {
		t.Errorf("%d distinct findings exported; want %d", len(seen), want)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("finding %s exported %d times", id, n)
		}
	}
	if got := pub.calls[0].sum; got.Changes.Opened != want || got.SecurityHub == nil || got.SecurityHub.Imported != 3 {
		t.Errorf("the published summary: %d opened, security hub %+v; want %d and 3 imported (one a call)", got.Changes.Opened, got.SecurityHub, want)
	}

	second, err := pipeline.Run(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := store.Findings(ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	if second.Findings() != want || second.Changes != (report.TransitionCounts{}) || len(recs) != want {
		t.Errorf("second run: %d findings, changes %+v, %d records in the table; want %d, none, %d", second.Findings(), second.Changes, len(recs), want, want)
	}
}

func lens(batches [][]report.Transition) []int {
	out := make([]int, len(batches))
	for i, b := range batches {
		out[i] = len(b)
	}
	return out
}
