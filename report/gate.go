package report

import (
	"context"
	"sync"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// Gate is a sink that counts the open findings at or above a severity
// threshold (the command line's --fail-on); it stores nothing. Coverage
// findings count like any other.
type Gate struct {
	threshold rules.Severity
	mu        sync.Mutex
	n         int
}

// NewGate returns a gate at threshold; the zero severity counts nothing.
func NewGate(threshold rules.Severity) *Gate { return &Gate{threshold: threshold} }

// Count is the number of open findings at or above the threshold so far.
func (g *Gate) Count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Put counts fs.
func (g *Gate) Put(_ context.Context, fs []rules.Finding) error {
	if g.threshold == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range fs {
		if f.Status == rules.StatusOpen && f.Severity >= g.threshold {
			g.n++
		}
	}
	return nil
}

// Begin, AccountDone and End do nothing.
func (g *Gate) Begin(context.Context, Run) error                                   { return nil }
func (g *Gate) AccountDone(context.Context, string, inventory.AccountResult) error { return nil }
func (g *Gate) End(context.Context, Run) error                                     { return nil }
