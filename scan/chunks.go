package scan

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/semaphore"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Chunks of very large accounts (docs/scale.md): a fan-out worker scans
// an account with ScanSplit, which reads its buckets itself when it has
// at most a chunk's worth, and otherwise hands them out in chunks of
// that size, in listing order, to be read by other workers with
// ScanChunk. The lister keeps at most one chunk of bucket names in
// memory, whatever the account's size.

// ChunkFunc receives the index-th chunk of an account's buckets (from 0).
// An error stops the listing: the account is INCOMPLETE (code
// ChunkNotQueued), with the chunks handed out before it.
type ChunkFunc func(ctx context.Context, acct inventory.Account, index int, buckets []inventory.Bucket) error

// ScanSplit scans one account as Scan does, except that when its listing
// has more than size buckets none is read here: they are handed to chunk
// in chunks of size, and h.Account gets the account's result with Chunks
// set (its Buckets the buckets listed, nothing visited). size must be at
// least 1.
func (s *Scanner) ScanSplit(ctx context.Context, acct inventory.Account, size int, chunk ChunkFunc, h Handler) error {
	if size < 1 || chunk == nil {
		return fmt.Errorf("scan split: chunk size %d: want 1 or more, and a chunk function", size)
	}
	return s.scanSingle(ctx, &accountScan{split: &splitter{size: size, chunk: chunk}}, acct, h)
}

// ScanChunk reads the given buckets of one account (a chunk ScanSplit
// handed out) without listing the account's buckets: the role is
// assumed, each bucket read, and h.Account gets the chunk's result
// (Buckets: the chunk's buckets).
func (s *Scanner) ScanChunk(ctx context.Context, acct inventory.Account, buckets []inventory.Bucket, h Handler) error {
	if len(buckets) == 0 {
		return errors.New("scan chunk: no bucket")
	}
	return s.scanSingle(ctx, &accountScan{only: buckets}, acct, h)
}

func (s *Scanner) scanSingle(ctx context.Context, st *accountScan, acct inventory.Account, h Handler) error {
	awsCtx, cancel := s.awsContext(ctx)
	defer cancel()
	pool := semaphore.NewWeighted(int64(s.opts.MaxInFlight()))
	dr := s.destReads(h, pool, []inventory.Account{acct})
	if dr != nil && st.only != nil {
		// A chunk does not list its account's buckets: a missing
		// destination there is looked up by name, as in an account the
		// scan does not list.
		dr.owners[acct.ID].byName = true
	}
	return s.scanOne(ctx, awsCtx, st, acct, h, pool, dr, func() {})
}

// splitter keeps the first chunk of an account's listing and hands out
// chunks once the listing has more than one.
type splitter struct {
	size  int
	chunk ChunkFunc
	buf   []inventory.Bucket
	sent  int // chunks handed out
}

// add takes the next bucket listed.
func (sp *splitter) add(ctx context.Context, acct inventory.Account, b inventory.Bucket) error {
	if len(sp.buf) == sp.size {
		if err := sp.send(ctx, acct); err != nil {
			return err
		}
	}
	sp.buf = append(sp.buf, b)
	return nil
}

// flush hands out the last chunk, if the account was split.
func (sp *splitter) flush(ctx context.Context, acct inventory.Account) error {
	if sp.sent == 0 || len(sp.buf) == 0 {
		return nil
	}
	return sp.send(ctx, acct)
}

func (sp *splitter) send(ctx context.Context, acct inventory.Account) error {
	if err := sp.chunk(ctx, acct, sp.sent, sp.buf); err != nil {
		return fmt.Errorf("chunk %d of account %s: %w", sp.sent, acct.ID, err)
	}
	sp.sent++
	sp.buf = make([]inventory.Bucket, 0, sp.size)
	return nil
}
