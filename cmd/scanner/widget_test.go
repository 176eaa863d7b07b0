package main

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

	"github.com/s3inv/scanner/internal/dynalite"
	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/internal/webui"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// widgetARN is the function ARN of the recorded invocations.
const widgetARN = "arn:aws:lambda:eu-west-1:111122223333:function:scanner-DashboardFunction-AbC123"

// widgetAccountName is stored for one account: the widget must escape it.
const widgetAccountName = `<script>alert("x")</script> prod`

// fillWidgetTable writes one complete scan into a new dynalite table: 3
// accounts, 70 CRITICAL findings (more than a page), 12 HIGH, 5 LOW.
func fillWidgetTable(t *testing.T) (dynamo.API, string, *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	api := dynalite.Client(dynalite.ForTest(t))
	const table = "widget-findings"
	store, err := dynamo.New(api, table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	var fs []rules.Finding
	add := func(i int, rule string, sev rules.Severity) {
		acct := accounts[i%len(accounts)]
		bucket, config := fmt.Sprintf("bucket-%03d", i), fmt.Sprintf("cfg-%03d", i)
		name := "acct-" + acct[:3]
		if acct == accounts[2] {
			name = widgetAccountName
		}
		fs = append(fs, rules.Finding{FindingID: rules.FindingID(acct, bucket, config, rule), AccountID: acct, AccountName: name,
			OUID: "ou-ab12-cdef3456", Bucket: bucket, ConfigID: config, Region: "eu-west-1", RuleID: rule, Severity: sev,
			Status: rules.StatusOpen, Message: rule + " fails on " + bucket, ScanID: "scan-w1", ObservedAt: t0.Add(time.Duration(i) * time.Minute)})
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
	return api, table, store
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// invokeWidget runs the handler on a recorded event, as Lambda would.
func invokeWidget(t *testing.T, w *widget, event []byte) (any, error) {
	t.Helper()
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1", InvokedFunctionArn: widgetARN})
	return w.handle(ctx, event)
}

func recordedEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "widget", name))
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
func widgetHTML(t *testing.T, w *widget, event []byte) widgetPage {
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
	w, err := newWidget(api, table, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	if want := map[string]any{"view": "findings", "severity": "CRITICAL", "page": "2"}; !ok || fmt.Sprint(more) != fmt.Sprint(want) {
		t.Errorf("refresh: More action %v; want %v", more, want)
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

	out, err := invokeWidget(t, w, recordedEvent(t, "describe.json"))
	mustDo(t, err)
	md, _ := out.(map[string]string)
	var documented []string
	for _, p := range widgetParams {
		documented = append(documented, "| `"+p+"` |")
	}
	for _, p := range append(documented, `"apply": true`, "`widgetContext.forms.all`", "`dynamodb:Query`") {
		if !strings.Contains(md["markdown"], p) {
			t.Errorf("describe: the Markdown does not document %s:\n%v", p, out)
		}
	}
}

// TestWidgetBadEvents: an event that is not an object of known params is
// an error naming it; a bad value is shown in the widget with the form,
// without reading the table.
func TestWidgetBadEvents(t *testing.T) {
	w := &widget{store: failingQuerier{}, table: "t", log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for ev, want := range map[string]string{
		`[1]`:                                "want a JSON object",
		`{"view":"findings","colour":"red"}`: `widget param "colour": no such param`,
		`{"page":2.5}`:                       `widget param page "2.5": want a string`,
		`{"apply":true,"widgetContext":{"forms":{"all":{"severity":["HIGH"]}}}}`: "form field severity",
	} {
		if _, err := invokeWidget(t, w, []byte(ev)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("event %s: error %v; want one with %q", ev, err, want)
		}
	}
	for ev, want := range map[string]string{
		`{"severity":"URGENT"}`:          `severity &#34;URGENT&#34;: want one of CRITICAL`,
		`{"view":"findings","page":101}`: `page &#34;101&#34;: want a whole number from 1 to 100`,
		`{"view":"graphs"}`:              `view &#34;graphs&#34;: want one of`,
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
	if _, err := w.handle(context.Background(), []byte(`{}`)); err == nil {
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
	w, err := newWidget(readOnlyTable{}, "widget-findings", slog.Default())
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
	files, err := filepath.Glob("testdata/widget/*.json")
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
		req, err := parseWidgetEvent(b)
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
