package console

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/s3inv/scanner/rules"
)

// TestPaintColoursEachSeverity: every severity has a colour of its own,
// reset after the text; a value that is no severity is left plain.
func TestPaintColoursEachSeverity(t *testing.T) {
	seen := map[string]rules.Severity{}
	for _, sev := range []rules.Severity{rules.SeverityCritical, rules.SeverityHigh, rules.SeverityMedium, rules.SeverityLow, rules.SeverityInfo} {
		got := Paint(sev, "x")
		start, ok := strings.CutSuffix(got, "x\x1b[0m")
		if !ok || !strings.HasPrefix(start, "\x1b[") {
			t.Errorf("Paint(%s) = %q; want an ANSI colour, the text and a reset", sev, got)
			continue
		}
		if other, dup := seen[start]; dup {
			t.Errorf("%s and %s share the colour %q", sev, other, start)
		}
		seen[start] = sev
	}
	if got := Paint(0, "x"); got != "x" {
		t.Errorf("Paint(0) = %q; want the text unchanged", got)
	}
}

// TestPainterOnlyOnATerminal: output that is not a terminal (a buffer, a
// file) gets no painter, so the table prints no escape.
func TestPainterOnlyOnATerminal(t *testing.T) {
	if p := Painter(&bytes.Buffer{}); p != nil {
		t.Error("Painter(a buffer) is set; want nil")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if p := Painter(f); p != nil {
		t.Error("Painter(a file) is set; want nil")
	}
}
