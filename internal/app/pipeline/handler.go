package pipeline

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
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
	count    *report.SummaryCounter
	log      *slog.Logger
	tap      Tap // nil: none

	mu     sync.Mutex
	failed map[string]*inventory.Failure // accounts whose findings were not all written
	// unverified are, per account, the source buckets whose destination
	// checks could not all be made (AccountResult.Unverified).
	unverified map[string][]string
}

// Destinations evaluates the destination checks of an account, before
// the account is closed, and writes their findings. The findings are
// counted as the account's (its buckets were counted already).
func (h *handler) Destinations(_ context.Context, acct inventory.Account, checks []inventory.DestinationCheck) error {
	if h.tap != nil {
		h.tap.Destinations(acct, checks)
	}
	fs, unverified := h.eval.Destinations(checks, h.scanID, h.now().UTC())
	if len(unverified) > 0 {
		h.mu.Lock()
		if h.unverified == nil {
			h.unverified = map[string][]string{}
		}
		h.unverified[acct.ID] = unverified
		h.mu.Unlock()
	}
	if len(fs) == 0 {
		return nil
	}
	if h.sink != nil {
		h.writeFailed(acct.ID, h.sink.Put(h.writeCtx, fs))
	}
	h.count.Findings(acct, fs)
	return nil
}

// Bucket and Account write with h.writeCtx, not the scanner's ctx: an
// interrupted run still writes what it read.
func (h *handler) Bucket(_ context.Context, r inventory.BucketResult) error {
	if h.tap != nil {
		h.tap.Bucket(r)
	}
	fs := h.eval.Bucket(r, h.scanID, h.now().UTC())
	if h.sink != nil && len(fs) > 0 {
		h.writeFailed(r.Account.ID, h.sink.Put(h.writeCtx, fs))
	}
	h.count.Bucket(r, fs)
	return nil
}

// Account closes an account. When any of its findings could not be
// written (a failed batch, or a newer run holding the account), the
// account is INCOMPLETE: the sink resolves nothing of it, and the other
// accounts and the run record are written as usual.
func (h *handler) Account(_ context.Context, r inventory.AccountResult) error {
	ctx := h.writeCtx
	if f := h.failure(r.Account.ID); f != nil && r.Status == inventory.AccountComplete {
		r.Status, r.Failure = inventory.AccountIncomplete, f
	}
	h.mu.Lock()
	r.Unverified = h.unverified[r.Account.ID]
	delete(h.unverified, r.Account.ID)
	h.mu.Unlock()
	fs := h.eval.Account(r, h.scanID, h.now().UTC())
	if h.sink != nil {
		if len(fs) > 0 {
			h.writeFailed(r.Account.ID, h.sink.Put(ctx, fs))
		}
		if err := h.sink.AccountDone(ctx, h.scanID, r); err != nil {
			h.writeFailed(r.Account.ID, err)
			if r.Status == inventory.AccountComplete {
				r.Status, r.Failure = inventory.AccountIncomplete, h.failure(r.Account.ID)
			}
		}
	}
	h.count.Account(r, fs)
	if h.tap != nil {
		h.tap.Account(r)
	}
	return nil
}

// writeFailed records the first write error of an account, and logs it.
func (h *handler) writeFailed(account string, err error) {
	if err == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed == nil {
		h.failed = map[string]*inventory.Failure{}
	}
	if h.failed[account] == nil {
		h.failed[account] = report.WriteFailure(err)
		h.log.Error("findings not written: the account stays INCOMPLETE, nothing of it is resolved",
			"scan_id", h.scanID, "account", account, "error", err.Error())
	}
}

// failure is why an account's findings were not all written, or nil.
func (h *handler) failure(account string) *inventory.Failure {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.failed[account]
}
