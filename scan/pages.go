package scan

import (
	"errors"
	"fmt"
)

// ErrPagination reports a listing that cannot be followed: a page
// truncated without a continuation token, a repeated token, or more pages
// than the listing can have. The unit the listing belongs to fails
// (a bucket is unreadable, an account's buckets unlisted, the discovery
// refused); it is never taken as complete.
var ErrPagination = errors.New("invalid pagination")

// Page caps: no real listing needs more pages than these.
var (
	// maxInventoryPages: S3 allows 1,000 configurations per bucket at
	// 100 a page, so 10 pages; a server that keeps sending fresh tokens is
	// misbehaving.
	maxInventoryPages = 100
	// maxOrganizationsPages: Organizations answers 20 items a page (and
	// may answer empty pages between them); 10,000 pages is 100,000
	// accounts or OUs under one parent even with every other page empty.
	maxOrganizationsPages = 10_000
)

// maxBucketPages is the cap of ListBuckets at pageSize buckets a page: an
// account holds at most 1,000,000 buckets.
func maxBucketPages(pageSize int) int { return 1_000_000/max(pageSize, 1) + 2 }

// pageGuard follows the continuation tokens of one listing and refuses a
// repeated token or a listing longer than its cap. The SDK's paginators
// follow a repeated token forever (or, with StopOnDuplicateToken, stop
// quietly as if the listing were complete), so every listing the scanner
// makes goes through one.
type pageGuard struct {
	what  string // the listing, for errors: "list buckets of 111111111111"
	max   int
	pages int
	seen  map[string]bool
}

func newPageGuard(what string, maxPages int) *pageGuard {
	return &pageGuard{what: what, max: maxPages, seen: map[string]bool{}}
}

// next takes the token a page names for the next one ("" when the listing
// is over) and says whether the listing may go on.
func (g *pageGuard) next(token string) error {
	g.pages++
	switch {
	case token == "":
		return nil
	case g.seen[token]:
		return fmt.Errorf("%s: %w: continuation token %q repeated on page %d", g.what, ErrPagination, token, g.pages)
	case g.pages >= g.max:
		return fmt.Errorf("%s: %w: more than %d pages", g.what, ErrPagination, g.max)
	}
	g.seen[token] = true
	return nil
}
