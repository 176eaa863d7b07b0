package paging_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/s3inv/scanner/report/internal/paging"
)

func encode(t testing.TB, listing string, key map[string]any) string {
	t.Helper()
	tok, err := paging.EncodeToken(listing, key)
	if err != nil {
		t.Fatalf("EncodeToken(%v): %v", key, err)
	}
	return tok
}

// FuzzDecodeToken: a page token comes from a URL, so any string: it
// never panics, an error is one line, and a token it accepts is a
// position of exactly the listing's names that encodes back to a token
// decoding to the same position.
func FuzzDecodeToken(f *testing.F) {
	listing := paging.ListingID("OpenPage", "HIGH")
	f.Add(encode(f, listing, map[string]any{"pk": "ACCOUNT#111111111111", "sk": "F#abc"}))
	f.Add(encode(f, listing, map[string]any{"pk": "x", "sk": 12}))
	f.Add(encode(f, paging.ListingID("other"), map[string]any{"pk": "x", "sk": "y"}))
	f.Add(encode(f, listing, map[string]any{"pk": "x"}))
	f.Add("eyJsIjoiYSIsImsiOnsicGsiOlsxXX19") // {"l":"a","k":{"pk":[1]}}
	f.Add("%%%")
	f.Add("")
	f.Add(strings.Repeat("A", paging.MaxTokenLength+1))
	f.Fuzz(func(t *testing.T, token string) {
		key, err := paging.DecodeToken(token, listing, "pk", "sk")
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		if len(key) != 2 || key["pk"] == nil || key["sk"] == nil {
			t.Fatalf("accepted %q with position %v; want exactly pk and sk", token, key)
		}
		again, err := paging.DecodeToken(encode(t, listing, key), listing, "pk", "sk")
		if err != nil || !reflect.DeepEqual(again, key) {
			t.Fatalf("position %v encoded again decodes to %v, %v", key, again, err)
		}
	})
}

// TestEncodeTokenRefusesWhatJSONCannotHold: a position whose number is
// no number (a store's answer could hold one) is an error, not a panic
// and not a token.
func TestEncodeTokenRefusesWhatJSONCannotHold(t *testing.T) {
	tok, err := paging.EncodeToken(paging.ListingID("runs"), map[string]any{"n": json.Number("12abc")})
	if err == nil || tok != "" {
		t.Fatalf("EncodeToken of a number that is none = %q, %v; want an error and no token", tok, err)
	}
	if !strings.Contains(err.Error(), "page token") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q: want one line naming the page token", err)
	}
}
