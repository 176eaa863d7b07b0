package webui

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// View names one of the dashboard's views.
type View string

// The views, in the order the navigation shows them.
const (
	// ViewFindings: open findings (OPEN and WAIVED), CRITICAL and HIGH
	// first.
	ViewFindings View = "findings"
	// ViewChanges: what the latest scan opened, reopened and resolved
	// (since the scan before it).
	ViewChanges View = "changes"
	// ViewAccounts: the accounts with the most open findings.
	ViewAccounts View = "accounts"
	// ViewCoverage: what was not fully scanned (the coverage findings)
	// and why.
	ViewCoverage View = "coverage"
	// ViewWaivers: waived findings whose waiver ends within 30 days.
	ViewWaivers View = "waivers"
	// ViewRuns: the latest scan runs and their figures.
	ViewRuns View = "runs"
)

// Views lists every view, in navigation order.
func Views() []View {
	return []View{ViewFindings, ViewChanges, ViewAccounts, ViewCoverage, ViewWaivers, ViewRuns}
}

// viewNames lists the views' names for messages.
func viewNames() string {
	var names []string
	for _, v := range Views() {
		names = append(names, string(v))
	}
	return strings.Join(names, ", ")
}

// Title is the view's heading.
func (v View) Title() string {
	switch v {
	case ViewFindings:
		return "Open findings"
	case ViewChanges:
		return "Changes since the previous scan"
	case ViewWaivers:
		return "Waivers expiring within 30 days"
	case ViewAccounts:
		return "Worst accounts"
	case ViewCoverage:
		return "Not fully scanned"
	case ViewRuns:
		return "Scan history"
	}
	return string(v)
}

// Query is what a view is asked: which view, its filters and its page.
// Its URL form (ParseQuery, Values) is the query string of the local
// dashboard and the form values of a custom widget.
type Query struct {
	View     View
	Account  string         // a 12-digit account ID, or "" for every account
	OU       string         // an OU's ID or name, or "" for every OU
	Rule     string         // a rule ID, or "" for every rule
	Severity rules.Severity // 0 for every severity
	// Next is the position of the page in its view's list (the next
	// parameter of a More link: opaque, URL-safe); "" for the first page.
	Next string
}

// MaxOULength is the longest OU filter: an OU name has at most 128
// characters.
const MaxOULength = 128

// ParseQuery reads a query from URL values (view, account, ou, rule,
// severity, next); missing or empty values mean the default view and no
// filter. A bad value is an error naming it and what was expected.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{View: ViewFindings}
	if s := v.Get("view"); s != "" {
		q.View = View(s)
		if !validView(q.View) {
			return q, fmt.Errorf("view %q: want one of %s", s, viewNames())
		}
	}
	if s := v.Get("ou"); s != "" {
		if utf8.RuneCountInString(s) > MaxOULength || report.Printable(s) != s {
			return q, fmt.Errorf("ou %.40q: want an OU ID (ou-…, r-…) or an OU name of at most %d printable characters", s, MaxOULength)
		}
		q.OU = s
	}
	if s := v.Get("account"); s != "" {
		if !validAccountID(s) {
			return q, fmt.Errorf("account %q: want a 12-digit account ID", s)
		}
		q.Account = s
	}
	if s := v.Get("rule"); s != "" {
		if _, ok := rules.Lookup(s); !ok {
			return q, fmt.Errorf("rule %q: no such rule; want a rule ID such as INV-101", s)
		}
		q.Rule = s
	}
	if s := v.Get("severity"); s != "" {
		sev, err := rules.ParseSeverity(s)
		if err != nil {
			return q, err
		}
		q.Severity = sev
	}
	if s := v.Get("next"); s != "" {
		if _, err := parseCursor(s); err != nil {
			return q, err
		}
		q.Next = s
	}
	return q, nil
}

// Values returns the query's URL form, without its defaults.
func (q Query) Values() url.Values {
	v := url.Values{}
	if q.View != "" && q.View != ViewFindings {
		v.Set("view", string(q.View))
	}
	if q.Account != "" {
		v.Set("account", q.Account)
	}
	if q.OU != "" {
		v.Set("ou", q.OU)
	}
	if q.Rule != "" {
		v.Set("rule", q.Rule)
	}
	if q.Severity != 0 {
		v.Set("severity", q.Severity.String())
	}
	if q.Next != "" {
		v.Set("next", q.Next)
	}
	return v
}

// Params returns the query as a custom widget's params: the view always,
// then the URL form's values (ParseQuery reads either).
func (q Query) Params() map[string]string {
	p := map[string]string{"view": string(ViewFindings)}
	if q.View != "" {
		p["view"] = string(q.View)
	}
	for k, v := range q.Values() {
		p[k] = v[0]
	}
	return p
}

// Filtered reports whether any filter is set.
func (q Query) Filtered() bool {
	return q.Account != "" || q.OU != "" || q.Rule != "" || q.Severity != 0
}

func validView(v View) bool {
	for _, w := range Views() {
		if v == w {
			return true
		}
	}
	return false
}

func validAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
