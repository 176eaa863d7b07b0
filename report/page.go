package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/rules"
)

// Cursor-paged queries. Each paged method of Querier reads at most one
// page of its listing per call, and returns the token of the next page:
// a caller shows a page and keeps the token (in a link, say), never
// reading the earlier pages again.

// MaxPageLimit is the largest PageRequest.Limit.
const MaxPageLimit = 1000

// MaxTokenLength is the longest page token a store accepts.
const MaxTokenLength = 2048

// PageRequest asks a paged query for one page.
type PageRequest struct {
	// Limit is the most items the page holds, 1 to MaxPageLimit.
	Limit int
	// Token continues a listing: "" for its first page, else the Next of
	// the page before, unchanged. A token belongs to one listing (the
	// method and its arguments); any other is refused with an error.
	Token string
}

// Page is one page of a paged query.
type Page[T any] struct {
	Items []T
	// Next is the token of the next page, "" on the last one. It is
	// opaque, at most MaxTokenLength characters of the URL-safe base64
	// alphabet: safe in a URL or a JSON string as it is.
	Next string
}

// Selection picks the findings a paged query returns: each field that is
// set must match.
type Selection struct {
	Account  string         // account ID
	Rule     string         // rule ID
	Severity rules.Severity // 0 for any
	// OU matches the ID or the name of the finding's OU (its account's
	// direct parent).
	OU string
	// Coverage keeps the coverage findings only (rules.IsCoverage: what
	// could not be read).
	Coverage bool
}

// Matches reports whether r matches every field of s that is set.
func (s Selection) Matches(r Record) bool {
	return (s.Account == "" || r.AccountID == s.Account) &&
		(s.Rule == "" || r.RuleID == s.Rule) &&
		(s.Severity == 0 || r.Severity == s.Severity) &&
		(s.OU == "" || r.OUID == s.OU || r.OUName == s.OU) &&
		(!s.Coverage || rules.IsCoverage(r.RuleID))
}

// String describes the selection, for errors and page tokens.
func (s Selection) String() string {
	var parts []string
	for _, p := range [][2]string{{"account", s.Account}, {"rule", s.Rule}, {"ou", s.OU}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if s.Severity != 0 {
		parts = append(parts, "severity "+s.Severity.String())
	}
	if s.Coverage {
		parts = append(parts, "coverage")
	}
	if len(parts) == 0 {
		return "every finding"
	}
	return strings.Join(parts, ", ")
}

// CheckPageRequest validates a request's limit.
func CheckPageRequest(req PageRequest) error {
	if req.Limit < 1 || req.Limit > MaxPageLimit {
		return fmt.Errorf("page limit %d: want 1 to %d", req.Limit, MaxPageLimit)
	}
	return nil
}

// ChangeKey orders the findings a scan changed (Querier.ChangesPage):
// most severe first, within a severity the findings it opened or
// reopened before those it resolved, then by finding ID. Both stores sort
// by it; the DynamoDB store keeps it as the sort key of its changes index.
func ChangeKey(r Record) string {
	kind := "O"
	if r.Status == rules.StatusResolved {
		kind = "R"
	}
	return fmt.Sprintf("%s%s#%s", SeverityRank(r.Severity), kind, r.FindingID)
}

// SeverityRank is the prefix of ChangeKey for a severity: "0#" for
// CRITICAL to "4#" for INFO.
func SeverityRank(s rules.Severity) string {
	return fmt.Sprintf("%d#", int(rules.SeverityCritical)-int(s))
}

// pageToken is what a page token holds: the listing it belongs to and
// the position after which the next page starts.
type pageToken struct {
	Listing string         `json:"l"`
	Key     map[string]any `json:"k"`
}

// ListingID names a listing (a paged method and its arguments) in its
// tokens: a short hash, so that a token of one listing is refused by
// another.
func ListingID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:6])
}

// EncodePageToken returns the token of the position key in the listing
// (ListingID): URL-safe base64 of a small JSON object.
func EncodePageToken(listing string, key map[string]any) string {
	b, err := json.Marshal(pageToken{Listing: listing, Key: key})
	if err != nil {
		// Keys are strings and numbers.
		panic(fmt.Sprintf("report: encode page token: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodePageToken reads a token of the listing and returns its position
// key, whose members must be exactly names (strings or numbers). A token
// that is not one, or is another listing's, is a one-line error naming
// the token (shortened) and what was expected.
func DecodePageToken(token, listing string, names ...string) (map[string]any, error) {
	bad := func(why string) error {
		return fmt.Errorf("page token %.24q: %s; want the next token of the page before, unchanged", token, why)
	}
	if len(token) > MaxTokenLength {
		return nil, bad(fmt.Sprintf("%d characters, more than %d", len(token), MaxTokenLength))
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad("not URL-safe base64")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t pageToken
	if err := dec.Decode(&t); err != nil || dec.More() {
		return nil, bad("not a page token")
	}
	if t.Listing != listing {
		return nil, bad("a token of another listing")
	}
	if !slices.Equal(slices.Sorted(maps.Keys(t.Key)), slices.Sorted(slices.Values(names))) {
		return nil, bad("not a position in this listing")
	}
	for k, v := range t.Key {
		switch v := v.(type) {
		case string:
		case json.Number:
			if _, err := v.Int64(); err != nil {
				return nil, bad("not a position in this listing")
			}
			t.Key[k] = v
		default:
			return nil, bad("not a position in this listing")
		}
	}
	return t.Key, nil
}

// CheckOpenSelection checks the selection of OpenPage: a valid severity
// if any, and an account, a rule or a severity to read by.
func CheckOpenSelection(sel Selection) error {
	if err := CheckSelection(sel); err != nil {
		return err
	}
	if sel.Account == "" && sel.Rule == "" && sel.Severity == 0 && !sel.Coverage {
		return fmt.Errorf("open findings of %s: want an account, a rule, a severity or coverage to read by", sel)
	}
	return nil
}

// CheckAccountSelection checks the selection of WorstAccountsPage: an
// account and an OU at most.
func CheckAccountSelection(sel Selection) error {
	if sel.Rule != "" || sel.Severity != 0 || sel.Coverage {
		return fmt.Errorf("worst accounts of %s: want an account or an OU only (the last complete scans count every rule and severity)", sel)
	}
	return nil
}

// CheckWaiverDate checks the until argument of WaiversPage.
func CheckWaiverDate(until string) error {
	if _, err := time.Parse(time.DateOnly, until); err != nil {
		return fmt.Errorf("waivers expiring until %q: want a date YYYY-MM-DD", until)
	}
	return nil
}

// CheckSelection checks a selection's severity.
func CheckSelection(sel Selection) error {
	if sel.Severity != 0 && !sel.Severity.Valid() {
		return fmt.Errorf("selection severity %d: want one of CRITICAL, HIGH, MEDIUM, LOW, INFO", int(sel.Severity))
	}
	return nil
}

// memoryPage cuts one page out of items, sorted by their position pos
// (ascending, unique): the items after the token's position, at most
// req.Limit of them.
func memoryPage[T any](items []T, pos func(T) string, listing string, req PageRequest) (Page[T], error) {
	if err := CheckPageRequest(req); err != nil {
		return Page[T]{}, err
	}
	start := 0
	if req.Token != "" {
		key, err := DecodePageToken(req.Token, listing, "p")
		if err != nil {
			return Page[T]{}, err
		}
		after, ok := key["p"].(string)
		if !ok {
			return Page[T]{}, fmt.Errorf("page token %.24q: not a position in this listing; want the next token of the page before, unchanged", req.Token)
		}
		start, _ = slices.BinarySearchFunc(items, after, func(it T, p string) int { return strings.Compare(pos(it), p) })
		if start < len(items) && pos(items[start]) == after {
			start++
		}
	}
	end := min(start+req.Limit, len(items))
	p := Page[T]{Items: slices.Clone(items[start:end])}
	if end < len(items) {
		p.Next = EncodePageToken(listing, map[string]any{"p": pos(items[end-1])})
	}
	return p, nil
}
