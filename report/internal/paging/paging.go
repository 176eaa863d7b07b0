// Package paging holds what report's two stores (report.Memory and the
// DynamoDB store, report/dynamo) share about the cursor-paged queries of
// report.Querier, so that they page alike and refuse the same arguments
// with the same errors: the page tokens (ListingID, EncodeToken,
// DecodeToken), the checks of a query's arguments (CheckLimit,
// CheckSeverity, CheckOpen, CheckAccounts, CheckWaiverDate) and the order
// of a scan's changes (ChangeKey).
//
// It is internal to report: users page through report.Querier, whose
// PageRequest, Page and Selection, and whose limits (report.MaxPageLimit,
// report.MaxTokenLength), are report's.
package paging

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

// MaxLimit is the largest limit of a page (report.MaxPageLimit).
const MaxLimit = 1000

// MaxTokenLength is the longest page token a store accepts
// (report.MaxTokenLength).
const MaxTokenLength = 2048

// CheckLimit checks a page request's limit: 1 to MaxLimit.
func CheckLimit(limit int) error {
	if limit < 1 || limit > MaxLimit {
		return fmt.Errorf("page limit %d: want 1 to %d", limit, MaxLimit)
	}
	return nil
}

// CheckSeverity checks a selection's severity: none (0) or a valid one.
func CheckSeverity(sev rules.Severity) error {
	if sev != 0 && !sev.Valid() {
		return fmt.Errorf("selection severity %d: want one of CRITICAL, HIGH, MEDIUM, LOW, INFO", int(sev))
	}
	return nil
}

// CheckOpen checks the selection of OpenPage, described by sel (its
// report.Selection.String): a valid severity if any, and an account, a
// rule, a severity or coverage to read by.
func CheckOpen(sel, account, rule string, sev rules.Severity, coverage bool) error {
	if err := CheckSeverity(sev); err != nil {
		return err
	}
	if account == "" && rule == "" && sev == 0 && !coverage {
		return fmt.Errorf("open findings of %s: want an account, a rule, a severity or coverage to read by", sel)
	}
	return nil
}

// CheckAccounts checks the selection of WorstAccountsPage, described by
// sel: an account and an OU at most, so no rule, severity or coverage.
func CheckAccounts(sel, rule string, sev rules.Severity, coverage bool) error {
	if rule != "" || sev != 0 || coverage {
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

// ChangeKey orders the findings a scan changed (ChangesPage): most severe
// first, within a severity the findings it opened or reopened before
// those it resolved, then by finding ID. Both stores sort by it; the
// DynamoDB store keeps it as the sort key of its changes index.
func ChangeKey(f rules.Finding) string {
	kind := "O"
	if f.Status == rules.StatusResolved {
		kind = "R"
	}
	return fmt.Sprintf("%s%s#%s", SeverityRank(f.Severity), kind, f.FindingID)
}

// SeverityRank is the prefix of ChangeKey for a severity: "0#" for
// CRITICAL to "4#" for INFO.
func SeverityRank(s rules.Severity) string {
	return fmt.Sprintf("%d#", int(rules.SeverityCritical)-int(s))
}

// token is what a page token holds: the listing it belongs to and the
// position after which the next page starts.
type token struct {
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

// EncodeToken returns the token of the position key in the listing
// (ListingID): URL-safe base64 of a small JSON object. The key's values
// are strings and numbers (int, json.Number); one JSON cannot encode (a
// json.Number that is no number, as a store's answer could hold) is an
// error.
func EncodeToken(listing string, key map[string]any) (string, error) {
	b, err := json.Marshal(token{Listing: listing, Key: key})
	if err != nil {
		return "", fmt.Errorf("page token of position %v: %w", key, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeToken reads a token of the listing and returns its position key,
// whose members must be exactly names (strings or integers, the latter
// as json.Number). A token that is not one, or is another listing's, is
// a one-line error naming the token (shortened) and what was expected.
func DecodeToken(tok, listing string, names ...string) (map[string]any, error) {
	bad := func(why string) error {
		return fmt.Errorf("page token %.24q: %s; want the next token of the page before, unchanged", tok, why)
	}
	if len(tok) > MaxTokenLength {
		return nil, bad(fmt.Sprintf("%d characters, more than %d", len(tok), MaxTokenLength))
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, bad("not URL-safe base64")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var t token
	if err := dec.Decode(&t); err != nil || dec.More() {
		return nil, bad("not a page token")
	}
	if t.Listing != listing {
		return nil, bad("a token of another listing")
	}
	if !slices.Equal(slices.Sorted(maps.Keys(t.Key)), slices.Sorted(slices.Values(names))) {
		return nil, bad("not a position in this listing")
	}
	for _, v := range t.Key {
		switch v := v.(type) {
		case string:
		case json.Number:
			if _, err := v.Int64(); err != nil {
				return nil, bad("not a position in this listing")
			}
		default:
			return nil, bad("not a position in this listing")
		}
	}
	return t.Key, nil
}
