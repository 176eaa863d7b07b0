// Package webui renders the findings table as HTML views: the open
// findings (CRITICAL and HIGH first), what the latest scan opened and
// resolved, the worst accounts, what was not fully scanned and why, the
// waivers expiring within 30 days, and the scan history. `scanner dashboard` serves
// them on 127.0.0.1 (Dashboard is an http.Handler, behind LoopbackOnly,
// which answers 421 to a Host other than a loopback name with the port:
// no page of another site reaches it through DNS rebinding); the
// CloudWatch custom-widget function (package widget, built by cmd/scanner
// with the tag widget) serves the same views, since Render writes a view
// as an HTML fragment for a Query.
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
// A Dashboard sees the table only through report.PageQuerier's
// cursor-paged queries, each one Query page of the table's key or one of
// its indexes, never a Scan:
//
//   - open findings: one account's (table key), one rule's (index
//     open-by-rule), or each severity in turn, most severe first (index
//     open-by-severity, newest first);
//   - changes: what the latest run opened, reopened and resolved (index
//     changes);
//   - worst accounts: the last complete scans, most open first (index
//     worst-accounts); with a rule or severity filter, the matching open
//     findings of at most MaxReads pages of CountLimit, counted by
//     account;
//   - not fully scanned: the open coverage findings (index
//     open-coverage, or one account's or one coverage rule's);
//   - waivers: the waived findings whose waiver ends within 30 days
//     (index waivers);
//   - scan history: the runs (index runs, newest first).
//
// A render reads at most MaxReads (2) Query pages for its view and the
// latest run (one item) for the figures above it. A view shows at most
// PageSize (50) rows, fewer when a listing ended or a filter kept few of
// what a Query page read; its "More" link carries the position where it
// stopped (the next parameter: the listing, the store's page token and
// the rows shown so far, as URL-safe base64), so no page reads an earlier
// one again; "First page" goes back to the start.
//
// # Filters
//
// Every view takes the query parameters view, account, ou (an OU's ID or
// name), rule, severity and next (ParseQuery), from a GET form at the top
// of the page; a bad value is answered with 400 and a message naming it.
// The filters that cannot apply to a view (a run covers the whole
// organization) say so.
//
// # Hostile strings
//
// Every stored string (account names, bucket and configuration names,
// messages) is escaped by html/template in the context it appears in, and
// has its control and format characters (Unicode categories Cc and Cf:
// zero-width spaces, bidirectional overrides) shown as \uXXXX by
// report.Visible, as on a terminal. Long strings are shortened without
// hiding their meaning: names to NameLimit characters with the whole name
// in a title, messages to MessageLimit characters with the whole message
// in a <details> element that opens without JavaScript. The page has no
// script, and ServeHTTP's Content-Security-Policy allows none.
package webui
