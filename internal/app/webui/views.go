package webui

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Paging bounds.
const (
	// PageSize is the number of rows a view shows at most.
	PageSize = 50
	// MaxReads is the number of Query pages a view reads at most to
	// render (besides the one-item read of the latest run above it).
	MaxReads = 2
	// CountLimit is the number of findings the worst-accounts view counts
	// at most per Query page when a rule or severity filter asks it to
	// count open findings.
	CountLimit = 500
)

// page is what a view renders: its rows (one kind per view), the
// position of the page in the list and the links around it.
type page struct {
	Query    Query
	Findings []findingRow
	Accounts []accountRow
	Runs     []runRow
	// Column names the per-run count a rule or severity filter adds to
	// the runs view.
	Column string
	// First and Last are the 1-based positions of the rows shown; Total
	// is the length of the list, -1 when only later pages would tell.
	First, Last, Total int
	// Next is the position of the next page ("" on the last).
	Next  string
	Notes []string
	// Reads counts the Query pages the view read.
	Reads int
}

type findingRow struct {
	ID, Account, OUID, Rule, RuleTitle, Status string
	OU                                         Text
	Change, ChangeAt, WaiverEnds, WaiverLeft   string
	AccountName, Bucket, Config, Message       Text
	Severity                                   rules.Severity
	Age, FirstSeen, Region                     string
	Waiver                                     Text
}

type accountRow struct {
	Account, OUID              string
	Name, OU                   Text
	Open, Waived               int
	Unreadable, Buckets, Confs int
	Scanned                    bool
	ScanID, LastScan, Age      string
}

type runRow struct {
	ScanID, Trigger, Started, Duration          string
	Complete, Failed, Incomplete, Buckets, Conf int
	BySeverity                                  []sevCount
	Column                                      int
}

type sevCount struct {
	Severity rules.Severity
	N        int
}

// load reads what the query's view shows from the store; latest is the
// latest run (nil when none), which the changes view lists the changes
// of.
func (d *Dashboard) load(ctx context.Context, q Query, latest *report.Run) (page, error) {
	p := page{Query: q}
	var err error
	switch q.View {
	case ViewFindings:
		err = d.loadRecords(ctx, &p, d.findingSegments(q))
	case ViewChanges:
		err = d.loadChanges(ctx, &p, latest)
	case ViewAccounts:
		err = d.loadAccounts(ctx, &p)
	case ViewCoverage:
		err = d.loadCoverage(ctx, &p)
	case ViewWaivers:
		err = d.loadWaivers(ctx, &p)
	case ViewRuns:
		err = d.loadRuns(ctx, &p)
	default:
		err = fmt.Errorf("view %q: want one of %s", q.View, viewNames())
	}
	return p, err
}

// segment reads one page of one listing of records.
type segment func(ctx context.Context, req report.PageRequest) (report.Page[report.Record], error)

// cursor is the position of a view in its list: the segment (one
// listing of the store) it is in, the store's token in that segment, and
// how many rows the earlier pages showed. Its token is URL-safe base64 of
// JSON, the store's token inside.
type cursor struct {
	Segment int    `json:"s,omitempty"`
	Token   string `json:"t,omitempty"`
	Shown   int    `json:"o,omitempty"`
}

// maxNextLength bounds the next parameter: a store token and a little.
const maxNextLength = report.MaxTokenLength + 128

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor reads a next parameter; "" is the first page.
func parseCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	bad := fmt.Errorf("next %.24q: not a page position; want the next parameter of a More link, unchanged", s)
	if len(s) > maxNextLength {
		return c, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, bad
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.Segment < 0 || c.Shown < 0 || c.Shown > 1<<30 {
		return cursor{}, bad
	}
	return c, nil
}

// loadRecords fills the page with finding rows from segments read in
// turn, from the query's cursor on: at most MaxReads Query pages, at most
// PageSize rows. A page may hold fewer rows than PageSize (a segment
// ended, or a filter kept few of what a Query page read); "More"
// continues where it stopped.
func (d *Dashboard) loadRecords(ctx context.Context, p *page, segs []segment) error {
	recs, err := d.readSegments(ctx, p, segs)
	if err != nil {
		return err
	}
	for _, r := range recs {
		p.Findings = append(p.Findings, d.findingRow(r))
	}
	return nil
}

func (d *Dashboard) readSegments(ctx context.Context, p *page, segs []segment) ([]report.Record, error) {
	c, err := parseCursor(p.Query.Next)
	if err != nil {
		return nil, err
	}
	if c.Segment > len(segs) || c.Segment == len(segs) && c.Token != "" {
		return nil, fmt.Errorf("next %.24q: not a position in this view; want the next parameter of a More link, unchanged", p.Query.Next)
	}
	var recs []report.Record
	for c.Segment < len(segs) && p.Reads < MaxReads && len(recs) < PageSize {
		got, err := segs[c.Segment](ctx, report.PageRequest{Limit: PageSize - len(recs), Token: c.Token})
		p.Reads++
		if err != nil {
			return nil, err
		}
		recs = append(recs, got.Items...)
		if c.Token = got.Next; c.Token == "" {
			c.Segment++
		}
	}
	p.place(c.Shown, len(recs), c.Segment < len(segs))
	if c.Segment < len(segs) {
		c.Shown += len(recs)
		p.Next = c.encode()
	}
	return recs, nil
}

// place sets the page's position: n rows after shown earlier ones, and
// whether more follow.
func (p *page) place(shown, n int, more bool) {
	p.First, p.Last, p.Total = shown+1, shown+n, -1
	if !more {
		p.Total = shown + n
	}
	if n == 0 {
		p.First = 0
	}
}

// More reports whether a later page exists.
func (p page) More() bool { return p.Next != "" }

// selection is the query's filters as a store selection.
func (q Query) selection() report.Selection {
	return report.Selection{Account: q.Account, Rule: q.Rule, Severity: q.Severity, OU: q.OU}
}

// findingSegments are the listings of the open findings the query asks
// for: one account's (table key) or one rule's (index open-by-rule),
// else each severity in turn, most severe first (index open-by-severity,
// newest first).
func (d *Dashboard) findingSegments(q Query) []segment {
	sel := q.selection()
	open := func(sel report.Selection) segment {
		return func(ctx context.Context, req report.PageRequest) (report.Page[report.Record], error) {
			return d.Store.OpenPage(ctx, sel, req)
		}
	}
	if sel.Account != "" || sel.Rule != "" || sel.Severity != 0 {
		return []segment{open(sel)}
	}
	var segs []segment
	for _, sev := range rules.Severities() {
		s := sel
		s.Severity = sev
		segs = append(segs, open(s))
	}
	return segs
}

func (d *Dashboard) findingRow(r report.Record) findingRow {
	row := findingRow{
		ID: r.FindingID, Account: r.AccountID, OUID: r.OUID, OU: shorten(cmp.Or(r.OUName, r.OUID), NameLimit),
		Rule: r.RuleID, Status: string(r.Status),
		AccountName: shorten(r.AccountName, NameLimit), Bucket: shorten(r.Bucket, NameLimit),
		Config: shorten(r.ConfigID, NameLimit), Message: shorten(r.Message, MessageLimit),
		Severity: r.Severity, Region: r.Region,
	}
	if rule, ok := rules.Lookup(r.RuleID); ok {
		row.RuleTitle = rule.Title
	}
	if !r.FirstSeen.IsZero() {
		row.Age = age(d.now().Sub(r.FirstSeen))
		row.FirstSeen = r.FirstSeen.UTC().Format(time.RFC3339)
	}
	if r.Waiver != nil {
		row.Waiver = shorten(fmt.Sprintf("%s (until %s)", r.Waiver.Reason, r.Waiver.Expires), MessageLimit)
		row.WaiverEnds = r.Waiver.Expires
		if end, err := time.Parse(time.DateOnly, r.Waiver.Expires); err == nil {
			today := d.now().UTC().Truncate(24 * time.Hour)
			switch days := int(end.Sub(today) / (24 * time.Hour)); {
			case days < 0:
				row.WaiverLeft = "ended"
			case days == 0:
				row.WaiverLeft = "last day today"
			default:
				row.WaiverLeft = fmt.Sprintf("%d d left", days)
			}
		}
	}
	switch {
	case r.Status == rules.StatusResolved:
		row.Change = "resolved"
		row.ChangeAt = r.ResolvedAt.UTC().Format(time.RFC3339)
	case !r.FirstSeen.IsZero():
		row.Change = "opened"
		row.ChangeAt = row.FirstSeen
	}
	return row
}

// loadChanges lists what the latest run opened, reopened and resolved
// (index changes): the findings whose current episode it began and those
// it resolved, most severe first.
func (d *Dashboard) loadChanges(ctx context.Context, p *page, latest *report.Run) error {
	if latest == nil {
		p.Notes = append(p.Notes, "No scan run recorded yet.")
		p.place(0, 0, false)
		return nil
	}
	p.Notes = append(p.Notes, "What scan "+latest.ScanID+" (started "+latest.StartedAt.UTC().Format(time.RFC3339)+
		") changed since the scan before it: findings it opened or reopened, and findings it resolved.")
	sel := p.Query.selection()
	return d.loadRecords(ctx, p, []segment{func(ctx context.Context, req report.PageRequest) (report.Page[report.Record], error) {
		return d.Store.ChangesPage(ctx, latest.ScanID, sel, req)
	}})
}

// WaiverWindow is how far ahead the waivers view looks.
const WaiverWindow = 30 * 24 * time.Hour

// loadWaivers lists the waived findings whose waiver ends within
// WaiverWindow of now, or has ended (index waivers), the soonest first.
func (d *Dashboard) loadWaivers(ctx context.Context, p *page) error {
	until := d.now().UTC().Add(WaiverWindow).Format(time.DateOnly)
	p.Notes = append(p.Notes, "Waived findings whose waiver ends by "+until+" (within 30 days), or has ended: the scan after its last day opens them.")
	sel := p.Query.selection()
	return d.loadRecords(ctx, p, []segment{func(ctx context.Context, req report.PageRequest) (report.Page[report.Record], error) {
		return d.Store.WaiversPage(ctx, until, sel, req)
	}})
}

// loadAccounts ranks accounts by open findings: the last complete scans,
// most open first (index worst-accounts), when no rule or severity is
// asked for; else by counting the matching open findings of at most
// MaxReads Query pages of CountLimit.
func (d *Dashboard) loadAccounts(ctx context.Context, p *page) error {
	q := p.Query
	if q.Rule == "" && q.Severity == 0 {
		c, err := parseCursor(q.Next)
		if err != nil {
			return err
		}
		if c.Segment != 0 {
			return fmt.Errorf("next %.24q: not a position in this view; want the next parameter of a More link, unchanged", q.Next)
		}
		var scans []report.AccountScan
		for p.Reads < MaxReads && len(scans) < PageSize {
			got, err := d.Store.WorstAccountsPage(ctx, report.Selection{Account: q.Account, OU: q.OU}, report.PageRequest{Limit: PageSize - len(scans), Token: c.Token})
			p.Reads++
			if err != nil {
				return err
			}
			scans = append(scans, got.Items...)
			if c.Token = got.Next; c.Token == "" {
				break
			}
		}
		for _, s := range scans {
			p.Accounts = append(p.Accounts, d.accountRow(s.AccountID, s.AccountName, &s, s.Open, s.Waived))
		}
		p.place(c.Shown, len(scans), c.Token != "")
		if c.Token != "" {
			c.Shown += len(scans)
			p.Next = c.encode()
		}
		return nil
	}
	if q.Next != "" {
		return fmt.Errorf("next %.24q: the counted accounts view has one page; want no next parameter", q.Next)
	}
	rows := map[string]*accountRow{}
	token, read := "", 0
	for p.Reads < MaxReads {
		got, err := d.Store.OpenPage(ctx, q.selection(), report.PageRequest{Limit: CountLimit, Token: token})
		p.Reads++
		if err != nil {
			return err
		}
		for _, rec := range got.Items {
			r, ok := rows[rec.AccountID]
			if !ok {
				row := d.accountRow(rec.AccountID, rec.AccountName, nil, 0, 0)
				r = &row
				rows[rec.AccountID] = r
			}
			if rec.Status == rules.StatusWaived {
				r.Waived++
			} else {
				r.Open++
			}
		}
		read += len(got.Items)
		if token = got.Next; token == "" {
			break
		}
	}
	note := "Counts are the open findings" + filterPhrase(q) + "."
	if token != "" {
		note = fmt.Sprintf("Counts are over the first %d open findings%s read (the table holds more): filter by account or OU to count them all.", read, filterPhrase(q))
	}
	p.Notes = append(p.Notes, note)
	list := make([]accountRow, 0, len(rows))
	for _, r := range rows {
		list = append(list, *r)
	}
	slices.SortFunc(list, func(a, b accountRow) int {
		return cmp.Or(cmp.Compare(b.Open, a.Open), cmp.Compare(b.Waived, a.Waived), cmp.Compare(a.Account, b.Account))
	})
	p.Accounts = list[:min(len(list), PageSize)]
	p.place(0, len(p.Accounts), false)
	if len(list) > PageSize {
		p.Total = len(list)
		p.Notes = append(p.Notes, fmt.Sprintf("The %d accounts with the most; %d more have some.", PageSize, len(list)-PageSize))
	}
	return nil
}

func (d *Dashboard) accountRow(id, name string, s *report.AccountScan, open, waived int) accountRow {
	r := accountRow{Account: id, Name: shorten(name, NameLimit), Open: open, Waived: waived}
	if s != nil {
		r.Scanned, r.ScanID = true, s.ScanID
		r.Unreadable, r.Buckets, r.Confs = s.Unreadable, s.Buckets, s.Configs
		r.LastScan = s.FinishedAt.UTC().Format(time.RFC3339)
		r.Age = age(d.now().Sub(s.FinishedAt))
		r.OUID, r.OU = s.OUID, shorten(cmp.Or(s.OUName, s.OUID), NameLimit)
	}
	return r
}

// filterPhrase describes the rule and severity filters of q.
func filterPhrase(q Query) string {
	s := ""
	if q.Severity != 0 {
		s += " of severity " + q.Severity.String()
	}
	if q.Rule != "" {
		s += " of rule " + q.Rule
	}
	return s
}

// loadCoverage lists the open coverage findings (what could not be read,
// and why): index open-coverage by account (or the account's table key,
// or the coverage rule's index open-by-rule).
func (d *Dashboard) loadCoverage(ctx context.Context, p *page) error {
	q := p.Query
	if q.Rule != "" && !rules.IsCoverage(q.Rule) {
		p.Notes = append(p.Notes, q.Rule+" is not a coverage rule: this view lists only what could not be read.")
		p.place(0, 0, false)
		return nil
	}
	sel := q.selection()
	sel.Coverage = true
	return d.loadRecords(ctx, p, []segment{func(ctx context.Context, req report.PageRequest) (report.Page[report.Record], error) {
		return d.Store.OpenPage(ctx, sel, req)
	}})
}

// loadRuns lists the runs (index runs, newest first).
func (d *Dashboard) loadRuns(ctx context.Context, p *page) error {
	q := p.Query
	c, err := parseCursor(q.Next)
	if err != nil {
		return err
	}
	if c.Segment != 0 {
		return fmt.Errorf("next %.24q: not a position in this view; want the next parameter of a More link, unchanged", q.Next)
	}
	var runs []report.Run
	for p.Reads < MaxReads && len(runs) < PageSize {
		got, err := d.Store.RunsPage(ctx, report.PageRequest{Limit: PageSize - len(runs), Token: c.Token})
		p.Reads++
		if err != nil {
			return err
		}
		runs = append(runs, got.Items...)
		if c.Token = got.Next; c.Token == "" {
			break
		}
	}
	if q.Account != "" || q.OU != "" {
		p.Notes = append(p.Notes, "A run covers the organization: the account and OU filters do not apply to this view.")
	}
	switch {
	case q.Rule != "" && q.Severity != 0:
		p.Notes = append(p.Notes, "Runs count findings by rule and by severity, not by both: the column counts rule "+q.Rule+".")
		p.Column = q.Rule
	case q.Rule != "":
		p.Column = q.Rule
	case q.Severity != 0:
		p.Column = q.Severity.String()
	}
	p.place(c.Shown, len(runs), c.Token != "")
	if c.Token != "" {
		c.Shown += len(runs)
		p.Next = c.encode()
	}
	for _, r := range runs {
		p.Runs = append(p.Runs, runRowOf(r, q))
	}
	return nil
}

func runRowOf(r report.Run, q Query) runRow {
	row := runRow{
		ScanID: r.ScanID, Trigger: r.Trigger, Started: r.StartedAt.UTC().Format(time.RFC3339),
		Complete: r.AccountsComplete, Failed: r.AccountsFailed, Incomplete: r.AccountsIncomplete,
		Buckets: r.Buckets, Conf: r.Configs, Duration: "running",
	}
	if !r.FinishedAt.IsZero() {
		row.Duration = r.Duration().Round(time.Second).String()
	}
	for _, sev := range rules.Severities() {
		row.BySeverity = append(row.BySeverity, sevCount{sev, r.BySeverity[sev.String()]})
	}
	switch {
	case q.Rule != "":
		row.Column = r.ByRule[q.Rule]
	case q.Severity != 0:
		row.Column = r.BySeverity[q.Severity.String()]
	}
	return row
}

// age is a duration as a short age: "5 min", "3 h", "12 d".
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "<1 min"
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d d", int(d/(24*time.Hour)))
}
