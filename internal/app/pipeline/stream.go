package pipeline

import (
	"context"
	"log/slog"
	"sync"

	"github.com/s3inv/scanner/report"
)

// changeBatch is how many of a run's changes it holds at most before it
// hands them to the exporter and the publisher: a member account that
// opens a hundred thousand findings costs one batch of memory, not a
// hundred thousand transitions.
const changeBatch = 1000

// changeStream hands a run's changes (the transitions its stores
// reported) to the exporter and the publisher in batches of changeBatch
// while the run goes on (report.TransitionLog.Stream), and counts what
// it handed over; the end of the run takes the rest from the log and adds
// these counts (addTo). A run whose publisher only takes every change at
// once, with the summary, does not stream.
type changeStream struct {
	s      Settings
	scanID string
	cp     ChangePublisher
	ctx    context.Context
	log    *slog.Logger

	mu       sync.Mutex
	counts   report.TransitionCounts
	hub      report.SecurityHubCounts
	exported bool
	failed   int // events not published
	stale    int // changes of other runs
}

// streamChanges starts streaming the changes of run scanID; nil when the
// run keeps no changes or cannot stream them. Stop it with stop.
func streamChanges(ctx context.Context, s Settings, scanID string, log *slog.Logger) *changeStream {
	if s.Transitions == nil || s.Sink == nil {
		return nil
	}
	cp, ok := s.Publisher.(ChangePublisher)
	if s.Publisher != nil && !ok {
		return nil
	}
	c := &changeStream{s: s, scanID: scanID, cp: cp, ctx: context.WithoutCancel(ctx), log: log}
	s.Transitions.Stream(changeBatch, c.take)
	return c
}

// take exports and publishes one batch of changes; a batch at a time.
func (c *changeStream) take(ts []report.Transition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mine := make([]report.Transition, 0, len(ts))
	for _, t := range ts {
		if t.ScanID == c.scanID {
			mine = append(mine, t)
		} else {
			c.stale++
		}
	}
	c.counts = addCounts(c.counts, report.CountTransitions(mine))
	if c.s.Exporter != nil {
		ctx, cancel := context.WithTimeout(c.ctx, writeGrace)
		counts, err := c.s.Exporter.Export(ctx, mine)
		cancel()
		c.hub, c.exported = addHub(c.hub, counts), true
		if err != nil {
			c.log.ErrorContext(c.ctx, "findings not all exported to Security Hub", "imported", counts.Imported, "failed", counts.Failed, "error", err)
		}
	}
	if c.cp != nil && len(mine) > 0 {
		ctx, cancel := context.WithTimeout(c.ctx, writeGrace)
		failed, err := c.cp.PublishChanges(ctx, mine)
		cancel()
		c.failed += failed
		if err != nil {
			c.log.ErrorContext(c.ctx, "events not published", "events_failed", failed, "error", err)
		}
	}
}

// stop ends the streaming: the log holds the run's changes again until
// they are taken. Safe on nil, and more than once.
func (c *changeStream) stop() {
	if c != nil {
		c.s.Transitions.Stream(0, nil)
	}
}

// addTo adds what was streamed to sum: the changes, what Security Hub
// imported and the events not published; and returns how many changes of
// other runs it dropped. The caller stops the stream and counts the rest
// of the log first.
func (c *changeStream) addTo(sum *report.Summary) (stale int) {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum.Changes = addCounts(sum.Changes, c.counts)
	if c.exported {
		h := c.hub
		if sum.SecurityHub != nil {
			h = addHub(h, *sum.SecurityHub)
		}
		sum.SecurityHub = &h
	}
	sum.EventsFailed += c.failed
	return c.stale
}

func addCounts(a, b report.TransitionCounts) report.TransitionCounts {
	a.Opened += b.Opened
	a.Reopened += b.Reopened
	a.Resolved += b.Resolved
	a.Waived += b.Waived
	a.WaiverExpired += b.WaiverExpired
	return a
}

func addHub(a, b report.SecurityHubCounts) report.SecurityHubCounts {
	a.Imported += b.Imported
	a.Failed += b.Failed
	a.NotEnabled += b.NotEnabled
	a.Skipped += b.Skipped
	return a
}
