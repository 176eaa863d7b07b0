package report

import (
	"context"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// FanoutRun is the record of a scan run fanned out over many invocations
// (docs/scale.md): the coordinator writes it, the workers read it before
// each account and record each account on it, and the worker that records
// the last account (or the next coordinator, once the deadline has
// passed) closes it.
type FanoutRun struct {
	ScanID    string
	Trigger   string
	StartedAt time.Time
	// Deadline is when the run is closed whatever is missing: a message of
	// the run received after it is dropped.
	Deadline time.Time
	// Accounts are the accounts expected, in shards of ShardSize: account
	// i is in shard i / ShardSize. Only when written; a read leaves it
	// empty and sets Expected (Pending tells what is missing, Expects
	// whether an account is one of them).
	Accounts []string
	Expected int
	// Members are the IDs of every account of the organization (a static
	// list: the listed accounts), for the rules that ask whether an
	// account belongs to it and for the destination reads, which enter no
	// other account; FromOrganizations says whether the accounts came
	// from AWS Organizations.
	Members           []string
	FromOrganizations bool
	// OrgID is the organization's ID (o-...), for the destination checks'
	// aws:SourceOrgID; empty for a static list.
	OrgID string
	// WholeScope is true when the run covers every account in scope.
	WholeScope bool
	// ClosedAt is set once the run is closed.
	ClosedAt time.Time
}

// ShardSize is how many accounts one shard of a fan-out run's record
// holds (docs/scale.md): Shard places an account, and the ledger
// (report/dynamo) writes the shards by it.
const ShardSize = 100

// Shard is the shard of the i-th account of a run.
func Shard(i int) int { return i / ShardSize }

// Open reports whether a message of the run is still to be worked on at
// now: the run is neither closed nor past its deadline.
func (r FanoutRun) Open(now time.Time) bool {
	return r.ClosedAt.IsZero() && now.Before(r.Deadline)
}

// Ledger keeps fan-out runs. Recording an account is atomic and
// idempotent, and closing a run succeeds once, so that exactly one caller
// finalizes each run.
type Ledger interface {
	// OpenRun writes the record of a new fan-out run with its accounts
	// pending.
	OpenRun(ctx context.Context, run FanoutRun) error
	// FanoutRun reads a run's record (strongly consistent); ok is false
	// when there is none.
	FanoutRun(ctx context.Context, scanID string) (run FanoutRun, ok bool, err error)
	// Expects reports whether the run expects the account in that shard
	// (strongly consistent): the accounts the run was opened with, and
	// never another, whether recorded since or not.
	Expects(ctx context.Context, scanID string, shard int, account string) (bool, error)
	// Record stores an account's outcome (part, opaque to the ledger) and
	// takes the account off the run's pending accounts. recorded is false
	// when the account had been recorded already (the part is then
	// rewritten, nothing else changes); check is true when the caller
	// should look at Pending to know whether the run is done.
	Record(ctx context.Context, scanID string, shard int, account string, part []byte) (recorded, check bool, err error)
	// Pending returns the accounts of the run not yet recorded (strongly
	// consistent).
	Pending(ctx context.Context, scanID string) ([]string, error)
	// Close marks the run closed at the given time; closed is true for
	// the one call that closed it.
	Close(ctx context.Context, scanID string, at time.Time) (closed bool, err error)
	// Parts returns the outcomes recorded, by account.
	Parts(ctx context.Context, scanID string) (map[string][]byte, error)
	// Unclosed returns the fan-out runs among the latest limit runs that
	// are not closed.
	Unclosed(ctx context.Context, limit int) ([]FanoutRun, error)

	// The chunks of an account split among workers (docs/scale.md).
	// Each of SetChunks and RecordChunk is one atomic update of the
	// account's chunk record, and reports done when, after it, the
	// number of chunks is known and every chunk is recorded: the caller
	// then closes the account (a message delivered again may report done
	// again; closing an account twice writes the same).

	// SetChunks records that the account's buckets were handed out in n
	// chunks, and the outcome of their listing (opaque to the ledger).
	SetChunks(ctx context.Context, scanID string, shard int, account string, n int, listing []byte) (done bool, err error)
	// RecordChunk stores a chunk's outcome and marks the chunk recorded.
	RecordChunk(ctx context.Context, scanID string, shard int, account string, index int, part []byte) (done bool, err error)
	// Chunks returns the account's listing outcome and its chunks'
	// outcomes by index (strongly consistent).
	Chunks(ctx context.Context, scanID string, shard int, account string) (listing []byte, parts map[int][]byte, err error)
}

// ChunkCloser is a sink that can close an account whose findings other
// processes of the same run wrote (the chunks of a split account): the
// findings the run produced are read from the store, not remembered.
type ChunkCloser interface {
	AccountDoneAcross(ctx context.Context, scanID string, r inventory.AccountResult) error
}

// AccountDoneAcross closes an account whose chunks other processes wrote:
// AccountDoneAcross for a ChunkCloser, AccountDone for any other sink (a
// stream or a tally, which resolves nothing).
func AccountDoneAcross(ctx context.Context, sink Sink, scanID string, r inventory.AccountResult) error {
	if c, ok := sink.(ChunkCloser); ok {
		return c.AccountDoneAcross(ctx, scanID, r)
	}
	return sink.AccountDone(ctx, scanID, r)
}

// AccountDoneAcross forwards to each sink (report.AccountDoneAcross).
func (f fanout) AccountDoneAcross(ctx context.Context, scanID string, r inventory.AccountResult) error {
	return f.each(func(s Sink) error { return AccountDoneAcross(ctx, s, scanID, r) })
}

// Joiner is a sink that can take part in a run another process began
// (a fan-out worker): Join prepares it for the run's Put and AccountDone
// calls without writing the run's record, which the coordinator wrote.
type Joiner interface {
	Join(ctx context.Context, run Run) error
}

// Join makes sink take part in run: Join for a Joiner, Begin for any
// other sink (a stream or a tally, which keeps no run record).
func Join(ctx context.Context, sink Sink, run Run) error {
	if j, ok := sink.(Joiner); ok {
		return j.Join(ctx, run)
	}
	return sink.Begin(ctx, run)
}

// Join forwards to each sink (report.Join).
func (f fanout) Join(ctx context.Context, run Run) error {
	return f.each(func(s Sink) error { return Join(ctx, s, run) })
}
