package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/pipeline"
)

// progress draws a one-line progress bar on a terminal, at most ten times a
// second, and nothing at all when the writer is not a terminal.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	on   bool
	drew bool
}

func newProgress(w io.Writer) *progress { return &progress{w: w, on: isTerminal(w)} }

func (p *progress) update(s pipeline.Progress) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || s.AccountsDone == s.AccountsTotal {
		p.last = now
		p.drew = true
		fmt.Fprintf(p.w, "\r\033[K%s", progressLine(s, 30))
	}
}

// done clears the bar.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drew {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine renders the bar: [#######.......] 12/25 accounts · 1,234 buckets · 56 findings
func progressLine(s pipeline.Progress, width int) string {
	filled := 0
	if s.AccountsTotal > 0 {
		filled = width * s.AccountsDone / s.AccountsTotal
	}
	return fmt.Sprintf("[%s%s] %d/%d accounts · %d buckets · %d findings",
		strings.Repeat("█", filled), strings.Repeat("░", width-filled), s.AccountsDone, s.AccountsTotal, s.Buckets, s.Findings)
}
