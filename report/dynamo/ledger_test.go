package dynamo

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3inv/scanner/report"
)

// TestLedgerRecordsEachAccountOnceAndClosesOnce records the 250 accounts
// of a run (three shards) from eight goroutines, each account twice, and
// checks that every account is recorded exactly once, that the run is
// pending until the last account, that the callers told to check see no
// account pending at least once, and that exactly one Close succeeds.
func TestLedgerRecordsEachAccountOnceAndClosesOnce(t *testing.T) {
	ctx := context.Background()
	l := NewLedger(newTestStore(t, report.StoreOptions{}, nil))
	const n = 250
	accounts := make([]string, n)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	run := report.FanoutRun{ScanID: "20261125T000000.000Z-abcdef", Trigger: "schedule", StartedAt: start,
		Deadline: start.Add(time.Hour), Accounts: accounts, Members: accounts[:3], FromOrganizations: true, OrgID: "o-abcdef1234", WholeScope: true}
	if err := l.OpenRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if err := l.OpenRun(ctx, run); err == nil {
		t.Error("second OpenRun of the same scan: no error")
	}
	got, ok, err := l.FanoutRun(ctx, run.ScanID)
	if err != nil || !ok || got.Expected != n || !got.Deadline.Equal(run.Deadline) || !slices.Equal(got.Members, accounts[:3]) || got.OrgID != run.OrgID || !got.Open(start) || got.Open(run.Deadline) {
		t.Fatalf("FanoutRun = %+v, %v, %v", got, ok, err)
	}
	if pending, err := l.Pending(ctx, run.ScanID); err != nil || !slices.Equal(pending, accounts) {
		t.Fatalf("Pending before any record: %d accounts, %v; want all %d", len(pending), err, n)
	}

	var (
		recorded, sawDone, closes atomic.Int64
		wg                        sync.WaitGroup
		work                      = make(chan int)
	)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				ok, check, err := l.Record(ctx, run.ScanID, report.Shard(i), accounts[i], []byte(accounts[i]))
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					recorded.Add(1)
				}
				if !check {
					continue
				}
				pending, err := l.Pending(ctx, run.ScanID)
				if err != nil {
					t.Error(err)
					return
				}
				if len(pending) == 0 {
					sawDone.Add(1)
					if closed, err := l.Close(ctx, run.ScanID, start.Add(time.Minute)); err != nil {
						t.Error(err)
					} else if closed {
						closes.Add(1)
					}
				}
			}
		})
	}
	for round := range 2 {
		for i := range n {
			work <- (i*7 + round) % n
		}
	}
	close(work)
	wg.Wait()
	if recorded.Load() != n || sawDone.Load() == 0 || closes.Load() != 1 {
		t.Errorf("recorded %d, saw the run done %d times, closed %d times; want %d, at least once, once", recorded.Load(), sawDone.Load(), closes.Load(), n)
	}
	parts, err := l.Parts(ctx, run.ScanID)
	if err != nil || len(parts) != n || string(parts[accounts[123]]) != accounts[123] {
		t.Errorf("Parts: %d, %v; want %d, each its account", len(parts), err, n)
	}
	got, _, _ = l.FanoutRun(ctx, run.ScanID)
	if got.ClosedAt.IsZero() || got.Open(start) {
		t.Errorf("closed run = %+v; want closed_at set and not open", got)
	}
	if closed, err := l.Close(ctx, run.ScanID, start); err != nil || closed {
		t.Errorf("Close again = %v, %v; want false", closed, err)
	}
	if closed, err := l.Close(ctx, "20261125T000000.000Z-000000", start); err != nil || closed {
		t.Errorf("Close of an unknown run = %v, %v; want false", closed, err)
	}
}

// TestLedgerChunks: the listing and 5 chunks of a split account are
// recorded from 11 goroutines at once (every chunk twice, as redelivered
// messages are): at least one call reports done (the last update sees
// everything), and Chunks returns the listing and each chunk's part once.
// Then, in order: a chunk recorded before the listing is not done, nor is
// the listing while a chunk is missing; the last chunk is.
func TestLedgerChunks(t *testing.T) {
	ctx := context.Background()
	l := NewLedger(newTestStore(t, report.StoreOptions{}, nil))
	const (
		scanID  = "20261125T000000.000Z-abcdef"
		account = "222222222222"
		n       = 5
	)
	var (
		wg    sync.WaitGroup
		dones atomic.Int32
		errs  = make(chan error, 2*n+1)
	)
	wg.Go(func() {
		done, err := l.SetChunks(ctx, scanID, 3, account, n, []byte(`{"listing":true}`))
		errs <- err
		if done {
			dones.Add(1)
		}
	})
	for i := range 2 * n {
		wg.Go(func() {
			done, err := l.RecordChunk(ctx, scanID, 3, account, i%n, fmt.Appendf(nil, `{"chunk":%d}`, i%n))
			errs <- err
			if done {
				dones.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if dones.Load() == 0 {
		t.Fatal("no call reported the account's chunks all recorded")
	}
	listing, parts, err := l.Chunks(ctx, scanID, 3, account)
	if err != nil || string(listing) != `{"listing":true}` || len(parts) != n {
		t.Fatalf("Chunks = %s, %d parts, %v; want the listing and %d parts", listing, len(parts), err, n)
	}
	for i := range n {
		if string(parts[i]) != fmt.Sprintf(`{"chunk":%d}`, i) {
			t.Errorf("part %d = %s", i, parts[i])
		}
	}
	// Another account of the same shard: a chunk recorded before the
	// listing is not done, the listing then is.
	if done, err := l.RecordChunk(ctx, scanID, 3, "333333333333", 0, []byte(`{}`)); err != nil || done {
		t.Errorf("first chunk before its listing: done %v, %v; want not done", done, err)
	}
	if done, err := l.SetChunks(ctx, scanID, 3, "333333333333", 2, []byte(`{}`)); err != nil || done {
		t.Errorf("listing of 2 chunks with 1 recorded: done %v, %v; want not done", done, err)
	}
	if done, err := l.RecordChunk(ctx, scanID, 3, "333333333333", 1, []byte(`{}`)); err != nil || !done {
		t.Errorf("last chunk: done %v, %v; want done", done, err)
	}
}

// TestLedgerExpects opens a run of 5,000 accounts (50 shards) and asks
// whether it expects accounts: each in its own shard, before and after it
// is recorded, and no other: not in another shard, not an account outside
// the run, not in an unknown run.
func TestLedgerExpects(t *testing.T) {
	ctx := context.Background()
	l := NewLedger(newTestStore(t, report.StoreOptions{}, nil))
	const n = 5000
	accounts := make([]string, n)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	start := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	run := report.FanoutRun{ScanID: "20261125T000000.000Z-abcdef", Trigger: "schedule", StartedAt: start,
		Deadline: start.Add(time.Hour), Accounts: accounts, FromOrganizations: true, WholeScope: true}
	if err := l.OpenRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	expects := func(scanID string, shard int, account string) bool {
		t.Helper()
		ok, err := l.Expects(ctx, scanID, shard, account)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for shard := range shardsOf(n) {
		for _, i := range []int{shard * report.ShardSize, (shard+1)*report.ShardSize - 1} {
			if !expects(run.ScanID, shard, accounts[i]) {
				t.Errorf("account %s (number %d) not expected in its shard %d", accounts[i], i, shard)
			}
			if expects(run.ScanID, (shard+1)%shardsOf(n), accounts[i]) {
				t.Errorf("account %s (number %d) expected in shard %d; it is in %d", accounts[i], i, (shard+1)%shardsOf(n), shard)
			}
		}
	}
	if _, _, err := l.Record(ctx, run.ScanID, 0, accounts[0], []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if !expects(run.ScanID, 0, accounts[0]) {
		t.Error("a recorded account is no longer expected; want it expected (its message may come again)")
	}
	for what, c := range map[string]struct {
		scanID  string
		shard   int
		account string
	}{
		"an account outside the run": {run.ScanID, 0, "999999999999"},
		"a shard past the last":      {run.ScanID, shardsOf(n), accounts[n-1]},
		"an unknown run":             {"20261125T000000.000Z-000000", 0, accounts[0]},
	} {
		if expects(c.scanID, c.shard, c.account) {
			t.Errorf("%s: expected; want not", what)
		}
	}
}
