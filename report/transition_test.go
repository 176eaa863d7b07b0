package report_test

import (
	"testing"

	"github.com/s3inv/scanner/report"
)

// TestTransitionLogStream: a streaming log hands its transitions over n
// at a time, in the order recorded, from the Record that brings it to n;
// Take returns the rest; once streaming stops, it holds them again.
func TestTransitionLogStream(t *testing.T) {
	var l report.TransitionLog
	var got [][]report.Transition
	l.Stream(3, func(ts []report.Transition) { got = append(got, ts) })
	rec := func(n int) {
		for range n {
			l.Record(report.Transition{Kind: report.TransitionOpened, ScanID: "s1", Record: report.Record{}})
		}
	}
	rec(7)
	if len(got) != 2 || len(got[0]) != 3 || len(got[1]) != 3 {
		t.Fatalf("batches %d; want 2 of 3", len(got))
	}
	l.Stream(0, nil)
	rec(5)
	if ts, stale := l.Take("s1"); len(ts) != 6 || stale != 0 || len(got) != 2 {
		t.Errorf("after streaming stopped: took %d (%d stale), %d batches; want 6, 0, 2", len(ts), stale, len(got))
	}
}
