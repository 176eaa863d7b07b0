// Package webui renders the findings table as HTML views: the open
// findings (CRITICAL and HIGH first), the worst accounts, what was not
// fully scanned and why, and the scan history. `scanner dashboard` serves
// them on 127.0.0.1 (Dashboard is an http.Handler); the CloudWatch
// custom-widget function (cmd/scanner, build tag widget) serves the same
// views, since Render writes a view as an HTML fragment for a Query.
//
// # Links
//
// Every link of a view is the Query it leads to. Dashboard.Link decides
// what address it points to ("?" and the query's URL form by default).
// With Dashboard.Endpoint set (a function's ARN), links have no address:
// each is followed by a <cwdb-action action="call" display="widget">
// whose content is the query's params as JSON (Query.Params), so that
// CloudWatch calls the function again with them; the filter form does not
// submit, and its Apply button is an action with the params view and
// "apply": true, the form's fields arriving as widgetContext.forms.all.
//
// # Reads
//
// A Dashboard sees the table only through report.Querier, whose every
// answer is a Query on the table's key or one of its indexes, never a
// Scan:
//
//   - open findings: one account's (table key) or one rule's (index
//     open-by-rule) whole; otherwise each severity in turn, most severe
//     first (index open-by-severity, newest first), until the page is
//     filled: page n reads at most n×PageSize+1 items;
//   - worst accounts: each account's last complete scan (index
//     accounts-scanned); with a rule or severity filter, the matching open
//     findings, counted by account;
//   - not fully scanned: the open findings of each coverage rule
//     (rules.IsCoverage; index open-by-rule), or of one account;
//   - scan history: the latest runs (index runs, newest first), at most
//     n×PageSize+1 for page n.
//
// Every view also reads the latest run (one item) for the figures above
// it. A view shows at most PageSize (50) rows; a "More" link asks for the
// next page, up to MaxPages (100). The Querier has no continuation
// token, so a later page reads the earlier ones again: paging is meant
// for the first few pages, and the filters for the rest.
//
// # Filters
//
// Every view takes the query parameters view, account, rule, severity
// and page (ParseQuery), from a GET form at the top of the page; a bad
// value is answered with 400 and a message naming it. The filters that
// cannot apply to a view (a run covers the whole organization) say so.
//
// # Hostile strings
//
// Every stored string (account names, bucket and configuration names,
// messages) is escaped by html/template in the context it appears in, and
// has its control and bidirectional-formatting characters shown as
// \uXXXX. Long strings are shortened without hiding their meaning: names
// to NameLimit characters with the whole name in a title, messages to
// MessageLimit characters with the whole message in a <details> element
// that opens without JavaScript. The page has no script, and
// ServeHTTP's Content-Security-Policy allows none.
package webui
