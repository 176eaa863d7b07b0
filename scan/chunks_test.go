package scan_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/scan"
)

// chunkFixture is one account of n buckets (one configuration each).
func chunkFixture(n int) *awssim.Fixture {
	return &awssim.Fixture{Organization: awssim.Organization{
		Role:     &awssim.Role{Name: roleName, ExternalID: extID},
		Accounts: []awssim.Account{{ID: "210987654321", Buckets: buckets("chunked", n, "us-east-1", 1)}},
	}}
}

// TestScanSplit: an account of 11 buckets with chunks of 4 is listed but
// not read: its buckets go out in 3 chunks (4, 4, 3) in listing order,
// and its result says so (Chunks 3, Buckets 11, nothing visited); each
// chunk read alone (ScanChunk) reads exactly its buckets, with one
// AssumeRole and no listing. An account of at most a chunk is read as
// Scan reads it; a chunk that cannot be handed out makes the account
// INCOMPLETE (ChunkNotQueued), with the chunks handed out before it.
func TestScanSplit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, chunkFixture(11))
	s, err := scan.New(e.conn, scan.Options{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	acct := inventory.Account{ID: "210987654321"}
	var (
		mu     sync.Mutex
		chunks [][]inventory.Bucket
	)
	keep := func(_ context.Context, a inventory.Account, i int, bs []inventory.Bucket) error {
		mu.Lock()
		defer mu.Unlock()
		if a.ID != acct.ID || i != len(chunks) {
			return errors.New("chunk out of order")
		}
		chunks = append(chunks, slices.Clone(bs))
		return nil
	}
	c := newCollector()
	if err := s.ScanSplit(ctx, acct, 4, keep, c); err != nil {
		t.Fatal(err)
	}
	r := c.accounts[acct.ID]
	if len(r) != 1 || r[0].Status != inventory.AccountComplete || r[0].Chunks != 3 || r[0].Buckets != 11 || r[0].Visited != 0 || len(c.buckets) != 0 {
		t.Fatalf("split account: %+v, %d buckets read; want COMPLETE, 3 chunks of 11 buckets, none read", r, len(c.buckets))
	}
	var names []string
	for i, ch := range chunks {
		if want := []int{4, 4, 3}[i]; len(ch) != want {
			t.Errorf("chunk %d: %d buckets; want %d", i, len(ch), want)
		}
		for _, b := range ch {
			names = append(names, b.Name)
		}
	}
	if len(names) != 11 || !slices.IsSorted(names) || names[0] != "chunked-000" || chunks[2][0].Region != "us-east-1" {
		t.Errorf("chunks' buckets %v; want the 11 buckets in listing order, with their Regions", names)
	}
	if n := e.srv.Calls("ListBucketInventoryConfigurations"); n != 0 {
		t.Errorf("the lister read %d buckets; want none", n)
	}

	e.srv.ResetCalls()
	cc := newCollector()
	if err := s.ScanChunk(ctx, acct, chunks[1], cc); err != nil {
		t.Fatal(err)
	}
	got := cc.accounts[acct.ID]
	if len(got) != 1 || got[0].Status != inventory.AccountComplete || got[0].Buckets != 4 || got[0].Visited != 4 || len(cc.buckets) != 4 {
		t.Errorf("chunk 1: %+v, %d buckets delivered; want 4 read, COMPLETE", got, len(cc.buckets))
	}
	if a, l, r := e.srv.Calls("AssumeRole"), e.srv.Calls("ListBuckets"), e.srv.Calls("ListBucketInventoryConfigurations"); a != 1 || l != 0 || r != 4 {
		t.Errorf("chunk 1: %d AssumeRole, %d ListBuckets, %d reads; want 1, 0, 4", a, l, r)
	}

	small := newCollector()
	if err := s.ScanSplit(ctx, acct, 11, keep, small); err != nil {
		t.Fatal(err)
	}
	if r := small.accounts[acct.ID]; len(r) != 1 || r[0].Chunks != 0 || r[0].Visited != 11 || len(small.buckets) != 11 {
		t.Errorf("account of one chunk's worth: %+v, %d buckets; want read here", r, len(small.buckets))
	}

	refused := newCollector()
	sent := 0
	refuse := func(context.Context, inventory.Account, int, []inventory.Bucket) error {
		if sent == 1 {
			return errors.New("queue unavailable")
		}
		sent++
		return nil
	}
	if err := s.ScanSplit(ctx, acct, 4, refuse, refused); err != nil {
		t.Fatal(err)
	}
	if r := refused.accounts[acct.ID]; len(r) != 1 || r[0].Status != inventory.AccountIncomplete || r[0].Failure == nil ||
		r[0].Failure.Code != "ChunkNotQueued" || r[0].Chunks != 1 {
		t.Errorf("a chunk refused: %+v; want INCOMPLETE (ChunkNotQueued) with 1 chunk handed out", r)
	}
	if err := s.ScanChunk(ctx, acct, nil, newCollector()); err == nil {
		t.Error("ScanChunk of no bucket: no error")
	}
	if err := s.ScanSplit(ctx, acct, 0, keep, newCollector()); err == nil {
		t.Error("ScanSplit with chunks of 0: no error")
	}
}
