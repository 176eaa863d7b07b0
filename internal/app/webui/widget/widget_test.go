package widget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// widgetARN is the function ARN of the recorded invocations.
const widgetARN = "arn:aws:lambda:eu-west-1:111122223333:function:scanner-DashboardFunction-AbC123"

// widgetAccountName is stored for one account: the widget must escape it.
const widgetAccountName = `<script>alert("x")</script> prod`

// widgetT0 is when the recorded table's first scan ran (fixed, so that
// the recorded More event's position is the one the table gives).
var widgetT0 = time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)

// widgetOUName is the OU of the third account: the widget must escape it.
const widgetOUName = `<b>Sandbox "OU"</b>`

// fillWidgetTable writes two scans into a new dynalite table. The first
// is complete: 3 accounts (the third in OU widgetOUName), 70 CRITICAL
// findings (more than a page), 12 HIGH, 5 LOW of which 3 waived (2
// until 10 days from now, one 60 days). The second scans the first
// account again: one of its CRITICAL findings is gone (resolved), one
// HIGH finding is new (opened).
func fillWidgetTable(t *testing.T) (dynamo.API, string, *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	api := testenv.DynamoClient(testenv.Dynalite(t))
	const table = "widget-findings"
	store, err := dynamo.New(api, table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := widgetT0
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	var fs []rules.Finding
	finding := func(i int, rule string, sev rules.Severity, scanID string) rules.Finding {
		acct := accounts[i%len(accounts)]
		bucket, config := fmt.Sprintf("bucket-%03d", i), fmt.Sprintf("cfg-%03d", i)
		name, ouID, ouName := "acct-"+acct[:3], "ou-ab12-cdef3456", "Production"
		if acct == accounts[2] {
			name, ouID, ouName = widgetAccountName, "ou-ab12-sandbox1", widgetOUName
		}
		return rules.Finding{FindingID: rules.FindingID(acct, bucket, config, rule), AccountID: acct, AccountName: name,
			OUID: ouID, OUName: ouName, Bucket: bucket, ConfigID: config, Region: "eu-west-1", RuleID: rule, Severity: sev,
			Status: rules.StatusOpen, Message: rule + " fails on " + bucket, ScanID: scanID, ObservedAt: t0.Add(time.Duration(i) * time.Minute)}
	}
	add := func(i int, rule string, sev rules.Severity) {
		fs = append(fs, finding(i, rule, sev, "scan-w1"))
	}
	for i := range 70 {
		add(i, "INV-104", rules.SeverityCritical)
	}
	for i := range 12 {
		add(100+i, "INV-101", rules.SeverityHigh)
	}
	for i := range 5 {
		add(200+i, "INV-106", rules.SeverityLow)
	}
	today := time.Now().UTC()
	for i, days := range []int{10, 10, 60} {
		f := &fs[len(fs)-1-i]
		f.Status = rules.StatusWaived
		f.Waiver = &rules.AppliedWaiver{Reason: "ticket SEC-" + fmt.Sprint(i), Expires: today.AddDate(0, 0, days).Format(time.DateOnly)}
	}
	run := report.Run{ScanID: "scan-w1", Trigger: "schedule", StartedAt: t0, BySeverity: map[string]int{}, ByRule: map[string]int{}}
	mustDo(t, store.Begin(ctx, run))
	mustDo(t, store.Put(ctx, fs))
	for _, f := range fs {
		run.BySeverity[f.Severity.String()]++
		run.ByRule[f.RuleID]++
	}
	for _, a := range accounts {
		mustDo(t, store.AccountDone(ctx, run.ScanID, inventory.AccountResult{Account: inventory.Account{ID: a}, Status: inventory.AccountComplete,
			Buckets: 40, Visited: 40, Configs: 40, StartedAt: t0, FinishedAt: t0.Add(time.Minute)}))
		run.AccountsComplete++
	}
	run.FinishedAt = t0.Add(2 * time.Minute)
	mustDo(t, store.End(ctx, run))

	// The second scan: the first account again, without its first
	// CRITICAL finding, with a new HIGH one.
	run2 := report.Run{ScanID: "scan-w2", Trigger: "manual", StartedAt: t0.Add(time.Hour), BySeverity: map[string]int{}, ByRule: map[string]int{}}
	var again []rules.Finding
	for _, f := range fs[1:] {
		if f.AccountID == accounts[0] {
			f.ScanID, f.ObservedAt = run2.ScanID, run2.StartedAt
			again = append(again, f)
		}
	}
	opened := finding(300, "INV-101", rules.SeverityHigh, run2.ScanID)
	opened.ObservedAt = run2.StartedAt
	again = append(again, opened)
	mustDo(t, store.Begin(ctx, run2))
	mustDo(t, store.Put(ctx, again))
	mustDo(t, store.AccountDone(ctx, run2.ScanID, inventory.AccountResult{Account: inventory.Account{ID: accounts[0]}, Status: inventory.AccountComplete,
		Buckets: 40, Visited: 40, Configs: 40, StartedAt: run2.StartedAt, FinishedAt: run2.StartedAt.Add(time.Minute)}))
	run2.AccountsComplete, run2.FinishedAt = 1, run2.StartedAt.Add(2*time.Minute)
	mustDo(t, store.End(ctx, run2))
	return api, table, store
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// invokeWidget runs the handler on a recorded event, as Lambda would.
func invokeWidget(t *testing.T, w *Widget, event []byte) (any, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: widgetARN})
	return w.Handle(ctx, event)
}

func recordedEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var (
	widgetRowRe    = regexp.MustCompile(`<tr data-finding="([0-9a-f]+)" data-severity="([A-Z]+)" data-account="(\d+)" data-rule="([A-Z0-9-]+)"`)
	widgetActionRe = regexp.MustCompile(`<a([^>]*)>([^<]*)</a><cwdb-action action="call" display="widget" endpoint="([^"]*)">([^<]*)</cwdb-action>`)
)

// widgetPage is what one answer shows: its rows and its actions by label.
type widgetPage struct {
	html    string
	rows    [][]string // id, severity, account, rule
	actions map[string]map[string]any
}

// widgetHTML runs the handler on event and reads the HTML it answers.
func widgetHTML(t *testing.T, w *Widget, event []byte) widgetPage {
	t.Helper()
	out, err := invokeWidget(t, w, event)
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	s, ok := out.(string)
	if !ok {
		t.Fatalf("handler answered %T; want the HTML as a string", out)
	}
	// What Lambda sends back is the answer as JSON.
	if _, err := json.Marshal(out); err != nil {
		t.Fatal(err)
	}
	p := widgetPage{html: s, actions: map[string]map[string]any{}}
	for _, m := range widgetRowRe.FindAllStringSubmatch(s, -1) {
		p.rows = append(p.rows, m[1:])
	}
	for _, m := range widgetActionRe.FindAllStringSubmatch(s, -1) {
		if strings.Contains(m[1], "href") {
			t.Errorf("link %q has an address and an action", m[2])
		}
		if got := html.UnescapeString(m[3]); got != widgetARN {
			t.Errorf("action %q calls %s; want the invoked function %s", m[2], got, widgetARN)
		}
		var params map[string]any
		if err := json.Unmarshal([]byte(m[4]), &params); err != nil {
			t.Errorf("action %q: params %s: %v", m[2], m[4], err)
		}
		p.actions[m[2]] = params
	}
	if strings.Contains(s, "href=") || strings.Contains(s, "<script") {
		t.Errorf("widget HTML has an address or a script:\n%s", s)
	}
	return p
}

func rowIDs(rows [][]string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	slices.Sort(out)
	return out
}

func recordIDs(recs []report.Record, keep func(report.Record) bool) []string {
	var out []string
	for _, r := range recs {
		if keep == nil || keep(r) {
			out = append(out, r.FindingID)
		}
	}
	slices.Sort(out)
	return out
}

// TestWidgetRecordedEvents runs recorded custom-widget events through the
// handler over a dynalite table: the refresh shows the first page of
// CRITICAL findings and a "More" action, the event that action sends
// shows the rest, the form's Apply reads its filters from forms.all, the
// accounts view lists the table's accounts, describe answers Markdown;
// every link is a <cwdb-action> calling the invoked function.
func TestWidgetRecordedEvents(t *testing.T) {
	api, table, store := fillWidgetTable(t)
	w, err := New(api, table, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	critical, err := store.OpenBySeverity(ctx, rules.SeverityCritical, 0)
	mustDo(t, err)
	high, err := store.OpenBySeverity(ctx, rules.SeverityHigh, 0)
	mustDo(t, err)

	first := widgetHTML(t, w, recordedEvent(t, "refresh.json"))
	if len(first.rows) != webui.PageSize {
		t.Errorf("refresh: %d rows; want a full page of %d", len(first.rows), webui.PageSize)
	}
	more, ok := first.actions["More →"]
	if next, _ := more["next"].(string); !ok || more["view"] != "findings" || more["severity"] != "CRITICAL" || len(more) != 3 || next == "" {
		t.Errorf("refresh: More action %v; want the view, its filter and the next page's position", more)
	}
	if _, ok := first.actions["Apply"]; !ok {
		t.Error("refresh: no Apply action")
	}
	// The event the More action sends, recorded.
	var moreEvent map[string]any
	mustDo(t, json.Unmarshal(recordedEvent(t, "more.json"), &moreEvent))
	for k, v := range more {
		if moreEvent[k] != v {
			t.Errorf("more.json: %s = %v; the More action sends %v", k, moreEvent[k], v)
		}
	}
	second := widgetHTML(t, w, recordedEvent(t, "more.json"))
	if _, ok := second.actions["More →"]; ok {
		t.Error("page 2 of 70: a More action; want none on the last page")
	}
	if got, want := rowIDs(append(first.rows, second.rows...)), recordIDs(critical, nil); !slices.Equal(got, want) {
		t.Errorf("pages 1 and 2 show %d findings; want the table's %d CRITICAL ones", len(got), len(want))
	}
	for _, r := range append(first.rows, second.rows...) {
		if r[1] != "CRITICAL" {
			t.Errorf("CRITICAL view shows a %s finding", r[1])
		}
	}
	if !strings.Contains(first.html, html.EscapeString(widgetAccountName)) {
		t.Error("the hostile account name is not shown escaped")
	}

	applied := widgetHTML(t, w, recordedEvent(t, "apply.json"))
	wantHigh := recordIDs(high, func(r report.Record) bool { return r.AccountID == "222222222222" })
	if got := rowIDs(applied.rows); len(wantHigh) == 0 || !slices.Equal(got, wantHigh) {
		t.Errorf("apply (account 222222222222, HIGH from forms.all): %v; want %v", got, wantHigh)
	}
	if !strings.Contains(applied.html, `value="222222222222"`) {
		t.Error("apply: the form does not keep the account filter")
	}

	accounts := widgetHTML(t, w, recordedEvent(t, "accounts.json"))
	for _, a := range []string{"111111111111", "222222222222", "333333333333"} {
		if !strings.Contains(accounts.html, `<tr data-account="`+a+`"`) {
			t.Errorf("accounts view: no row for %s", a)
		}
		if got := accounts.actions[a]; fmt.Sprint(got) != fmt.Sprint(map[string]any{"view": "findings", "account": a}) {
			t.Errorf("accounts view: action of %s %v; want its findings", a, got)
		}
	}

	// Opened and resolved by the latest scan (scan-w2): exactly what the
	// table's changes index holds for it, the resolved CRITICAL first.
	changes := widgetHTML(t, w, recordedEvent(t, "changes.json"))
	changed, err := store.ChangesPage(ctx, "scan-w2", report.Selection{}, report.PageRequest{Limit: 100})
	mustDo(t, err)
	if got, want := rowIDs(changes.rows), recordIDs(changed.Items, nil); len(want) != 2 || !slices.Equal(got, want) {
		t.Errorf("changes view: %v; the table's changes of scan-w2 are %v (want 2)", got, want)
	}
	if !strings.Contains(changes.html, `data-change="resolved"`) || !strings.Contains(changes.html, `data-change="opened"`) {
		t.Error("changes view: want one resolved and one opened finding marked as such")
	}

	// Waivers ending within 30 days: the two of 10 days, not the one of 60.
	waivers := widgetHTML(t, w, recordedEvent(t, "waivers.json"))
	soon, err := store.WaiversPage(ctx, time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly), report.Selection{}, report.PageRequest{Limit: 100})
	mustDo(t, err)
	if got, want := rowIDs(waivers.rows), recordIDs(soon.Items, nil); len(want) != 2 || !slices.Equal(got, want) {
		t.Errorf("waivers view: %v; the table's waivers ending within 30 days are %v (want 2)", got, want)
	}
	if !strings.Contains(waivers.html, "10 d left") {
		t.Error("waivers view: want the days left")
	}

	// The form's OU field (a name, hostile): only that OU's findings,
	// its name shown escaped.
	byOU := widgetHTML(t, w, recordedEvent(t, "apply-ou.json"))
	ouOpen, err := store.OpenPage(ctx, report.Selection{Severity: rules.SeverityCritical, OU: widgetOUName}, report.PageRequest{Limit: 100})
	mustDo(t, err)
	if got, want := rowIDs(byOU.rows), recordIDs(ouOpen.Items, nil); len(want) == 0 || !slices.Equal(got, want) {
		t.Errorf("apply (OU %q, CRITICAL): %v; want %v", widgetOUName, got, want)
	}
	for _, r := range byOU.rows {
		if r[2] != "333333333333" {
			t.Errorf("OU filter lists account %s; want only 333333333333", r[2])
		}
	}
	if !strings.Contains(byOU.html, html.EscapeString(widgetOUName)) || strings.Contains(byOU.html, widgetOUName) {
		t.Error("OU filter: the OU name is not shown escaped")
	}
	if got := byOU.actions["Clear filters"]; fmt.Sprint(got) != fmt.Sprint(map[string]any{"view": "findings"}) {
		t.Errorf("OU filter: Clear filters action %v", got)
	}

	out, err := invokeWidget(t, w, recordedEvent(t, "describe.json"))
	mustDo(t, err)
	md, _ := out.(map[string]string)
	var documented []string
	for _, p := range params {
		documented = append(documented, "| `"+p+"` |")
	}
	for _, p := range append(documented, `"apply": true`, "`widgetContext.forms.all`", "`dynamodb:Query`", "`changes`", "`waivers`") {
		if !strings.Contains(md["markdown"], p) {
			t.Errorf("describe: the Markdown does not document %s:\n%v", p, out)
		}
	}
}

// TestWidgetBadEvents: an event that is not an object of known params is
// an error naming it; a bad value is shown in the widget with the form,
// without reading the table.
func TestWidgetBadEvents(t *testing.T) {
	w := &Widget{store: failingQuerier{}, table: "t", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for ev, want := range map[string]string{
		`[1]`:                                "want a JSON object",
		`{"view":"findings","colour":"red"}`: `widget param "colour": no such param`,
		`{"next":2.5}`:                       `widget param next "2.5": want a string`,
		`{"apply":true,"widgetContext":{"forms":{"all":{"severity":["HIGH"]}}}}`: "form field severity",
	} {
		if _, err := invokeWidget(t, w, []byte(ev)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("event %s: error %v; want one with %q", ev, err, want)
		}
	}
	for ev, want := range map[string]string{
		`{"severity":"URGENT"}`:             `severity &#34;URGENT&#34;: want one of CRITICAL`,
		`{"view":"findings","next":"abc!"}`: `next &#34;abc!&#34;: not a page position`,
		`{"view":"graphs"}`:                 `view &#34;graphs&#34;: want one of`,
		`{"apply":true,"widgetContext":{"forms":{"all":{"account":"12"}}}}`: `account &#34;12&#34;: want a 12-digit account ID`,
	} {
		p := widgetHTML(t, w, []byte(ev))
		if !strings.Contains(p.html, want) || !strings.Contains(p.html, `role="alert"`) {
			t.Errorf("event %s: HTML without the message %q:\n%s", ev, want, p.html)
		}
		if _, ok := p.actions["Apply"]; !ok {
			t.Errorf("event %s: no form to correct it", ev)
		}
	}
	// Outside Lambda there is no ARN for the links to call.
	if _, err := w.Handle(context.Background(), []byte(`{}`)); err == nil {
		t.Error("no Lambda context: nil error; want one naming the missing function ARN")
	}
}

// failingQuerier fails every read: the bad-value events must not read.
type failingQuerier struct{ report.Querier }

func (failingQuerier) Runs(context.Context, int) ([]report.Run, error) {
	return nil, errors.New("read the table")
}

// TestWidgetIsReadOnly: the widget's store refuses every write before it
// reaches DynamoDB (its role allows none either).
func TestWidgetIsReadOnly(t *testing.T) {
	w, err := New(readOnlyTable{}, "widget-findings", slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	s := w.store.(*dynamo.Store)
	ctx := context.Background()
	if err := s.Begin(ctx, report.Run{ScanID: "scan-x", StartedAt: time.Now()}); !errors.Is(err, errReadOnly) {
		t.Errorf("Begin: %v; want %v", err, errReadOnly)
	}
	f := rules.Finding{FindingID: "f1", AccountID: "111111111111", RuleID: "INV-104", Severity: rules.SeverityCritical, Status: rules.StatusOpen, ScanID: "scan-x"}
	if err := s.Put(ctx, []rules.Finding{f}); err == nil {
		t.Error("Put: nil error; want a refusal")
	}
}

// FuzzParseWidgetEvent: whatever CloudWatch (or anyone able to invoke
// the function) sends, the parser never panics, and refuses with one
// short line; what it accepts is a query the views accept or refuse with
// one line too.
func FuzzParseWidgetEvent(f *testing.F) {
	files, err := filepath.Glob("testdata/events/*.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{}`, `[]`, `null`, `{"view":1}`, `{"apply":true,"widgetContext":{"forms":{"all":{"account":["x"]}}}}`,
		`{"` + strings.Repeat("k", 5000) + `":"v"}`, `{"rule":"` + strings.Repeat("<script>", 1000) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseEvent(b)
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Errorf("error spans lines or is long (%d bytes): %q", len(msg), msg)
			}
			return
		}
		if _, err := webui.ParseQuery(req.values); err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("query error spans lines: %q", err)
		}
	})
}
