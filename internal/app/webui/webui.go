package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Dashboard renders the views over a findings store.
type Dashboard struct {
	// Store is the findings table (or any store): the views read it
	// through its paged queries only.
	Store report.PageQuerier
	// Title names what is shown, such as the table's name.
	Title string
	// Now is the clock for ages; time.Now when nil.
	Now func() time.Time
	// Link returns the address of a query's page; "?" and the query's
	// URL form when nil.
	Link func(Query) string
	// Endpoint, when set, is the ARN of the CloudWatch custom-widget
	// function that serves the views: every link is then an element
	// without an address followed by a <cwdb-action> that calls Endpoint
	// again with the query's params (Query.Params), and the filter form's
	// Apply button is such an action with the params view and apply
	// (the form's fields arrive as the event's widgetContext.forms.all).
	// Link is not used.
	Endpoint string
}

func (d *Dashboard) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Href is the address of q's page, "" when links are widget actions.
func (d *Dashboard) Href(q Query) string {
	switch {
	case d.Endpoint != "":
		return ""
	case d.Link != nil:
		return d.Link(q)
	}
	return "?" + q.Values().Encode()
}

// Action is the <cwdb-action> element that makes the element before it
// call Endpoint with q's params; "" when Endpoint is not set.
func (d *Dashboard) Action(q Query) (template.HTML, error) {
	return d.action(q.Params())
}

// ApplyAction is the action of the filter form's Apply button: the view
// and "apply": the function reads the filters from the form.
func (d *Dashboard) ApplyAction(v View) (template.HTML, error) {
	return d.action(map[string]any{"view": string(v), "apply": true})
}

func (d *Dashboard) action(params any) (template.HTML, error) {
	if d.Endpoint == "" {
		return "", nil
	}
	// encoding/json writes <, > and & as \u escapes, so the params are
	// safe as the element's text; the endpoint is escaped as an
	// attribute.
	b, err := json.Marshal(params)
	if err != nil {
		return "", err
	}
	return template.HTML(`<cwdb-action action="call" display="widget" endpoint="` +
		template.HTMLEscapeString(d.Endpoint) + `">` + string(b) + `</cwdb-action>`), nil
}

// latest is the strip above every view: the last run's figures.
type latest struct {
	ScanID, Trigger, Finished, Age string
	Complete, Failed, Incomplete   int
	Buckets, Configs               int
	BySeverity                     []sevCount
}

// Render writes the query's view as an HTML fragment (no <html> or
// <head>; the styles are in Style): the navigation, the filter form, the
// last run's figures, the view's table and its paging links. A query the
// store cannot answer is rendered as a message, and returned.
func (d *Dashboard) Render(ctx context.Context, w io.Writer, q Query) error {
	v, err := d.viewModel(ctx, q)
	if err != nil {
		v.Err = err.Error()
	}
	if terr := templates.ExecuteTemplate(w, "view", v); terr != nil {
		return terr
	}
	return err
}

// RenderInvalid writes the fragment for a query that was refused (err,
// from ParseQuery): the navigation and the filter form of q's view, and
// the message, without reading the store.
func (d *Dashboard) RenderInvalid(w io.Writer, q Query, err error) error {
	if q.View == "" || !validView(q.View) {
		q.View = ViewFindings
	}
	return templates.ExecuteTemplate(w, "view", viewModel{Dashboard: d, Query: q, Err: err.Error(), Rules: rules.All(), Severities: rules.Severities()})
}

// ServeHTTP serves the dashboard page for GET and HEAD of any path:
// 400 with the form and a message naming a bad query value, 502 when the
// store cannot be read. The page carries no script, and its
// Content-Security-Policy allows none.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method "+r.Method+": want GET", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")

	status := http.StatusOK
	var body bytes.Buffer
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		status = http.StatusBadRequest
		d.RenderInvalid(&body, q, err)
	} else if err := d.Render(r.Context(), &body, q); err != nil {
		status = http.StatusBadGateway
	}
	var doc bytes.Buffer
	if err := templates.ExecuteTemplate(&doc, "page", struct {
		Title string
		Style template.CSS
		Body  template.HTML
	}{d.Title, template.CSS(Style), template.HTML(body.String())}); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(doc.Bytes())
	}
}

// viewModel is what the templates see.
type viewModel struct {
	*Dashboard
	Query      Query
	Page       page
	Latest     *latest
	Err        string
	Rules      []rules.Rule
	Severities []rules.Severity
	// Reads counts the Query pages the view was rendered from, the
	// latest run's included.
	Reads int
}

func (d *Dashboard) viewModel(ctx context.Context, q Query) (viewModel, error) {
	v := viewModel{Dashboard: d, Query: q, Rules: rules.All(), Severities: rules.Severities()}
	v.Page.Query = q
	runs, err := d.Store.RunsPage(ctx, report.PageRequest{Limit: 1})
	if err != nil {
		return v, fmt.Errorf("read the latest scan run: %w", err)
	}
	var last *report.Run
	if len(runs.Items) == 1 {
		r := runs.Items[0]
		last = &r
		l := &latest{ScanID: r.ScanID, Trigger: r.Trigger, Complete: r.AccountsComplete, Failed: r.AccountsFailed,
			Incomplete: r.AccountsIncomplete, Buckets: r.Buckets, Configs: r.Configs}
		if !r.FinishedAt.IsZero() {
			l.Finished = r.FinishedAt.UTC().Format(time.RFC3339)
			l.Age = age(d.now().Sub(r.FinishedAt))
		}
		for _, sev := range rules.Severities() {
			l.BySeverity = append(l.BySeverity, sevCount{sev, r.BySeverity[sev.String()]})
		}
		v.Latest = l
	}
	p, err := d.load(ctx, q, last)
	v.Reads = p.Reads + 1
	if err != nil {
		return v, fmt.Errorf("read %s: %w", q.View.Title(), err)
	}
	v.Page = p
	return v, nil
}

// Views lists the views for the navigation.
func (viewModel) Views() []View { return Views() }

// The links of a view are the queries they lead to; the templates write
// each as an address (Href) or a widget action (Action).

// ViewLink is view v with the current filters, from its first page.
func (v viewModel) ViewLink(view View) Query {
	q := v.Query
	q.Next, q.View = "", view
	return q
}

// AccountLink is the findings of one account.
func (v viewModel) AccountLink(account string) Query {
	return Query{View: ViewFindings, Account: account}
}

// OULink is the current view of one OU's findings (by its ID).
func (v viewModel) OULink(ou string) Query {
	return Query{View: v.Query.View, OU: ou}
}

// RuleLink is the findings of one rule.
func (v viewModel) RuleLink(rule string) Query {
	return Query{View: ViewFindings, Rule: rule}
}

// SeverityLink is the open findings of one severity.
func (v viewModel) SeverityLink(sev rules.Severity) Query {
	return Query{View: ViewFindings, Severity: sev}
}

// MoreLink is the next page, nil on the last one.
func (v viewModel) MoreLink() *Query {
	if !v.Page.More() {
		return nil
	}
	q := v.Query
	q.Next = v.Page.Next
	return &q
}

// FirstLink is the first page, nil on the first one (a page knows the
// one after it, not the one before).
func (v viewModel) FirstLink() *Query {
	if v.Query.Next == "" {
		return nil
	}
	q := v.Query
	q.Next = ""
	return &q
}

// ClearLink is the view without filters.
func (v viewModel) ClearLink() Query { return Query{View: v.Query.View} }
