package report

import "sync"

// guard tracks whether a run is in progress, for the sinks of this
// package: Put, AccountDone and End outside a run return ErrNoRun.
type guard struct {
	mu      sync.Mutex
	running bool
}

// begin starts a run; a run that was never ended is abandoned.
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
