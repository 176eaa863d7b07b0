package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/report"
)

// Source is the source of every event the scanner publishes.
const Source = "s3-inventory-scanner"

// The detail-types.
const (
	DetailOpened        = "Finding Opened"
	DetailReopened      = "Finding Reopened"
	DetailResolved      = "Finding Resolved"
	DetailWaived        = "Finding Waived"
	DetailWaiverExpired = "Waiver Expired"
	DetailScanFinished  = "Scan Finished"
)

// DetailType returns the detail-type of a transition's event.
func DetailType(k report.TransitionKind) string {
	switch k {
	case report.TransitionOpened:
		return DetailOpened
	case report.TransitionReopened:
		return DetailReopened
	case report.TransitionResolved:
		return DetailResolved
	case report.TransitionWaived:
		return DetailWaived
	case report.TransitionWaiverExpired:
		return DetailWaiverExpired
	}
	return ""
}

// Limits of PutEvents.
const (
	// MaxEntries is the most entries one PutEvents call carries.
	MaxEntries = 10
	// MaxSize is the largest entry, and the largest sum of the entries
	// of one call, in bytes, as EventBridge counts them (EntrySize).
	MaxSize = 256 * 1024
)

// FindingDetail is the detail of a finding's event: its record as the
// store keeps it, the change and the status before it.
type FindingDetail struct {
	report.Record
	// Change is the transition: opened, reopened, resolved, waived or
	// waiver_expired.
	Change string `json:"change"`
	// PreviousStatus is the status before the change (OPEN, WAIVED or
	// RESOLVED); empty for an opened finding.
	PreviousStatus string `json:"previous_status,omitempty"`
	// EvidenceOmitted is set when the evidence was left out to keep the
	// event within EventBridge's size limit.
	EvidenceOmitted bool `json:"evidence_omitted,omitempty"`
}

// API is the part of the EventBridge client the publisher calls.
// *eventbridge.Client implements it.
type API interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ API = (*eventbridge.Client)(nil)

// Options configure a Publisher.
type Options struct {
	// Bus is the event bus's name or ARN; "" is the account's default
	// bus.
	Bus string
	// Attempts is how many times an entry is sent at most (5 when zero).
	Attempts int
	// Backoff is the first wait before sending failed entries again; it
	// doubles with each attempt, up to MaxBackoff (100ms and 5s when
	// zero). Each wait is jittered (half fixed, half random).
	Backoff, MaxBackoff time.Duration
	// Logger receives a line for each event that could not be sent
	// (default: slog.Default()).
	Logger *slog.Logger
}

// Publisher sends a scan's events to EventBridge. It is safe for
// sequential reuse across runs.
type Publisher struct {
	api  API
	opts Options
}

// New returns a publisher that sends with api.
func New(api API, opts Options) (*Publisher, error) {
	if api == nil {
		return nil, errors.New("events publisher: nil EventBridge client")
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Publisher{api: api, opts: opts}, nil
}

// Bus is the bus the publisher sends to ("" for the default bus).
func (p *Publisher) Bus() string { return p.opts.Bus }

// event is one entry to send, with what identifies it in logs.
type event struct {
	entry types.PutEventsRequestEntry
	size  int
	about string // the finding ID, or the scan ID
}

// Publish sends an event for each transition and one for the finished
// scan (its summary, last). It returns how many events could not be sent
// once every attempt was spent (or ctx ended), and why.
func (p *Publisher) Publish(ctx context.Context, ts []report.Transition, sum report.Summary) (failed int, err error) {
	return p.publish(ctx, ts, &sum)
}

// PublishChanges sends an event for each transition alone (a fan-out
// worker's account; the run's summary is published once, by the worker
// that finalizes the run).
func (p *Publisher) PublishChanges(ctx context.Context, ts []report.Transition) (failed int, err error) {
	return p.publish(ctx, ts, nil)
}

func (p *Publisher) publish(ctx context.Context, ts []report.Transition, sum *report.Summary) (failed int, err error) {
	evs := make([]event, 0, len(ts)+1)
	var errs []error
	for _, t := range ts {
		ev, err := p.findingEvent(t)
		if err != nil {
			failed++
			errs = append(errs, err)
			p.opts.Logger.ErrorContext(ctx, "event not sent", "detail_type", DetailType(t.Kind), "finding_id", t.Record.FindingID, "error", err)
			continue
		}
		evs = append(evs, ev)
	}
	if sum != nil {
		ev, err := p.scanEvent(*sum)
		if err != nil {
			failed++
			errs = append(errs, err)
			p.opts.Logger.ErrorContext(ctx, "event not sent", "detail_type", DetailScanFinished, "scan_id", sum.ScanID, "error", err)
		} else {
			evs = append(evs, ev)
		}
	}
	for _, batch := range batches(evs) {
		n, err := p.send(ctx, batch)
		failed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return failed, errors.Join(errs...)
}

func (p *Publisher) findingEvent(t report.Transition) (event, error) {
	dt := DetailType(t.Kind)
	if dt == "" {
		return event{}, fmt.Errorf("finding %s: unknown transition %s", t.Record.FindingID, t.Kind)
	}
	d := FindingDetail{Record: t.Record, Change: t.Kind.String(), PreviousStatus: string(t.From)}
	at := t.Record.LastSeen
	if t.Kind == report.TransitionResolved {
		at = t.Record.ResolvedAt
	}
	ev, err := p.newEvent(dt, d, at, t.Record.FindingID)
	if err == nil && ev.size > MaxSize && len(d.Evidence) > 0 {
		d.Evidence, d.EvidenceOmitted = nil, true
		ev, err = p.newEvent(dt, d, at, t.Record.FindingID)
	}
	if err == nil && ev.size > MaxSize {
		err = fmt.Errorf("finding %s: %s event of %d bytes; EventBridge takes at most %d", t.Record.FindingID, dt, ev.size, MaxSize)
	}
	return ev, err
}

func (p *Publisher) scanEvent(sum report.Summary) (event, error) {
	at := sum.FinishedAt
	if at.IsZero() {
		at = time.Now()
	}
	ev, err := p.newEvent(DetailScanFinished, sum, at, sum.ScanID)
	if err == nil && ev.size > MaxSize {
		err = fmt.Errorf("scan %s: %s event of %d bytes; EventBridge takes at most %d", sum.ScanID, DetailScanFinished, ev.size, MaxSize)
	}
	return ev, err
}

func (p *Publisher) newEvent(detailType string, detail any, at time.Time, about string) (event, error) {
	b, err := json.Marshal(detail)
	if err != nil {
		return event{}, fmt.Errorf("%s event of %s: %w", detailType, about, err)
	}
	e := types.PutEventsRequestEntry{
		Source: aws.String(Source), DetailType: aws.String(detailType), Detail: aws.String(string(b)),
		Time: aws.Time(at.UTC()),
	}
	if p.opts.Bus != "" {
		e.EventBusName = aws.String(p.opts.Bus)
	}
	return event{entry: e, size: EntrySize(e), about: about}, nil
}

// EntrySize is an entry's size as EventBridge counts it against its
// limit: 14 bytes for a time, the bytes of the source, detail-type and
// detail, and of each resource.
func EntrySize(e types.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	n += len(aws.ToString(e.Source)) + len(aws.ToString(e.DetailType)) + len(aws.ToString(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// batches groups events in order into calls of at most MaxEntries
// entries and MaxSize bytes.
func batches(evs []event) [][]event {
	var out [][]event
	var cur []event
	size := 0
	for _, ev := range evs {
		if len(cur) == MaxEntries || (len(cur) > 0 && size+ev.size > MaxSize) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, ev)
		size += ev.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// retryable reports whether an entry that failed with code may succeed
// when sent again: EventBridge was throttled or failed (ThrottlingException,
// InternalFailure).
func retryable(code string) bool {
	k := awserr.ClassifyCode(code)
	return k == awserr.Throttled || k == awserr.Transient
}

// send sends one batch, sending its failed entries again while they are
// retryable and attempts remain; it returns how many were not sent.
func (p *Publisher) send(ctx context.Context, batch []event) (int, error) {
	var lastErr error
	failed := 0
	for attempt := 1; len(batch) > 0; attempt++ {
		in := &eventbridge.PutEventsInput{Entries: make([]types.PutEventsRequestEntry, len(batch))}
		for i, ev := range batch {
			in.Entries[i] = ev.entry
		}
		out, err := p.api.PutEvents(ctx, in)
		var again []event
		switch {
		case err != nil:
			// The SDK's retryer has retried what it could; the call as a
			// whole is tried again after a back-off like failed entries.
			again, lastErr = batch, fmt.Errorf("PutEvents of %d events: %w", len(batch), err)
		case len(out.Entries) != len(batch):
			again, lastErr = batch, fmt.Errorf("PutEvents of %d events: %d results", len(batch), len(out.Entries))
		default:
			for i, r := range out.Entries {
				code := aws.ToString(r.ErrorCode)
				if code == "" && r.EventId != nil {
					continue
				}
				lastErr = fmt.Errorf("event %s: %s: %s", batch[i].about, code, aws.ToString(r.ErrorMessage))
				if retryable(code) {
					again = append(again, batch[i])
					continue
				}
				failed += p.giveUp(ctx, batch[i], code, lastErr)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt >= p.opts.Attempts || ctx.Err() != nil {
			for _, ev := range again {
				failed += p.giveUp(ctx, ev, "", lastErr)
			}
			break
		}
		if err := backoff.Sleep(ctx, p.backoff(attempt)); err != nil {
			lastErr = errors.Join(lastErr, err)
		}
		batch = again
	}
	if failed == 0 {
		return 0, nil
	}
	return failed, fmt.Errorf("%d events not sent to %s; last error: %w", failed, p.busName(), lastErr)
}

func (p *Publisher) giveUp(ctx context.Context, ev event, code string, err error) int {
	p.opts.Logger.ErrorContext(ctx, "event not sent", "detail_type", aws.ToString(ev.entry.DetailType),
		"about", ev.about, "bus", p.busName(), "error_code", code, "error", err)
	return 1
}

func (p *Publisher) busName() string {
	if p.opts.Bus == "" {
		return "the default event bus"
	}
	return "event bus " + p.opts.Bus
}

// backoff is the wait before attempt+1: exponential, capped, with equal
// jitter.
func (p *Publisher) backoff(attempt int) time.Duration {
	return backoff.Equal(p.opts.Backoff, p.opts.MaxBackoff, attempt)
}

// UrgentOpeningsPattern is the EventBridge event pattern of the findings
// that page someone: CRITICAL and HIGH findings opened or reopened OPEN
// (not waived). The SAM template's notification rule uses it.
const UrgentOpeningsPattern = `{"source":["s3-inventory-scanner"],"detail-type":["Finding Opened","Finding Reopened"],"detail":{"severity":["CRITICAL","HIGH"],"status":["OPEN"]}}`
