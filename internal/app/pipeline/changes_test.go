package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/report"
)

// recordingPublisher keeps what each run handed it and fails the number
// of events it is told to.
type recordingPublisher struct {
	calls []publishCall
	fail  int
}

type publishCall struct {
	ts  []report.Transition
	sum report.Summary
}

func (p *recordingPublisher) Publish(_ context.Context, ts []report.Transition, sum report.Summary) (int, error) {
	p.calls = append(p.calls, publishCall{ts: ts, sum: sum})
	if p.fail > 0 {
		return p.fail, errors.New("2 events rejected: InternalFailure")
	}
	return 0, nil
}

// TestRunCountsAndPublishesChanges: the first scan of the golden
// organization opens every finding it produces; the summary counts them
// and the publisher receives them with the summary; events it could not
// publish are counted in the summary. The same scan again changes
// nothing: zero counts, and the publisher gets the summary alone.
func TestRunCountsAndPublishesChanges(t *testing.T) {
	ctx := context.Background()
	_, settings := golden(t)
	log := &report.TransitionLog{}
	store := report.NewMemory(report.StoreOptions{OnTransition: log.Record})
	pub := &recordingPublisher{fail: 2}
	settings.Sink, settings.Transitions, settings.Publisher = store, log, pub
	run := func() report.Summary {
		t.Helper()
		sum, err := pipeline.Run(ctx, settings)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}

	first := run()
	if first.Findings() == 0 {
		t.Fatal("the golden organization produced no finding")
	}
	want := report.TransitionCounts{Opened: first.Findings()}
	if first.Changes != want {
		t.Errorf("first scan: changes %+v; want %+v (every finding opened)", first.Changes, want)
	}
	if first.EventsFailed != 2 {
		t.Errorf("first scan: events_failed %d; want the publisher's 2", first.EventsFailed)
	}
	if len(pub.calls) != 1 || len(pub.calls[0].ts) != first.Findings() || pub.calls[0].sum.ScanID != first.ScanID {
		t.Fatalf("publisher calls after the first scan: %d; want 1 with %d transitions of scan %s", len(pub.calls), first.Findings(), first.ScanID)
	}
	for _, tr := range pub.calls[0].ts {
		if tr.Kind != report.TransitionOpened || tr.ScanID != first.ScanID {
			t.Errorf("first scan published %s of scan %s; want opened of %s", tr.Kind, tr.ScanID, first.ScanID)
		}
	}

	pub.fail = 0
	second := run()
	if second.Changes != (report.TransitionCounts{}) || second.EventsFailed != 0 {
		t.Errorf("second scan, nothing changed: changes %+v, events_failed %d; want none", second.Changes, second.EventsFailed)
	}
	if len(pub.calls) != 2 || len(pub.calls[1].ts) != 0 || pub.calls[1].sum.ScanID != second.ScanID {
		t.Errorf("publisher after the second scan: %d calls, the last with %d transitions; want 2, the last with none", len(pub.calls), len(pub.calls[len(pub.calls)-1].ts))
	}
}

// recordingExporter keeps the transitions of each run and answers with
// counts.
type recordingExporter struct {
	calls  [][]report.Transition
	counts report.SecurityHubCounts
	err    error
}

func (e *recordingExporter) Export(_ context.Context, ts []report.Transition) (report.SecurityHubCounts, error) {
	e.calls = append(e.calls, ts)
	return e.counts, e.err
}

// TestRunExportsChangesBeforePublishing: the exporter receives the run's
// transitions; its counts are in the summary, and so in the summary the
// publisher sends (the scan's event), even when it reports an error,
// which does not fail the run. A dry run exports nothing.
func TestRunExportsChangesBeforePublishing(t *testing.T) {
	ctx := context.Background()
	_, settings := golden(t)
	log := &report.TransitionLog{}
	store := report.NewMemory(report.StoreOptions{OnTransition: log.Record})
	pub := &recordingPublisher{}
	exp := &recordingExporter{counts: report.SecurityHubCounts{Imported: 3, Failed: 1, NotEnabled: 1, Skipped: 2}, err: errors.New("1 finding not imported")}
	settings.Sink, settings.Transitions, settings.Publisher, settings.Exporter = store, log, pub, exp
	sum, err := pipeline.Run(ctx, settings)
	if err != nil {
		t.Fatalf("Run: %v; an export failure does not fail the run", err)
	}
	if len(exp.calls) != 1 || len(exp.calls[0]) != sum.Findings() {
		t.Fatalf("exporter: %d calls; want 1 with the %d opened findings", len(exp.calls), sum.Findings())
	}
	if sum.SecurityHub == nil || *sum.SecurityHub != exp.counts {
		t.Errorf("summary's security_hub %+v; want the exporter's %+v", sum.SecurityHub, exp.counts)
	}
	if len(pub.calls) != 1 || pub.calls[0].sum.SecurityHub == nil || *pub.calls[0].sum.SecurityHub != exp.counts {
		t.Errorf("the published summary does not carry the export's counts: %+v", pub.calls)
	}

	settings.Sink = nil // a dry run
	dry, err := pipeline.Run(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.calls) != 1 || dry.SecurityHub != nil {
		t.Errorf("dry run: %d exporter calls, security_hub %+v; want none", len(exp.calls), dry.SecurityHub)
	}
}
