package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3inv/scanner/report/internal/paging"
	"github.com/s3inv/scanner/rules"
)

// Cursor-paged queries. Each paged method of Querier reads at most one
// page of its listing per call, and returns the token of the next page:
// a caller shows a page and keeps the token (in a link, say), never
// reading the earlier pages again.

// MaxPageLimit is the largest PageRequest.Limit.
const MaxPageLimit = paging.MaxLimit

// MaxTokenLength is the longest page token a store accepts.
const MaxTokenLength = paging.MaxTokenLength

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

// memoryPage cuts one page out of items, sorted by their position pos
// (ascending, unique): the items after the token's position, at most
// req.Limit of them. It pages with the DynamoDB store's tokens and checks
// (package paging), so the two stores page alike.
func memoryPage[T any](items []T, pos func(T) string, listing string, req PageRequest) (Page[T], error) {
	if err := paging.CheckLimit(req.Limit); err != nil {
		return Page[T]{}, err
	}
	start := 0
	if req.Token != "" {
		key, err := paging.DecodeToken(req.Token, listing, "p")
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
		next, err := paging.EncodeToken(listing, map[string]any{"p": pos(items[end-1])})
		if err != nil {
			return Page[T]{}, err
		}
		p.Next = next
	}
	return p, nil
}
