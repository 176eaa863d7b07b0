package console

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/s3inv/scanner/report"
)

// ProgressBar draws a one-line progress bar on a terminal, at most ten
// times a second, and nothing at all when the writer is not a terminal.
type ProgressBar struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
	on   bool
	drew bool
}

// NewProgressBar returns a bar drawn on w when w is a terminal.
func NewProgressBar(w io.Writer) *ProgressBar { return &ProgressBar{w: w, on: IsTerminal(w)} }

// Update draws s (pipeline.Settings.Progress takes it).
func (p *ProgressBar) Update(s report.Progress) {
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

// Done clears the bar.
func (p *ProgressBar) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drew {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine renders the bar: [#######.......] 12/25 accounts · 1,234 buckets · 56 findings
func progressLine(s report.Progress, width int) string {
	filled := 0
	if s.AccountsTotal > 0 {
		filled = width * s.AccountsDone / s.AccountsTotal
	}
	return fmt.Sprintf("[%s%s] %d/%s · %s · %s",
		strings.Repeat("█", filled), strings.Repeat("░", width-filled), s.AccountsDone, Count(s.AccountsTotal, "account", ""),
		Count(s.Buckets, "bucket", ""), Count(s.Findings, "finding", ""))
}
