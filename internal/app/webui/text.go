package webui

import (
	"strings"
	"unicode/utf8"

	"github.com/s3inv/scanner/report"
)

// Text is a stored string as a view shows it: Short is at most a view's
// limit of characters (Cut says whether it was shortened, Hidden how many
// characters it leaves out), Full the whole string. Both have their
// control and format characters (zero-width, bidirectional) made visible
// as \uXXXX (report.Visible) so that no stored string can reorder or hide
// what is shown around it; Full keeps its line breaks. The template
// escapes both.
type Text struct {
	Short, Full string
	Cut         bool
	Hidden      int
}

// Limits of the shortened forms, in characters.
const (
	// NameLimit is for names and identifiers in table cells (account
	// name, bucket, configuration); the whole name is in a title.
	NameLimit = 40
	// MessageLimit is for messages; the whole message is one click away
	// (<details>).
	MessageLimit = 200
	// slack: a string at most this many characters over its limit is
	// shown whole (hiding a few characters helps nobody).
	slack = 16
)

// shorten returns s as a Text of at most limit characters (limit+slack
// when that keeps it whole).
func shorten(s string, limit int) Text {
	full := visible(s, true)
	line := visible(s, false)
	t := Text{Short: line, Full: full}
	if n := utf8.RuneCountInString(line); n > limit+slack {
		cut := 0
		for i := range line {
			if cut == limit {
				t.Short = strings.TrimRight(line[:i], " ")
				break
			}
			cut++
		}
		t.Cut = true
		t.Hidden = n - limit
	}
	return t
}

// visible is report.Visible: the web dashboard shows stored strings as
// the terminal does.
func visible(s string, keepLines bool) string { return report.Visible(s, keepLines) }
