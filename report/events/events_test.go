package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

var _ pipeline.Publisher = (*Publisher)(nil)

// fakeAPI answers PutEvents: fail decides, per entry and call, the error
// code of an entry ("" for success); callErr fails whole calls.
type fakeAPI struct {
	mu      sync.Mutex
	calls   [][]types.PutEventsRequestEntry
	fail    func(call int, e types.PutEventsRequestEntry) string
	callErr func(call int) error
}

func (f *fakeAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := len(f.calls)
	f.calls = append(f.calls, in.Entries)
	if f.callErr != nil {
		if err := f.callErr(call); err != nil {
			return nil, err
		}
	}
	out := &eventbridge.PutEventsOutput{}
	for i, e := range in.Entries {
		code := ""
		if f.fail != nil {
			code = f.fail(call, e)
		}
		if code == "" {
			out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String(fmt.Sprintf("ev-%d-%d", call, i))})
			continue
		}
		out.FailedEntryCount++
		out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(code), ErrorMessage: aws.String("injected")})
	}
	return out, nil
}

func newPublisher(t *testing.T, api API, logs *bytes.Buffer) *Publisher {
	t.Helper()
	opts := Options{Bus: "scanner-bus", Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	if logs != nil {
		opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	p, err := New(api, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// opened returns n transitions that open findings of account A.
func opened(n int) []report.Transition {
	fs := sinktest.Generate(sinktest.AccountA, n, 5, "s1", sinktest.T0)
	ts := make([]report.Transition, n)
	for i, f := range fs {
		next, _ := report.Observe(nil, f)
		ts[i] = report.Transition{Kind: report.TransitionOpened, ScanID: "s1", Record: next}
	}
	return ts
}

func scanSummary() report.Summary {
	return report.Summary{Run: report.Run{ScanID: "s1", StartedAt: sinktest.T0, FinishedAt: sinktest.T0.Add(time.Minute)}}
}

func findingOf(t *testing.T, e types.PutEventsRequestEntry) FindingDetail {
	t.Helper()
	var d FindingDetail
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &d); err != nil {
		t.Fatalf("detail of %s: %v", aws.ToString(e.DetailType), err)
	}
	return d
}

func TestBatchesOfTenScanLast(t *testing.T) {
	api := &fakeAPI{}
	failed, err := newPublisher(t, api, nil).Publish(context.Background(), opened(23), scanSummary())
	if failed != 0 || err != nil {
		t.Fatalf("Publish = %d, %v; want 0, nil", failed, err)
	}
	var sizes []int
	for _, c := range api.calls {
		sizes = append(sizes, len(c))
		for _, e := range c {
			if aws.ToString(e.Source) != Source || aws.ToString(e.EventBusName) != "scanner-bus" || e.Time == nil {
				t.Errorf("entry source %q bus %q time %v; want %q, scanner-bus, a time", aws.ToString(e.Source), aws.ToString(e.EventBusName), e.Time, Source)
			}
		}
	}
	if fmt.Sprint(sizes) != "[10 10 4]" {
		t.Errorf("calls of %v entries; want [10 10 4] (23 findings and the scan)", sizes)
	}
	last := api.calls[2][3]
	if aws.ToString(last.DetailType) != DetailScanFinished || !strings.Contains(aws.ToString(last.Detail), `"scan_id":"s1"`) {
		t.Errorf("last entry %s %s; want the Scan Finished event of s1", aws.ToString(last.DetailType), aws.ToString(last.Detail))
	}
	d := findingOf(t, api.calls[0][0])
	if aws.ToString(api.calls[0][0].DetailType) != DetailOpened || d.Change != "opened" || d.FindingID == "" || d.Severity == 0 || d.FirstSeen.IsZero() {
		t.Errorf("first entry %s with detail %+v; want a Finding Opened with the record", aws.ToString(api.calls[0][0].DetailType), d)
	}
}

func TestBatchesBySize(t *testing.T) {
	ts := opened(4)
	for i := range ts {
		ts[i].Record.Message = strings.Repeat("m", 100*1024) // 4 × 100 KB: two calls of two
	}
	api := &fakeAPI{}
	if failed, err := newPublisher(t, api, nil).Publish(context.Background(), ts, scanSummary()); failed != 0 || err != nil {
		t.Fatalf("Publish = %d, %v", failed, err)
	}
	for i, c := range api.calls {
		total := 0
		for _, e := range c {
			total += EntrySize(e)
		}
		if total > MaxSize {
			t.Errorf("call %d: %d bytes of entries; want at most %d", i, total, MaxSize)
		}
	}
	if len(api.calls) != 2 {
		t.Errorf("%d calls; want 2", len(api.calls))
	}
}

func TestOversizedEvent(t *testing.T) {
	ts := opened(2)
	ts[0].Record.Evidence = map[string]string{"huge": strings.Repeat("e", MaxSize)}
	ts[1].Record.Message = strings.Repeat("m", MaxSize)
	api := &fakeAPI{}
	var logs bytes.Buffer
	failed, err := newPublisher(t, api, &logs).Publish(context.Background(), ts, scanSummary())
	if failed != 1 || err == nil || !strings.Contains(err.Error(), ts[1].Record.FindingID) {
		t.Fatalf("Publish = %d, %v; want 1 failed naming %s", failed, err, ts[1].Record.FindingID)
	}
	if !strings.Contains(logs.String(), ts[1].Record.FindingID) {
		t.Errorf("the event too large is not logged: %s", logs.String())
	}
	if len(api.calls) != 1 || len(api.calls[0]) != 2 {
		t.Fatalf("calls %d; want one of 2 entries (the finding without evidence, the scan)", len(api.calls))
	}
	if d := findingOf(t, api.calls[0][0]); !d.EvidenceOmitted || d.Evidence != nil || d.FindingID != ts[0].Record.FindingID {
		t.Errorf("oversized evidence: detail evidence_omitted %v, %d evidence; want it sent without evidence", d.EvidenceOmitted, len(d.Evidence))
	}
}

// TestFailedEntriesResent: entries EventBridge reports failed with a
// retryable code are sent again, only they, until they are accepted.
func TestFailedEntriesResent(t *testing.T) {
	ts := opened(5)
	flaky := ts[2].Record.FindingID
	api := &fakeAPI{fail: func(call int, e types.PutEventsRequestEntry) string {
		if call < 2 && strings.Contains(aws.ToString(e.Detail), flaky) {
			return "ThrottlingException"
		}
		if call == 0 && aws.ToString(e.DetailType) == DetailScanFinished {
			return "InternalFailure"
		}
		return ""
	}}
	failed, err := newPublisher(t, api, nil).Publish(context.Background(), ts, scanSummary())
	if failed != 0 || err != nil {
		t.Fatalf("Publish = %d, %v; want every event sent in the end", failed, err)
	}
	var sizes []int
	for _, c := range api.calls {
		sizes = append(sizes, len(c))
	}
	if fmt.Sprint(sizes) != "[6 2 1]" {
		t.Errorf("calls of %v entries; want [6 2 1] (all, the two failed, the one failed twice)", sizes)
	}
}

// TestStillFailingCounted: an entry that fails every attempt, and one
// that fails for good at once, are counted, logged and named in the
// error; the others are sent.
func TestStillFailingCounted(t *testing.T) {
	ts := opened(3)
	always, malformed := ts[0].Record.FindingID, ts[1].Record.FindingID
	api := &fakeAPI{fail: func(_ int, e types.PutEventsRequestEntry) string {
		switch d := aws.ToString(e.Detail); {
		case strings.Contains(d, always):
			return "InternalFailure"
		case strings.Contains(d, malformed):
			return "MalformedDetail"
		}
		return ""
	}}
	var logs bytes.Buffer
	failed, err := newPublisher(t, api, &logs).Publish(context.Background(), ts, scanSummary())
	if failed != 2 || err == nil {
		t.Fatalf("Publish = %d, %v; want 2 failed and an error", failed, err)
	}
	if len(api.calls) != 5 {
		t.Errorf("%d calls; want 5 (the default attempts, the non-retryable entry sent once)", len(api.calls))
	}
	for _, id := range []string{always, malformed} {
		if !strings.Contains(logs.String(), id) {
			t.Errorf("failed event of %s not logged:\n%s", id, logs.String())
		}
	}
	if !strings.Contains(logs.String(), "MalformedDetail") {
		t.Errorf("log does not name the error code:\n%s", logs.String())
	}
}

func TestFailedCallsRetriedThenCounted(t *testing.T) {
	api := &fakeAPI{callErr: func(call int) error {
		if call < 2 {
			return errors.New("connection reset")
		}
		return nil
	}}
	if failed, err := newPublisher(t, api, nil).Publish(context.Background(), opened(3), scanSummary()); failed != 0 || err != nil {
		t.Fatalf("Publish after two failed calls = %d, %v; want 0, nil", failed, err)
	}
	down := &fakeAPI{callErr: func(int) error {
		return errors.New("AccessDeniedException: not authorized to perform events:PutEvents")
	}}
	failed, err := newPublisher(t, down, nil).Publish(context.Background(), opened(12), scanSummary())
	if failed != 13 || err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("Publish with every call failing = %d, %v; want 13 and the cause", failed, err)
	}
}

func TestDetailTypes(t *testing.T) {
	for k, want := range map[report.TransitionKind]string{
		report.TransitionOpened: "Finding Opened", report.TransitionReopened: "Finding Reopened",
		report.TransitionResolved: "Finding Resolved", report.TransitionWaived: "Finding Waived",
		report.TransitionWaiverExpired: "Waiver Expired",
	} {
		if got := DetailType(k); got != want {
			t.Errorf("DetailType(%s) = %q; want %q", k, got, want)
		}
	}
	ts := opened(1)
	ts[0].Kind = report.TransitionResolved
	ts[0].From = rules.StatusOpen
	ts[0].Record = report.Resolve(ts[0].Record, "scan-2", sinktest.T0.Add(time.Hour), time.Hour, report.ResolutionNotSeen)
	api := &fakeAPI{}
	if _, err := newPublisher(t, api, nil).Publish(context.Background(), ts, scanSummary()); err != nil {
		t.Fatal(err)
	}
	e := api.calls[0][0]
	d := findingOf(t, e)
	if !e.Time.Equal(sinktest.T0.Add(time.Hour)) || d.PreviousStatus != "OPEN" || d.Resolution != "NOT_SEEN" || d.Status != rules.StatusResolved {
		t.Errorf("resolved event at %v, detail %+v; want the resolution time, previous OPEN, NOT_SEEN", e.Time, d)
	}
}
