package report_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/s3inv/scanner/report"
)

// FuzzDecodePageToken: a page token comes from a URL, so any string: it
// never panics, an error is one line, and a token it accepts is a
// position of exactly the listing's names that encodes back to a token
// decoding to the same position.
func FuzzDecodePageToken(f *testing.F) {
	listing := report.ListingID("OpenPage", "HIGH")
	f.Add(report.EncodePageToken(listing, map[string]any{"pk": "ACCOUNT#111111111111", "sk": "F#abc"}))
	f.Add(report.EncodePageToken(listing, map[string]any{"pk": "x", "sk": 12}))
	f.Add(report.EncodePageToken(report.ListingID("other"), map[string]any{"pk": "x", "sk": "y"}))
	f.Add(report.EncodePageToken(listing, map[string]any{"pk": "x"}))
	f.Add("eyJsIjoiYSIsImsiOnsicGsiOlsxXX19") // {"l":"a","k":{"pk":[1]}}
	f.Add("%%%")
	f.Add("")
	f.Add(strings.Repeat("A", report.MaxTokenLength+1))
	f.Fuzz(func(t *testing.T, token string) {
		key, err := report.DecodePageToken(token, listing, "pk", "sk")
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if len(key) != 2 || key["pk"] == nil || key["sk"] == nil {
			t.Fatalf("accepted %q with position %v; want exactly pk and sk", token, key)
		}
		again, err := report.DecodePageToken(report.EncodePageToken(listing, key), listing, "pk", "sk")
		if err != nil || !reflect.DeepEqual(again, key) {
			t.Fatalf("position %v encoded again decodes to %v, %v", key, again, err)
		}
	})
}
