package report

import (
	"context"
	"sync"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// guard tracks whether a run is in progress, for the sinks of this
// package: Put, AccountDone and End outside a run return ErrNoRun.
//
// Its Begin, AccountDone and End are those of a sink that writes nothing
// at these points (JSON writes nothing at any of them); a sink that does
// more there defines its own, which take g.mu and call begin, check and
// end.
type guard struct {
	mu      sync.Mutex
	running bool
}

// Begin starts a run; it writes nothing.
func (g *guard) Begin(context.Context, Run) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.begin()
	return nil
}

// AccountDone writes nothing: a stream has no stored findings to resolve.
func (g *guard) AccountDone(context.Context, string, inventory.AccountResult) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.check()
}

// End closes the run; it writes nothing.
func (g *guard) End(context.Context, Run) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.end()
}

// begin starts a run; a run that was never ended is abandoned. g.mu is
// held.
func (g *guard) begin() {
	g.running = true
}

// check returns ErrNoRun outside a run; g.mu is held.
func (g *guard) check() error {
	if !g.running {
		return ErrNoRun
	}
	return nil
}

// end closes the run, or returns ErrNoRun outside one; g.mu is held.
func (g *guard) end() error {
	if err := g.check(); err != nil {
		return err
	}
	g.running = false
	return nil
}
