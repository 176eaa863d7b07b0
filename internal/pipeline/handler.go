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
	eval   *rules.Evaluator
	sink   report.Sink // nil: a dry run
	scanID string
	now    func() time.Time
	count  *summary.Counter
}

func (h *handler) Bucket(ctx context.Context, r inventory.BucketResult) error {
	fs := h.eval.Bucket(r, h.scanID, h.now().UTC())
	if h.sink != nil && len(fs) > 0 {
		if err := h.sink.Put(ctx, fs); err != nil {
			return err
		}
	}
	h.count.Bucket(r, fs)
	return nil
}

func (h *handler) Account(ctx context.Context, r inventory.AccountResult) error {
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
