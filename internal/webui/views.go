package webui

import (
	"cmp"
	"context"
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
	// MaxPages is the deepest page a query may ask for. Page n of the
	// findings and runs views reads at most n×PageSize+1 items.
	MaxPages = 100
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
	Notes              []string
}

type findingRow struct {
	ID, Account, OU, Rule, RuleTitle, Status string
	AccountName, Bucket, Config, Message     Text
	Severity                                 rules.Severity
	Age, FirstSeen, Region                   string
	Waiver                                   Text
}

type accountRow struct {
	Account                    string
	Name                       Text
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

// load reads what the query's view shows from the store.
func (d *Dashboard) load(ctx context.Context, q Query) (page, error) {
	p := page{Query: q}
	var err error
	switch q.View {
	case ViewFindings:
		err = d.loadFindings(ctx, &p)
	case ViewAccounts:
		err = d.loadAccounts(ctx, &p)
	case ViewCoverage:
		err = d.loadCoverage(ctx, &p)
	case ViewRuns:
		err = d.loadRuns(ctx, &p)
	default:
		err = fmt.Errorf("view %q: want one of findings, accounts, coverage, runs", q.View)
	}
	return p, err
}

// window returns the offset and the number of items a query's page needs
// read to know whether there is a next one.
func window(q Query) (offset, need int) {
	offset = (max(q.Page, 1) - 1) * PageSize
	return offset, offset + PageSize + 1
}

// slice cuts the page's rows out of n items (complete: the whole list was
// read) and sets the page's position.
func (p *page) place(n int, complete bool) (from, to int) {
	from, need := window(p.Query)
	from = min(from, n)
	to = min(from+PageSize, n)
	p.First, p.Last, p.Total = from+1, to, -1
	if complete || n < need {
		p.Total = n
	}
	if from == to {
		p.First = 0
	}
	return from, to
}

// More reports whether a later page exists.
func (p page) More() bool { return p.Total < 0 || p.Last < p.Total }

// openFindings returns the unresolved findings the query asks for, most
// severe first, and whether that is all of them: one account (table key)
// or one rule (index open-by-rule) whole, or else each severity in turn
// (index open-by-severity, newest first) until the page is filled.
func (d *Dashboard) openFindings(ctx context.Context, q Query) ([]report.Record, bool, error) {
	if q.Account != "" || q.Rule != "" {
		recs, err := d.allOpen(ctx, q)
		return recs, true, err
	}
	_, need := window(q)
	sevs := rules.Severities()
	if q.Severity != 0 {
		sevs = []rules.Severity{q.Severity}
	}
	var recs []report.Record
	for _, sev := range sevs {
		got, err := d.Store.OpenBySeverity(ctx, sev, need-len(recs))
		if err != nil {
			return nil, false, err
		}
		recs = append(recs, got...)
		if len(recs) >= need {
			return recs, false, nil
		}
	}
	return recs, true, nil
}

// allOpen returns every unresolved finding that matches q's filters, at
// least one of which is set: one account's (table key), one rule's (index
// open-by-rule) or one severity's (index open-by-severity).
func (d *Dashboard) allOpen(ctx context.Context, q Query) ([]report.Record, error) {
	var recs []report.Record
	var err error
	switch {
	case q.Account != "":
		recs, err = d.Store.OpenByAccount(ctx, q.Account)
	case q.Rule != "":
		recs, err = d.Store.OpenByRule(ctx, q.Rule)
	default:
		recs, err = d.Store.OpenBySeverity(ctx, q.Severity, 0)
	}
	if err != nil {
		return nil, err
	}
	return filter(recs, q), nil
}

// filter keeps the records that match every filter of q.
func filter(recs []report.Record, q Query) []report.Record {
	return slices.DeleteFunc(recs, func(r report.Record) bool {
		return q.Account != "" && r.AccountID != q.Account ||
			q.Rule != "" && r.RuleID != q.Rule ||
			q.Severity != 0 && r.Severity != q.Severity
	})
}

func (d *Dashboard) loadFindings(ctx context.Context, p *page) error {
	recs, complete, err := d.openFindings(ctx, p.Query)
	if err != nil {
		return err
	}
	from, to := p.place(len(recs), complete)
	for _, r := range recs[from:to] {
		p.Findings = append(p.Findings, d.findingRow(r))
	}
	return nil
}

func (d *Dashboard) findingRow(r report.Record) findingRow {
	row := findingRow{
		ID: r.FindingID, Account: r.AccountID, OU: r.OUID, Rule: r.RuleID, Status: string(r.Status),
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
	}
	return row
}

// loadAccounts ranks accounts by open findings: from each account's last
// complete scan (index accounts-scanned) when no rule or severity is
// asked for, else by counting the matching open findings (the findings
// view's queries, read whole), with the scans' figures beside them.
func (d *Dashboard) loadAccounts(ctx context.Context, p *page) error {
	q := p.Query
	scans, err := d.Store.AccountScans(ctx)
	if err != nil {
		return err
	}
	byID := make(map[string]report.AccountScan, len(scans))
	for _, s := range scans {
		byID[s.AccountID] = s
	}
	rows := map[string]*accountRow{}
	row := func(id, name string) *accountRow {
		if r, ok := rows[id]; ok {
			return r
		}
		r := &accountRow{Account: id, Name: shorten(name, NameLimit)}
		if s, ok := byID[id]; ok {
			r.Scanned, r.ScanID = true, s.ScanID
			r.Unreadable, r.Buckets, r.Confs = s.Unreadable, s.Buckets, s.Configs
			r.LastScan = s.FinishedAt.UTC().Format(time.RFC3339)
			r.Age = age(d.now().Sub(s.FinishedAt))
			if name == "" {
				r.Name = shorten(s.AccountName, NameLimit)
			}
		}
		rows[id] = r
		return r
	}
	if q.Rule == "" && q.Severity == 0 {
		for _, s := range scans {
			if q.Account == "" || s.AccountID == q.Account {
				r := row(s.AccountID, s.AccountName)
				r.Open, r.Waived = s.Open, s.Waived
			}
		}
	} else {
		recs, err := d.allOpen(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			r := row(rec.AccountID, rec.AccountName)
			if rec.Status == rules.StatusWaived {
				r.Waived++
			} else {
				r.Open++
			}
		}
		p.Notes = append(p.Notes, "Counts are the open findings"+filterPhrase(q)+".")
	}
	list := make([]accountRow, 0, len(rows))
	for _, r := range rows {
		list = append(list, *r)
	}
	slices.SortFunc(list, func(a, b accountRow) int {
		return cmp.Or(cmp.Compare(b.Open, a.Open), cmp.Compare(b.Unreadable, a.Unreadable),
			cmp.Compare(b.Waived, a.Waived), cmp.Compare(a.Account, b.Account))
	})
	from, to := p.place(len(list), true)
	p.Accounts = list[from:to]
	return nil
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
// and why): one account's (table key) or each coverage rule's (index
// open-by-rule), most severe first.
func (d *Dashboard) loadCoverage(ctx context.Context, p *page) error {
	q := p.Query
	if q.Rule != "" && !rules.IsCoverage(q.Rule) {
		p.Notes = append(p.Notes, q.Rule+" is not a coverage rule: this view lists only what could not be read.")
		p.place(0, true)
		return nil
	}
	var recs []report.Record
	if q.Account != "" {
		got, err := d.Store.OpenByAccount(ctx, q.Account)
		if err != nil {
			return err
		}
		recs = got
	} else {
		for _, r := range rules.All() {
			if !rules.IsCoverage(r.ID) || q.Rule != "" && r.ID != q.Rule {
				continue
			}
			got, err := d.Store.OpenByRule(ctx, r.ID)
			if err != nil {
				return err
			}
			recs = append(recs, got...)
		}
	}
	recs = slices.DeleteFunc(filter(recs, q), func(r report.Record) bool { return !rules.IsCoverage(r.RuleID) })
	report.SortRecords(recs)
	from, to := p.place(len(recs), true)
	for _, r := range recs[from:to] {
		p.Findings = append(p.Findings, d.findingRow(r))
	}
	return nil
}

// loadRuns lists the latest runs (index runs, newest first).
func (d *Dashboard) loadRuns(ctx context.Context, p *page) error {
	q := p.Query
	_, need := window(q)
	runs, err := d.Store.Runs(ctx, need)
	if err != nil {
		return err
	}
	if q.Account != "" {
		p.Notes = append(p.Notes, "A run covers the organization: the account filter does not apply to this view.")
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
	from, to := p.place(len(runs), len(runs) < need)
	for _, r := range runs[from:to] {
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
