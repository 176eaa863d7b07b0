package console

import (
	"strings"
	"testing"
)

func TestShortenKeepsTheEnd(t *testing.T) {
	msg := "User: arn:aws:sts::100000000001:assumed-role/S3InventoryScanner/s3-inventory-scanner is not authorized " +
		"to perform: sts:AssumeRole on resource: arn:aws:iam::100000000053:role/S3InventoryScannerMember"
	for _, tc := range []struct {
		n    int
		want string
	}{
		{len(msg), msg},
		{100, "… is not authorized to perform: sts:AssumeRole on resource: …role/S3InventoryScannerMember"},
		{60, "… sts:AssumeRole on resource: …role/S3InventoryScannerMember"},
		{10, "…nerMember"},
	} {
		got := Shorten(msg, tc.n)
		if got != tc.want || len([]rune(got)) > tc.n {
			t.Errorf("Shorten(%d) = %q; want %q", tc.n, got, tc.want)
		}
	}
	if got := Shorten("a\n  b", 10); got != "a b" {
		t.Errorf("Shorten = %q; want one line", got)
	}
}

func TestCountPluralises(t *testing.T) {
	for n, want := range map[int]string{0: "0 accounts", 1: "1 account", 2: "2 accounts"} {
		if got := Count(n, "account", ""); got != want {
			t.Errorf("Count(%d) = %q; want %q", n, got, want)
		}
	}
	if got := Count(3, "policy", "policies"); !strings.HasSuffix(got, "policies") {
		t.Errorf("Count = %q", got)
	}
}
