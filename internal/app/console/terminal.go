package console

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// UseColor reports whether to colour output for w: a terminal, and
// NO_COLOR unset (https://no-color.org).
func UseColor(w io.Writer) bool {
	return IsTerminal(w) && os.Getenv("NO_COLOR") == ""
}

// Count renders n with its noun, pluralised: "1 account", "2 accounts".
// plural is the plural form; "" adds an s.
func Count(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	if plural == "" {
		plural = singular + "s"
	}
	return fmt.Sprintf("%d %s", n, plural)
}

// Shorten fits a message from AWS into n runes on one line, keeping what
// people need. An AWS error names the caller's ARN first and the refused
// action last ("User: arn:aws:sts::…:assumed-role/… is not authorized to
// perform: sts:AssumeRole on resource: arn:aws:iam::…:role/…"), so long
// ARNs are cut to their resource, and what still does not fit loses words
// at the start, never the end.
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) <= n {
		return s
	}
	words := strings.Fields(s)
	for i, w := range words {
		if strings.HasPrefix(w, "arn:") && len(w) > 24 {
			words[i] = "…" + w[strings.LastIndex(w, ":")+1:]
		}
	}
	// Drop whole words from the start until the rest fits.
	for i := range words {
		rest := strings.Join(words[i:], " ")
		if i > 0 {
			rest = "… " + rest
		}
		if len([]rune(rest)) <= n {
			return rest
		}
	}
	r := []rune(words[len(words)-1])
	return "…" + string(r[max(len(r)-n+1, 0):])
}
