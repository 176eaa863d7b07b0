package pipeline

import (
	"context"
	"time"

	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/internal/summary"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// handler is the scan.Handler of a run: it evaluates each result as it
// arrives, hands the findings to the sink and counts them.
type handler struct {
	eval *rules.Evaluator
	sink report.Sink // nil: a dry run
	// writeCtx outlives the scan's context for a grace period (Run).
	writeCtx context.Context
	scanID   string
	now      func() time.Time
	count    *summary.Counter
}

// Bucket and Account write with h.writeCtx, not the scanner's ctx: an
// interrupted run still writes what it read.
func (h *handler) Bucket(_ context.Context, r inventory.BucketResult) error {
	ctx := h.writeCtx
	fs := h.eval.Bucket(r, h.scanID, h.now().UTC())
	if h.sink != nil && len(fs) > 0 {
		if err := h.sink.Put(ctx, fs); err != nil {
			return err
		}
	}
	h.count.Bucket(r, fs)
	return nil
}

func (h *handler) Account(_ context.Context, r inventory.AccountResult) error {
	ctx := h.writeCtx
	fs := h.eval.Account(r, h.scanID, h.now().UTC())
	if h.sink != nil {
		if len(fs) > 0 {
			if err := h.sink.Put(ctx, fs); err != nil {
				return err
			}
		}
		if err := h.sink.AccountDone(ctx, h.scanID, r); err != nil {
			return err
		}
	}
	h.count.Account(r, fs)
	return nil
}
