package webui

import (
	"fmt"
	"net/url"
	"strconv"

	"github.com/s3inv/scanner/rules"
)

// View names one of the dashboard's views.
type View string

// The views, in the order the navigation shows them.
const (
	// ViewFindings: open findings (OPEN and WAIVED), CRITICAL and HIGH
	// first.
	ViewFindings View = "findings"
	// ViewAccounts: the accounts with the most open findings.
	ViewAccounts View = "accounts"
	// ViewCoverage: what was not fully scanned (the coverage findings)
	// and why.
	ViewCoverage View = "coverage"
	// ViewRuns: the latest scan runs and their figures.
	ViewRuns View = "runs"
)

// Views lists every view, in navigation order.
func Views() []View { return []View{ViewFindings, ViewAccounts, ViewCoverage, ViewRuns} }

// Title is the view's heading.
func (v View) Title() string {
	switch v {
	case ViewFindings:
		return "Open findings"
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
	Rule     string         // a rule ID, or "" for every rule
	Severity rules.Severity // 0 for every severity
	Page     int            // 1-based; 1 when zero
}

// ParseQuery reads a query from URL values (view, account, rule,
// severity, page); missing or empty values mean the default view and no
// filter. A bad value is an error naming it and what was expected.
func ParseQuery(v url.Values) (Query, error) {
	q := Query{View: ViewFindings, Page: 1}
	if s := v.Get("view"); s != "" {
		q.View = View(s)
		if !validView(q.View) {
			return q, fmt.Errorf("view %q: want one of findings, accounts, coverage, runs", s)
		}
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
	if s := v.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPages {
			return q, fmt.Errorf("page %q: want a whole number from 1 to %d", s, MaxPages)
		}
		q.Page = n
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
	if q.Rule != "" {
		v.Set("rule", q.Rule)
	}
	if q.Severity != 0 {
		v.Set("severity", q.Severity.String())
	}
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
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
func (q Query) Filtered() bool { return q.Account != "" || q.Rule != "" || q.Severity != 0 }

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
