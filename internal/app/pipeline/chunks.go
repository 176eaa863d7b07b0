package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// Chunks of very large accounts (docs/scale.md). A worker lists its
// account's buckets (scan.ScanSplit); when there are more than
// Config.ChunkBuckets it reads none of them but sends one message per
// chunk of that many, and records the number of chunks on the account's
// chunk record (Ledger.SetChunks). A chunk's worker reads its buckets
// only (scan.ScanChunk), writes their findings without resolving
// anything, and records the chunk (Ledger.RecordChunk). The caller that
// finds every chunk recorded closes the account: its status is the
// listing's and the chunks' worst, its stale findings are resolved only
// if all were complete (from the table: report.AccountDoneAcross), and
// it records the account on the run as an unsplit account is. The depth
// is coordinator → worker → chunk: a chunk never splits again.

// splitListing is the handler of a worker's account: an account split
// into chunks is kept aside, not closed; its chunks close it.
type splitListing struct {
	*handler
	split *inventory.AccountResult
}

func (l *splitListing) Account(ctx context.Context, r inventory.AccountResult) error {
	if r.Chunks > 0 {
		l.split = &r
		return nil
	}
	return l.handler.Account(ctx, r)
}

// chunkHandler is the handler of a chunk: its findings are written (the
// store's AccountDone flushes them), nothing is resolved, and its result
// kept for its part.
type chunkHandler struct {
	*handler
	result inventory.AccountResult
}

var notClosed = &inventory.Failure{Code: "Chunk", Message: "a chunk of a split account: the account is closed once every chunk is recorded"}

func (c *chunkHandler) Account(_ context.Context, r inventory.AccountResult) error {
	h, id := c.handler, r.Account.ID
	if f := h.failure(id); f != nil && r.Status == inventory.AccountComplete {
		r.Status, r.Failure = inventory.AccountIncomplete, f
	}
	if h.sink != nil {
		flush := r
		flush.Status, flush.Failure = inventory.AccountIncomplete, notClosed // writes, resolves nothing
		if err := h.sink.AccountDone(h.writeCtx, h.scanID, flush); err != nil {
			h.writeFailed(id, err)
			if r.Status == inventory.AccountComplete {
				r.Status, r.Failure = inventory.AccountIncomplete, h.failure(id)
			}
		}
	}
	c.result = r
	return nil
}

// chunkPart is one chunk's outcome as the ledger keeps it: its buckets'
// counts and findings, and its result (status, unreadable buckets).
type chunkPart struct {
	Summary report.Summary          `json:"summary"`
	Open    []openCount             `json:"open,omitempty"`
	Result  inventory.AccountResult `json:"result"`
}

// sendChunk sends one chunk's message, resending it with back-off when
// SQS fails it.
func (f Fanout) sendChunk(ctx context.Context, m Message) error {
	if f.Queue == nil || f.QueueURL == "" {
		return errors.New("no SQS queue to send chunks to")
	}
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	attempts := cmp.Or(f.SendAttempts, 5)
	var last error
	for attempt := 1; ; attempt++ {
		out, err := f.Queue.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(f.QueueURL),
			Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("0"), MessageBody: aws.String(string(body))}}})
		switch {
		case err != nil:
			last = err
		case len(out.Failed) > 0:
			e := out.Failed[0]
			last = fmt.Errorf("%s: %s", aws.ToString(e.Code), aws.ToString(e.Message))
			if e.SenderFault {
				return last
			}
		default:
			return nil
		}
		if attempt >= attempts {
			return last
		}
		if err := backoff.Sleep(ctx, backoff.Equal(100*time.Millisecond, 5*time.Second, attempt)); err != nil {
			return errors.Join(last, err)
		}
	}
}

// splitDone records that the worker's account was split (r.Chunks
// chunks sent) and closes it if its chunks are all recorded already.
func splitDone(ctx, writeCtx context.Context, s Settings, f Fanout, fr report.FanoutRun, m Message, r inventory.AccountResult) error {
	listing, err := json.Marshal(r)
	if err != nil {
		return err
	}
	done, err := f.Ledger.SetChunks(writeCtx, m.ScanID, m.Shard, m.Account.ID, r.Chunks, listing)
	if err != nil {
		return err
	}
	s.Logger.InfoContext(ctx, "account split into chunks", "scan_id", m.ScanID, "account", m.Account.ID,
		"buckets", r.Buckets, "chunks", r.Chunks, "status", r.Status)
	if !done {
		return nil
	}
	return closeSplit(writeCtx, s, f, fr, m)
}

// workChunk reads one chunk's buckets, writes their findings and records
// the chunk; the worker that records the last chunk closes the account.
func workChunk(ctx, writeCtx context.Context, s Settings, f Fanout, fr report.FanoutRun, m Message, scanner *scan.Scanner, h *handler, open *openTally, changes *changeStream) error {
	c := &chunkHandler{handler: h}
	if err := scanner.ScanChunk(ctx, m.Account, m.Chunk.Buckets, c); err != nil {
		return fmt.Errorf("scan chunk %d of account %s: %w", m.Chunk.Index, m.Account.ID, err)
	}
	run := report.Run{ScanID: fr.ScanID, Trigger: fr.Trigger, StartedAt: fr.StartedAt}
	sum := h.count.Summary(run)
	log := s.Logger.With("scan_id", m.ScanID, "account", m.Account.ID)
	publishChanges(writeCtx, s, &sum, changes, log)
	p, err := json.Marshal(chunkPart{Summary: sum, Open: open.counts(), Result: c.result})
	if err != nil {
		return err
	}
	done, err := f.Ledger.RecordChunk(writeCtx, m.ScanID, m.Shard, m.Account.ID, m.Chunk.Index, p)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "chunk recorded", "chunk", m.Chunk.Index, "status", c.result.Status, "buckets", len(m.Chunk.Buckets))
	if !done {
		return nil
	}
	return closeSplit(writeCtx, s, f, fr, m)
}

// acrossSink closes accounts with report.AccountDoneAcross.
type acrossSink struct{ report.Sink }

func (a acrossSink) AccountDone(ctx context.Context, scanID string, r inventory.AccountResult) error {
	return report.AccountDoneAcross(ctx, a.Sink, scanID, r)
}

// closeSplit closes a split account whose chunks are all recorded: it
// merges the listing's and the chunks' results, writes the account's own
// findings (its coverage findings when it is not complete), resolves its
// stale findings when every part was complete, and records the account
// on the run.
func closeSplit(ctx context.Context, s Settings, f Fanout, fr report.FanoutRun, m Message) error {
	log := s.Logger.With("scan_id", m.ScanID, "account", m.Account.ID)
	listing, parts, err := f.Ledger.Chunks(ctx, m.ScanID, m.Shard, m.Account.ID)
	if err != nil {
		return err
	}
	var r inventory.AccountResult
	if err := json.Unmarshal(listing, &r); err != nil {
		return fmt.Errorf("listing of account %s: %w", m.Account.ID, err)
	}
	if len(parts) != r.Chunks {
		return fmt.Errorf("account %s: %d of its %d chunks recorded", m.Account.ID, len(parts), r.Chunks)
	}
	var (
		sums []report.Summary
		open = map[OpenKey]int{}
	)
	for i := range r.Chunks {
		var p chunkPart
		if err := json.Unmarshal(parts[i], &p); err != nil {
			return fmt.Errorf("chunk %d of account %s: %w", i, m.Account.ID, err)
		}
		sums = append(sums, p.Summary)
		for _, o := range p.Open {
			open[OpenKey{o.Rule, o.Severity}] += o.N
		}
		c := p.Result
		r.Visited += c.Visited
		r.Configs += c.Configs
		r.Unreadable = append(r.Unreadable, c.Unreadable...)
		r.Unverified = append(r.Unverified, c.Unverified...)
		if r.Status == inventory.AccountComplete && c.Status != inventory.AccountComplete {
			r.Status, r.Failure = c.Status, c.Failure
		}
		if c.FinishedAt.After(r.FinishedAt) {
			r.FinishedAt = c.FinishedAt
		}
	}
	run := report.Run{ScanID: fr.ScanID, Trigger: fr.Trigger, StartedAt: fr.StartedAt}
	if err := report.Join(ctx, s.Sink, run); err != nil {
		return fmt.Errorf("join scan %s: %w", run.ScanID, err)
	}
	tally := &openTally{}
	h := &handler{eval: rules.NewEvaluator(s.Policy, runOrg(fr)), sink: report.Fanout(acrossSink{s.Sink}, tally), writeCtx: ctx,
		scanID: fr.ScanID, now: s.Now, count: report.NewSummaryCounter(1, nil), log: s.Logger}
	_ = h.Account(ctx, r)
	acct := h.count.Summary(run)
	publishChanges(ctx, s, &acct, nil, log)
	for _, o := range tally.counts() {
		open[OpenKey{o.Rule, o.Severity}] += o.N
	}
	sum := report.MergeSummaries(run, append(sums, acct)...)
	p := part{Summary: sum}
	for k, n := range open {
		p.Open = append(p.Open, openCount{Rule: k.Rule, Severity: k.Severity, N: n})
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	recorded, check, err := f.Ledger.Record(ctx, m.ScanID, m.Shard, m.Account.ID, b)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "account recorded", "recorded", recorded, "status", statusOf(sum), "buckets", sum.Buckets,
		"chunks", r.Chunks, "findings", sum.Findings())
	if !check {
		return nil
	}
	return finishIfDone(ctx, s, f, fr)
}
