package strictjson

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestEcho: a value of at most maxEcho runes is echoed whole; a longer
// one is cut at a rune boundary to maxEcho runes, the last an ellipsis.
func TestEcho(t *testing.T) {
	for _, s := range []string{"", "trigger", strings.Repeat("é", maxEcho)} {
		if got := Echo(s); got != s {
			t.Errorf("Echo(%q) = %q; want it unchanged", s, got)
		}
	}
	for _, s := range []string{strings.Repeat("a", maxEcho+1), strings.Repeat("日本", 5000)} {
		got := Echo(s)
		if n := utf8.RuneCountInString(got); n != maxEcho || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("Echo of %d runes = %q (%d runes); want %d valid runes ending in …", utf8.RuneCountInString(s), got, n, maxEcho)
		}
		if !strings.HasPrefix(s, strings.TrimSuffix(got, "…")) {
			t.Errorf("Echo(%.20q…) = %q; want a prefix of the value", s, got)
		}
	}
}
