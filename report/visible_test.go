package report_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/s3inv/scanner/report"
)

// TestVisibleShowsWhatWouldHide: strings an account owner chose, with the
// characters that drive a terminal or hide, reorder or break the text
// around them; each is shown as \uXXXX, the rest unchanged.
func TestVisibleShowsWhatWouldHide(t *testing.T) {
	for _, c := range []struct {
		what, in, line, lines string
	}{
		{"plain", "payments-prod é 名前", "payments-prod é 名前", "payments-prod é 名前"},
		{"escape sequence and bell", "evil\x1b]0;title\x07", `evil\u001B]0;title\u0007`, `evil\u001B]0;title\u0007`},
		{"C1 control", "a\u0085b\u009bc", `a\u0085b\u009Bc`, `a\u0085b\u009Bc`},
		{"line breaks and tabs", "a\nb\tc\r", "a b c ", "a\nb c "},
		{"zero-width space and joiners", "prod\u200bdev\u200c\u200d\u2060", `prod\u200Bdev\u200C\u200D\u2060`, `prod\u200Bdev\u200C\u200D\u2060`},
		{"bidi override and isolate", "\u202egnp.exe\u2066x\u2069", `\u202Egnp.exe\u2066x\u2069`, `\u202Egnp.exe\u2066x\u2069`},
		{"byte order mark and soft hyphen", "\ufeffpay\u00adments", `\uFEFFpay\u00ADments`, `\uFEFFpay\u00ADments`},
		{"tag characters (past U+FFFF)", "a\U000E0041b", `a\U000E0041b`, `a\U000E0041b`},
		{"line and paragraph separators", "a\u2028b\u2029c", `a\u2028b\u2029c`, `a\u2028b\u2029c`},
		{"invalid UTF-8", "bad \xff byte", `bad \uFFFD byte`, `bad \uFFFD byte`},
	} {
		if got := report.Visible(c.in, false); got != c.line {
			t.Errorf("%s: Visible(%q, false) = %q; want %q", c.what, c.in, got, c.line)
		}
		if got := report.Visible(c.in, true); got != c.lines {
			t.Errorf("%s: Visible(%q, true) = %q; want %q", c.what, c.in, got, c.lines)
		}
		if got := report.Printable(c.in); got != c.line {
			t.Errorf("%s: Printable(%q) = %q; want Visible's %q", c.what, c.in, got, c.line)
		}
	}
}

// TestVisibleLeavesNoFormatCharacter checks every character of the
// categories Cc, Cf, Zl and Zp: none survives Visible.
func TestVisibleLeavesNoFormatCharacter(t *testing.T) {
	var all strings.Builder
	for _, tab := range []*unicode.RangeTable{unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp} {
		for _, r16 := range tab.R16 {
			for r := rune(r16.Lo); r <= rune(r16.Hi); r += rune(r16.Stride) {
				all.WriteRune(r)
			}
		}
		for _, r32 := range tab.R32 {
			for r := rune(r32.Lo); r <= rune(r32.Hi); r += rune(r32.Stride) {
				all.WriteRune(r)
			}
		}
	}
	got := report.Visible(all.String(), true)
	if i := strings.IndexFunc(got, func(r rune) bool {
		return r != '\n' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
	}); i >= 0 {
		t.Errorf("Visible leaves %U in %q", []rune(got[i:])[0], got)
	}
}
