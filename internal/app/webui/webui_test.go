package webui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

var t0 = time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)

// Hostile strings a table may hold: an account name and a message that
// would run a script, break out of an attribute or reorder the page.
var (
	hostileName    = `<script>document.title="pwned"</script>'"&amp; Pr` + "\u200b" + `od` + "\u202e" + `gnp.exe`
	hostileMessage = `bucket x is inventoried only under the prefixes <script>document.title='pwned'</script>"><img src=x onerror=alert(1)>` +
		strings.Repeat("é-long-prefix/", 140) + "THE-END"
)

// fill writes one complete scan of findings into a memory store, one
// account result per account.
func fill(t testing.TB, s *report.Memory, fs []rules.Finding) report.Run {
	t.Helper()
	ctx := context.Background()
	run := report.Run{ScanID: "scan-1", Trigger: "cli", StartedAt: t0, BySeverity: map[string]int{}, ByRule: map[string]int{}}
	must(t, s.Begin(ctx, run))
	accounts := map[string]inventory.Account{}
	for _, f := range fs {
		must(t, s.Put(ctx, []rules.Finding{f}))
		accounts[f.AccountID] = inventory.Account{ID: f.AccountID, Name: f.AccountName, OUID: f.OUID, OUName: f.OUName}
		run.BySeverity[f.Severity.String()]++
		run.ByRule[f.RuleID]++
	}
	for _, a := range accounts {
		must(t, s.AccountDone(ctx, run.ScanID, inventory.AccountResult{Account: a, Status: inventory.AccountComplete,
			Buckets: 3, Visited: 3, Configs: 4, StartedAt: t0, FinishedAt: t0.Add(time.Minute)}))
		run.AccountsComplete++
	}
	run.FinishedAt = t0.Add(2 * time.Minute)
	must(t, s.End(ctx, run))
	return run
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func finding(account, bucket, rule string, sev rules.Severity, i int) rules.Finding {
	config := fmt.Sprintf("cfg-%03d", i)
	return rules.Finding{
		FindingID: rules.FindingID(account, bucket, config, rule), AccountID: account, AccountName: "acct-" + account[8:],
		OUID: "ou-ab12-cdef3456", Bucket: bucket, ConfigID: config, Region: "eu-west-1", RuleID: rule, Severity: sev,
		Status: rules.StatusOpen, Message: fmt.Sprintf("%s fails on %s/%s", rule, bucket, config), ScanID: "scan-1",
		// Later findings are newer: the severity index returns them first.
		ObservedAt: t0.Add(-time.Duration(200-i) * time.Hour),
	}
}

// organization is 3 accounts with 60 CRITICAL, 30 HIGH, 40 LOW and 5
// coverage findings, and one account with hostile strings.
func organization() []rules.Finding {
	var fs []rules.Finding
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	for i := range 60 {
		fs = append(fs, finding(accounts[i%3], fmt.Sprintf("bucket-%02d", i), "INV-104", rules.SeverityCritical, i))
	}
	for i := range 30 {
		fs = append(fs, finding(accounts[i%2], fmt.Sprintf("bucket-%02d", i), "INV-101", rules.SeverityHigh, 60+i))
	}
	for i := range 40 {
		fs = append(fs, finding(accounts[0], fmt.Sprintf("bucket-%02d", i), "INV-106", rules.SeverityLow, 90+i))
	}
	for i := range 5 {
		f := finding(accounts[1], fmt.Sprintf("locked-%d", i), "SCAN-003", rules.SeverityMedium, 130+i)
		f.ConfigID = ""
		f.FindingID = rules.FindingID(f.AccountID, f.Bucket, "", f.RuleID)
		f.Message = "bucket " + f.Bucket + ": AccessDenied: not authorized to perform s3:GetInventoryConfiguration"
		fs = append(fs, f)
	}
	h := finding("444444444444", "hostile", "INV-003", rules.SeverityLow, 140)
	h.AccountName, h.Message = hostileName, hostileMessage
	return append(fs, h)
}

func newDashboard(t testing.TB) (*Dashboard, *report.Memory, []rules.Finding) {
	s := report.NewMemory(report.StoreOptions{Now: func() time.Time { return t0.Add(time.Hour) }})
	fs := organization()
	fill(t, s, fs)
	return &Dashboard{Store: s, Title: "findings", Now: func() time.Time { return t0.Add(3 * time.Hour) }}, s, fs
}

var (
	rowRe  = regexp.MustCompile(`<tr data-finding="([0-9a-f]+)" data-severity="([A-Z]+)" data-account="(\d+)" data-rule="([A-Z0-9-]+)"`)
	moreRe = regexp.MustCompile(`<a href="([^"]*)" rel="next" id="more">`)
)

type row struct{ id, sev, account, rule string }

// get renders the query string's page and returns its rows and the
// address of its next page ("" on the last).
func get(t *testing.T, d *Dashboard, query string) (body string, rows []row, more string) {
	t.Helper()
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/"+query, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /%s: %d\n%s", query, rec.Code, rec.Body.String())
	}
	body = rec.Body.String()
	for _, m := range rowRe.FindAllStringSubmatch(body, -1) {
		rows = append(rows, row{m[1], m[2], m[3], m[4]})
	}
	if m := moreRe.FindStringSubmatch(body); m != nil {
		more = html.UnescapeString(m[1])
	}
	if len(rows) > PageSize {
		t.Errorf("GET /%s: %d rows; want at most %d", query, len(rows), PageSize)
	}
	return body, rows, more
}

// walk follows the "More" links from query to the last page.
func walk(t *testing.T, d *Dashboard, query string) (pages int, rows []row) {
	t.Helper()
	for first := true; first || query != ""; first = false {
		_, got, more := get(t, d, query)
		rows = append(rows, got...)
		pages++
		if pages > 10000 {
			t.Fatalf("more than %d pages from %s", 10000, query)
		}
		query = more
	}
	return pages, rows
}

func TestFindingsPagesMostSevereFirst(t *testing.T) {
	d, s, fs := newDashboard(t)
	pages, rows := walk(t, d, "")
	if len(rows) != len(fs) {
		t.Fatalf("%d rows over %d pages; want every open finding, %d", len(rows), pages, len(fs))
	}
	// A page reads at most MaxReads Query pages: a severity without
	// findings may cost a page of its own (the last one, here: INFO).
	if want := (len(fs) + PageSize - 1) / PageSize; pages < want || pages > want+1 {
		t.Errorf("%d pages; want %d or %d", pages, want, want+1)
	}
	rank := map[string]rules.Severity{}
	for _, sev := range rules.Severities() {
		rank[sev.String()] = sev
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r.id] {
			t.Errorf("finding %s listed twice", r.id)
		}
		seen[r.id] = true
		if i > 0 && rank[r.sev] > rank[rows[i-1].sev] {
			t.Errorf("row %d: %s after %s; want the most severe first", i, r.sev, rows[i-1].sev)
		}
	}
	crit, _ := s.OpenBySeverity(context.Background(), rules.SeverityCritical, 0)
	for i, r := range crit {
		if rows[i].id != r.FindingID {
			t.Fatalf("row %d is %s; want the CRITICAL findings first, newest first (%s)", i, rows[i].id, r.FindingID)
		}
	}
	body, _, _ := get(t, d, "")
	if !strings.Contains(body, "Showing 1–50") || strings.Contains(body, "Showing 1–50 of") {
		t.Errorf("first page position: want \"Showing 1–50\" without a total (only later pages know it)")
	}
	_, _, more := get(t, d, "")
	_, _, more = get(t, d, more)
	third, _, more := get(t, d, more)
	if !regexp.MustCompile(`Showing \d+–\d+`).MatchString(third) || !strings.Contains(third, `rel="first"`) {
		t.Error("third page: want its position and a First page link")
	}
	for more != "" {
		third, _, more = get(t, d, more)
	}
	if !strings.Contains(third, fmt.Sprintf("of %d", len(fs))) && !strings.Contains(third, fmt.Sprintf("Nothing more: %d in all", len(fs))) {
		t.Errorf("last page: want the total %d", len(fs))
	}
}

func TestFiltersNarrowTheList(t *testing.T) {
	d, _, fs := newDashboard(t)
	count := func(match func(rules.Finding) bool) (n int) {
		for _, f := range fs {
			if match(f) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		query string
		match func(rules.Finding) bool
	}{
		{"?account=111111111111", func(f rules.Finding) bool { return f.AccountID == "111111111111" }},
		{"?rule=INV-101", func(f rules.Finding) bool { return f.RuleID == "INV-101" }},
		{"?severity=critical", func(f rules.Finding) bool { return f.Severity == rules.SeverityCritical }},
		{"?severity=HIGH&account=222222222222", func(f rules.Finding) bool {
			return f.Severity == rules.SeverityHigh && f.AccountID == "222222222222"
		}},
		{"?rule=INV-104&severity=LOW", func(rules.Finding) bool { return false }},
	} {
		_, rows := walk(t, d, c.query)
		if want := count(c.match); len(rows) != want || want == len(fs) {
			t.Errorf("%s: %d rows; want %d of %d", c.query, len(rows), want, len(fs))
		}
		for _, r := range rows {
			for _, f := range fs {
				if f.FindingID == r.id && !c.match(f) {
					t.Errorf("%s lists %s (%s %s %s)", c.query, r.id, r.account, r.rule, r.sev)
				}
			}
		}
	}
	// The form shows the filters it applied.
	body, _, _ := get(t, d, "?rule=INV-101&severity=HIGH")
	for _, want := range []string{`<option value="INV-101" selected>`, `<option selected>HIGH</option>`, "Clear filters"} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %s", want)
		}
	}
}

func TestHostileStringsAreEscapedAndWhole(t *testing.T) {
	d, _, _ := newDashboard(t)
	body, rows, _ := get(t, d, "?account=444444444444")
	if len(rows) != 1 {
		t.Fatalf("%d rows for the hostile account; want 1", len(rows))
	}
	for _, bad := range []string{"<script", "<img", "\u202e", "\u200b"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds %q unescaped", bad)
		}
	}
	name := shorten(hostileName, NameLimit)
	msg := shorten(hostileMessage, MessageLimit)
	if !name.Cut || !msg.Cut || msg.Hidden != len([]rune(hostileMessage))-MessageLimit {
		t.Fatalf("shortened: name cut %v, message cut %v hiding %d", name.Cut, msg.Cut, msg.Hidden)
	}
	for what, want := range map[string]string{
		"the whole name, escaped, its format characters visible": `title="` + html.EscapeString(strings.NewReplacer("\u202e", `\u202E`, "\u200b", `\u200B`).Replace(hostileName)) + `"`,
		"the name's beginning":    html.EscapeString(name.Short) + "…</span>",
		"the message's beginning": html.EscapeString(msg.Short) + "…",
		"how much is hidden":      fmt.Sprintf("(+%d characters)", msg.Hidden),
		"the whole message":       `<div class="full">` + html.EscapeString(hostileMessage) + "</div>",
	} {
		if !strings.Contains(strings.ReplaceAll(body, "&#34;", "&quot;"), strings.ReplaceAll(want, "&#34;", "&quot;")) {
			t.Errorf("page lacks %s: %q", what, want)
		}
	}
	// A long name keeps its whole text in a title attribute.
	long := shorten(strings.Repeat(`a"<b>`, 20), NameLimit)
	var b bytes.Buffer
	must(t, templates.ExecuteTemplate(&b, "name", long))
	if got := b.String(); !strings.Contains(got, `title="`+strings.Repeat(`a&#34;&lt;b&gt;`, 20)+`"`) || !strings.HasSuffix(got, "…</span>") {
		t.Errorf("long name: %s", got)
	}
}

func TestShorten(t *testing.T) {
	for _, c := range []struct {
		in, short string
		cut       bool
	}{
		{"short", "short", false},
		{"line one\nline two", "line one line two", false},
		{strings.Repeat("é", 57), strings.Repeat("é", 40), true},
		{strings.Repeat("é", 56), strings.Repeat("é", 56), false},
		{"tab\there \x1b[31m", `tab here \u001B[31m`, false},
		{"bad \xff byte", `bad \uFFFD byte`, false},
		{"prod\u200b\u2060dev\u00ad", `prod\u200B\u2060dev\u00AD`, false},
	} {
		got := shorten(c.in, NameLimit)
		if got.Short != c.short || got.Cut != c.cut {
			t.Errorf("shorten(%q) = %q cut %v; want %q cut %v", c.in, got.Short, got.Cut, c.short, c.cut)
		}
	}
	if got := shorten("a\nb", 10).Full; got != "a\nb" {
		t.Errorf("full text %q; want its line breaks kept", got)
	}
}

func TestWorstAccounts(t *testing.T) {
	d, s, _ := newDashboard(t)
	body, _, _ := get(t, d, "?view=accounts")
	re := regexp.MustCompile(`<tr data-account="(\d+)" data-open="(\d+)"`)
	got := re.FindAllStringSubmatch(body, -1)
	scans, _ := s.AccountScans(context.Background())
	if len(got) != len(scans) {
		t.Fatalf("%d accounts listed; want %d", len(got), len(scans))
	}
	open := map[string]string{}
	for _, sc := range scans {
		open[sc.AccountID] = fmt.Sprint(sc.Open)
	}
	for i, m := range got {
		if open[m[1]] != m[2] {
			t.Errorf("account %s: %s open; the table says %s", m[1], m[2], open[m[1]])
		}
		if i > 0 && atoi(m[2]) > atoi(got[i-1][2]) {
			t.Errorf("account %s (%s open) after %s (%s): want the worst first", m[1], m[2], got[i-1][1], got[i-1][2])
		}
	}
	if got[0][1] != "111111111111" || got[0][2] != "75" {
		t.Errorf("worst account %s with %s open; want 111111111111 with 75", got[0][1], got[0][2])
	}
	// A severity filter counts that severity's findings.
	body, _, _ = get(t, d, "?view=accounts&severity=CRITICAL")
	if m := re.FindAllStringSubmatch(body, -1); len(m) != 3 || m[0][2] != "20" || !strings.Contains(body, "open findings of severity CRITICAL") {
		t.Errorf("worst accounts by CRITICAL: %v", m)
	}
}

func TestCoverageListsWhatWasNotRead(t *testing.T) {
	d, _, _ := newDashboard(t)
	body, rows, _ := get(t, d, "?view=coverage")
	if len(rows) != 5 {
		t.Fatalf("%d coverage rows; want the 5 SCAN-003", len(rows))
	}
	for _, r := range rows {
		if !rules.IsCoverage(r.rule) {
			t.Errorf("coverage view lists %s", r.rule)
		}
	}
	if !strings.Contains(body, "AccessDenied: not authorized to perform s3:GetInventoryConfiguration") {
		t.Error("coverage view lacks why the buckets could not be read")
	}
	body, rows, _ = get(t, d, "?view=coverage&rule=INV-104")
	if len(rows) != 0 || !strings.Contains(body, "INV-104 is not a coverage rule") {
		t.Errorf("coverage view of a rule that is not a coverage rule: %d rows", len(rows))
	}
}

func TestScanHistory(t *testing.T) {
	s := report.NewMemory(report.StoreOptions{})
	ctx := context.Background()
	for i := range PageSize + 5 {
		r := report.Run{ScanID: fmt.Sprintf("scan-%03d", i), Trigger: "schedule", StartedAt: t0.Add(time.Duration(i) * time.Hour),
			BySeverity: map[string]int{"CRITICAL": i}, ByRule: map[string]int{"INV-104": i}, Buckets: 300}
		must(t, s.Begin(ctx, r))
		r.FinishedAt = r.StartedAt.Add(90 * time.Second)
		must(t, s.End(ctx, r))
	}
	d := &Dashboard{Store: s}
	body, _, more := get(t, d, "?view=runs&rule=INV-104")
	scans := regexp.MustCompile(`<tr data-scan="(scan-\d+)">`).FindAllStringSubmatch(body, -1)
	if len(scans) != PageSize || scans[0][1] != fmt.Sprintf("scan-%03d", PageSize+4) || more == "" {
		t.Fatalf("runs page 1: %d runs, first %v, more %q; want %d, newest first, and a next page", len(scans), scans[0], more, PageSize)
	}
	for _, want := range []string{"<td class=\"num\">1m30s</td>", "<th class=\"num\">INV-104</th>", "Last scan <b>scan-054</b>"} {
		if !strings.Contains(body, want) {
			t.Errorf("runs view lacks %s", want)
		}
	}
	body, _, more = get(t, d, more)
	if n := strings.Count(body, "<tr data-scan="); n != 5 || more != "" {
		t.Errorf("runs page 2: %d runs, more %q; want the 5 oldest and no next page", n, more)
	}
}

func TestParseQuery(t *testing.T) {
	next := cursor{Segment: 1, Token: "abc", Shown: 50}.encode()
	q, err := ParseQuery(url.Values{"view": {"coverage"}, "account": {"123456789012"}, "ou": {"Production & <Test>"}, "rule": {"SCAN-001"}, "severity": {"high"}, "next": {next}})
	if err != nil || q != (Query{View: ViewCoverage, Account: "123456789012", OU: "Production & <Test>", Rule: "SCAN-001", Severity: rules.SeverityHigh, Next: next}) {
		t.Fatalf("ParseQuery: %+v, %v", q, err)
	}
	if back, _ := ParseQuery(q.Values()); back != q {
		t.Errorf("Values round trip: %+v; want %+v", back, q)
	}
	for query, want := range map[string]string{
		"view=all":          `view "all": want one of findings, changes, accounts, coverage, waivers, runs`,
		"account=12345":     `account "12345": want a 12-digit account ID`,
		"rule=INV-999":      `rule "INV-999": no such rule`,
		"severity=urgent":   `severity "urgent": want one of CRITICAL`,
		"next=%3Cscript%3E": `next "<script>": not a page position`,
		"next=e30x":         `next "e30x": not a page position`,
		"ou=a%0Ab":          `ou "a\nb": want an OU ID`,

		"account=12345678901x": `account "12345678901x"`,
	} {
		v, _ := url.ParseQuery(query)
		if _, err := ParseQuery(v); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want %s", query, err, want)
		}
	}
}

func TestServeHTTP(t *testing.T) {
	d, _, _ := newDashboard(t)
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?account=%3Cscript%3E", nil))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `account &#34;&lt;script&gt;&#34;: want a 12-digit account ID`) ||
		!strings.Contains(rec.Body.String(), `<form class="filters"`) {
		t.Errorf("bad account: %d; want 400 with the form and the message, escaped\n%s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d; want 405", rec.Code)
	}
	rec = httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes; want 200 and no body", rec.Code, rec.Body.Len())
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q; want no script allowed", csp)
	}
}

// failing is a store whose queries fail.
type failing struct{ report.Querier }

func (failing) RunsPage(context.Context, report.PageRequest) (report.Page[report.Run], error) {
	return report.Page[report.Run]{}, nil
}
func (failing) OpenPage(context.Context, report.Selection, report.PageRequest) (report.Page[report.Record], error) {
	return report.Page[report.Record]{}, errors.New("ProvisionedThroughputExceededException: slow down")
}

func TestStoreErrorIsShown(t *testing.T) {
	d := &Dashboard{Store: failing{}}
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "read Open findings: ProvisionedThroughputExceededException: slow down") {
		t.Errorf("store error: %d; want 502 and the error\n%s", rec.Code, rec.Body.String())
	}
	err := d.Render(context.Background(), &bytes.Buffer{}, Query{View: ViewFindings})
	if err == nil {
		t.Error("Render: nil error; want the store's")
	}
}

func TestLinksKeepTheFilters(t *testing.T) {
	d, _, _ := newDashboard(t)
	d.Link = func(q Query) string { return "/widget?" + q.Values().Encode() }
	var b bytes.Buffer
	must(t, d.Render(context.Background(), &b, Query{View: ViewFindings, Severity: rules.SeverityCritical}))
	for _, want := range []string{`href="/widget?next=`, `&amp;severity=CRITICAL" rel="next"`, `href="/widget?severity=CRITICAL&amp;view=accounts"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("fragment lacks %s", want)
		}
	}
	if strings.Contains(b.String(), "<html") {
		t.Error("Render wrote a whole document; want a fragment")
	}
	if !slices.Equal(Views(), []View{ViewFindings, ViewChanges, ViewAccounts, ViewCoverage, ViewWaivers, ViewRuns}) {
		t.Error("views changed")
	}
}

// BenchmarkRenderFindings renders the first page of open findings over an
// in-memory store of 10,000 findings.
func BenchmarkRenderFindings(b *testing.B) {
	s := report.NewMemory(report.StoreOptions{})
	var fs []rules.Finding
	for i := range 10000 {
		sev := rules.Severities()[i%5]
		fs = append(fs, finding(fmt.Sprintf("%012d", 100000000000+i%500), fmt.Sprintf("bucket-%05d", i), "INV-104", sev, i%200))
	}
	fill(b, s, fs)
	d := &Dashboard{Store: s}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		var w bytes.Buffer
		if err := d.Render(ctx, &w, Query{View: ViewFindings}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWidgetLinksAreActions: with Endpoint set, no link has an address;
// each is followed by a <cwdb-action> calling the endpoint with the
// params of the query it leads to (ParseQuery reads them back), and the
// filter form neither submits nor navigates: its Apply button is an
// action with "apply".
func TestWidgetLinksAreActions(t *testing.T) {
	d, _, _ := newDashboard(t)
	d.Endpoint = `arn:aws:lambda:eu-west-1:111122223333:function:dash"><script>`
	var b bytes.Buffer
	must(t, d.Render(context.Background(), &b, Query{View: ViewFindings, Severity: rules.SeverityCritical}))
	body := b.String()
	if strings.Contains(body, "href=") || strings.Contains(body, `method="get"`) || strings.Contains(body, `type="submit"`) {
		t.Errorf("widget fragment has an address, a GET form or a submit button:\n%s", body)
	}
	if strings.Contains(body, `dash"><script>`) {
		t.Error("the endpoint is not escaped")
	}
	actionRe := regexp.MustCompile(`<a([^>]*)>([^<]*)</a><cwdb-action action="call" display="widget" endpoint="([^"]*)">([^<]*)</cwdb-action>`)
	byLabel := map[string]Query{}
	for _, m := range actionRe.FindAllStringSubmatch(body, -1) {
		if got := html.UnescapeString(m[3]); got != d.Endpoint {
			t.Errorf("action of %q calls %q; want %q", m[2], got, d.Endpoint)
		}
		var params map[string]any
		if err := json.Unmarshal([]byte(m[4]), &params); err != nil {
			t.Fatalf("action of %q: params %s: %v", m[2], m[4], err)
		}
		if params["apply"] == true {
			byLabel[m[2]] = Query{View: View(fmt.Sprint(params["view"]))}
			continue
		}
		v := url.Values{}
		for k, x := range params {
			v.Set(k, fmt.Sprint(x))
		}
		q, err := ParseQuery(v)
		if err != nil {
			t.Errorf("action of %q: params %s: %v", m[2], m[4], err)
		}
		if q.Next != "" {
			if _, err := parseCursor(q.Next); err != nil {
				t.Errorf("action of %q: %v", m[2], err)
			}
			q.Next = "(a position)"
		}
		byLabel[m[2]] = q
	}
	want := map[string]Query{
		"Apply":                           {View: ViewFindings},
		"More →":                          {View: ViewFindings, Severity: rules.SeverityCritical, Next: "(a position)"},
		"Worst accounts":                  {View: ViewAccounts, Severity: rules.SeverityCritical},
		"Clear filters":                   {View: ViewFindings},
		"111111111111":                    {View: ViewFindings, Account: "111111111111"},
		"INV-104":                         {View: ViewFindings, Rule: "INV-104"},
		"Scan history":                    {View: ViewRuns, Severity: rules.SeverityCritical},
		"Not fully scanned":               {View: ViewCoverage, Severity: rules.SeverityCritical},
		"Changes since the previous scan": {View: ViewChanges, Severity: rules.SeverityCritical},
		"Waivers expiring within 30 days": {View: ViewWaivers, Severity: rules.SeverityCritical},
	}
	for label, q := range want {
		if got, ok := byLabel[label]; !ok || got != q {
			t.Errorf("action %q: %+v (found %v); want %+v", label, got, ok, q)
		}
	}
}

// countingStore counts the paged reads a render makes.
type countingStore struct {
	report.Querier
	reads int
}

func (c *countingStore) OpenPage(ctx context.Context, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	c.reads++
	return c.Querier.OpenPage(ctx, sel, req)
}

func (c *countingStore) ChangesPage(ctx context.Context, scanID string, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	c.reads++
	return c.Querier.ChangesPage(ctx, scanID, sel, req)
}

func (c *countingStore) WaiversPage(ctx context.Context, until string, sel report.Selection, req report.PageRequest) (report.Page[report.Record], error) {
	c.reads++
	return c.Querier.WaiversPage(ctx, until, sel, req)
}

func (c *countingStore) RunsPage(ctx context.Context, req report.PageRequest) (report.Page[report.Run], error) {
	c.reads++
	return c.Querier.RunsPage(ctx, req)
}

func (c *countingStore) WorstAccountsPage(ctx context.Context, sel report.Selection, req report.PageRequest) (report.Page[report.AccountScan], error) {
	c.reads++
	return c.Querier.WorstAccountsPage(ctx, sel, req)
}

// TestEveryViewReadsAtMostTwoPages: every view, with every filter, and
// each page its More links lead to, renders from at most MaxReads paged
// reads and the latest run, and never calls a whole-list query.
func TestEveryViewReadsAtMostTwoPages(t *testing.T) {
	_, s, _ := newDashboard(t)
	c := &countingStore{Querier: wholeListsRefused{s}}
	d := &Dashboard{Store: c, Now: func() time.Time { return t0.Add(time.Hour) }}
	for _, v := range Views() {
		for _, f := range []Query{{}, {Account: "111111111111"}, {Rule: "INV-101"}, {Severity: rules.SeverityHigh}, {OU: "ou-ab12-cdef3456"},
			{OU: "Payments", Severity: rules.SeverityCritical}, {Rule: "SCAN-003"}} {
			q := f
			q.View = v
			for pages := 1; ; pages++ {
				c.reads = 0
				var b bytes.Buffer
				if err := d.Render(context.Background(), &b, q); err != nil {
					t.Fatalf("%+v: %v", q, err)
				}
				if c.reads > MaxReads+1 {
					t.Errorf("%+v: %d paged reads; want at most %d and the latest run", q, c.reads, MaxReads)
				}
				m := regexp.MustCompile(`[?&]next=([A-Za-z0-9_-]+)`).FindStringSubmatch(b.String())
				if m == nil || pages > 20 {
					break
				}
				q.Next = m[1]
			}
		}
	}
}

// wholeListsRefused fails the queries that read a whole list.
type wholeListsRefused struct{ report.Querier }

func (wholeListsRefused) OpenByAccount(context.Context, string) ([]report.Record, error) {
	return nil, errors.New("whole list read")
}
func (wholeListsRefused) OpenByRule(context.Context, string) ([]report.Record, error) {
	return nil, errors.New("whole list read")
}
func (wholeListsRefused) OpenBySeverity(context.Context, rules.Severity, int) ([]report.Record, error) {
	return nil, errors.New("whole list read")
}
func (wholeListsRefused) AccountScans(context.Context) ([]report.AccountScan, error) {
	return nil, errors.New("whole list read")
}
func (wholeListsRefused) Runs(context.Context, int) ([]report.Run, error) {
	return nil, errors.New("whole list read")
}

// TestChangesWaiversAndOU: the changes view lists what the latest scan
// opened and resolved, the waivers view the waivers ending within 30
// days, and the OU filter matches an OU's ID or name.
func TestChangesWaiversAndOU(t *testing.T) {
	now := t0.Add(48 * time.Hour)
	s := report.NewMemory(report.StoreOptions{Now: func() time.Time { return now }})
	ctx := context.Background()
	a := finding("111111111111", "b-1", "INV-104", rules.SeverityCritical, 1)
	b := finding("111111111111", "b-2", "INV-101", rules.SeverityHigh, 2)
	w := finding("222222222222", "b-3", "INV-106", rules.SeverityLow, 3)
	w.OUID, w.OUName, w.AccountName = "ou-ab12-other001", `Sandbox <"OU">`, "sandbox"
	w.Status, w.Waiver = rules.StatusWaived, &rules.AppliedWaiver{Reason: "ticket", Expires: now.AddDate(0, 0, 12).Format(time.DateOnly)}
	fill(t, s, []rules.Finding{a, b, w})
	// A second scan of the first account: a is gone, c is new.
	c := finding("111111111111", "b-4", "INV-103", rules.SeverityHigh, 4)
	b.ScanID, c.ScanID = "scan-2", "scan-2"
	b.ObservedAt, c.ObservedAt = t0.Add(time.Hour), t0.Add(time.Hour)
	run := report.Run{ScanID: "scan-2", Trigger: "manual", StartedAt: t0.Add(time.Hour)}
	must(t, s.Begin(ctx, run))
	must(t, s.Put(ctx, []rules.Finding{b, c}))
	must(t, s.AccountDone(ctx, "scan-2", inventory.AccountResult{Account: inventory.Account{ID: "111111111111"}, Status: inventory.AccountComplete,
		StartedAt: run.StartedAt, FinishedAt: run.StartedAt.Add(time.Minute)}))
	run.FinishedAt = run.StartedAt.Add(2 * time.Minute)
	must(t, s.End(ctx, run))
	d := &Dashboard{Store: s, Now: func() time.Time { return now }}

	body, rows, _ := get(t, d, "?view=changes")
	if len(rows) != 2 || rows[0].id != a.FindingID || rows[1].id != c.FindingID {
		t.Errorf("changes: %v; want %s (CRITICAL, resolved) then %s (HIGH, opened)", rows, a.FindingID, c.FindingID)
	}
	if !strings.Contains(body, `data-change="resolved"`) || !strings.Contains(body, `data-change="opened"`) || !strings.Contains(body, "scan-2") {
		t.Error("changes: want the resolved and the opened finding marked, and the scan named")
	}
	if _, rows, _ := get(t, d, "?view=changes&severity=CRITICAL"); len(rows) != 1 || rows[0].id != a.FindingID {
		t.Errorf("changes of CRITICAL: %v", rows)
	}

	body, rows, _ = get(t, d, "?view=waivers")
	if len(rows) != 1 || rows[0].id != w.FindingID || !strings.Contains(body, "12 d left") {
		t.Errorf("waivers: %v; want %s with 12 days left", rows, w.FindingID)
	}
	later := &Dashboard{Store: s, Now: func() time.Time { return now.AddDate(0, 0, -30) }}
	if _, rows, _ := get(t, later, "?view=waivers"); len(rows) != 0 {
		t.Errorf("waivers 42 days before the end: %v; want none", rows)
	}

	for _, ou := range []string{"ou-ab12-other001", `Sandbox <"OU">`} {
		// Each severity in turn: the LOW finding is a few pages on.
		if _, rows := walk(t, d, "?ou="+url.QueryEscape(ou)); len(rows) != 1 || rows[0].id != w.FindingID {
			t.Errorf("OU %q: %v; want %s only", ou, rows, w.FindingID)
		}
		body, rows, _ := get(t, d, "?severity=LOW&ou="+url.QueryEscape(ou))
		if len(rows) != 1 || !strings.Contains(body, `title="ou-ab12-other001">Sandbox &lt;&#34;OU&#34;&gt;</a>`) {
			t.Errorf("OU %q, LOW: %v; want its finding, the OU's name escaped, linked to its ID", ou, rows)
		}
	}
	if body, _, _ := get(t, d, "?view=accounts&ou=ou-ab12-other001"); !strings.Contains(body, `<tr data-account="222222222222"`) || strings.Contains(body, `<tr data-account="111111111111"`) {
		t.Error("worst accounts of an OU: want its account only")
	}
}
