package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/deploy"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// TestWidgetUnderEmulator builds the custom-widget function (-tags
// lambda,lambda.norpc,widget, as build-DashboardFunction does, for this
// machine) and runs it under the Runtime Interface Emulator over a
// dynalite table: the recorded refresh event is answered with the table's
// CRITICAL finding and links that call the invoked function, describe
// with Markdown, and the function only ever Queries and GetItems.
func TestWidgetUnderEmulator(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	ctx := context.Background()
	root, err := deploy.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, rie := buildTools(t, root, dir)
	bootstrap := filepath.Join(dir, "widget", "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda,lambda.norpc,widget", "-o", bootstrap, "./cmd/scanner")
	build.Dir, build.Env = root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the widget: %v\n%s", err, out)
	}

	const widgetTable = "widget-e2e"
	store, err := dynamo.New(testenv.DynamoClient(endpoint), widgetTable, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Add(-time.Hour)
	f := rules.Finding{FindingID: rules.FindingID("111111111111", "logs-bucket", "daily", "INV-104"), AccountID: "111111111111",
		AccountName: "prod", Bucket: "logs-bucket", ConfigID: "daily", Region: "eu-west-1", RuleID: "INV-104",
		Severity: rules.SeverityCritical, Status: rules.StatusOpen, Message: "destination in another account", ScanID: "scan-e2e", ObservedAt: t0}
	run := report.Run{ScanID: "scan-e2e", Trigger: "schedule", StartedAt: t0, BySeverity: map[string]int{"CRITICAL": 1}, ByRule: map[string]int{"INV-104": 1}}
	for _, err := range []error{
		store.Begin(ctx, run), store.Put(ctx, []rules.Finding{f}),
		store.AccountDone(ctx, run.ScanID, inventory.AccountResult{Account: inventory.Account{ID: f.AccountID}, Status: inventory.AccountComplete, Buckets: 1, Visited: 1, Configs: 1, StartedAt: t0, FinishedAt: t0}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	run.FinishedAt, run.AccountsComplete = t0.Add(time.Minute), 1
	if err := store.End(ctx, run); err != nil {
		t.Fatal(err)
	}

	rec := newRecorder(t, endpoint)
	fn := startFunction(t, rie, bootstrap, map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDWIDGET", "AWS_SECRET_ACCESS_KEY": "widget",
		"AWS_ENDPOINT_URL_DYNAMODB": rec.URL, "SCANNER_TABLE": widgetTable,
	})
	event, err := os.ReadFile(filepath.Join(root, "internal", "app", "webui", "widget", "testdata", "events", "refresh.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page string
	if err := json.Unmarshal(fn.invoke(t, string(event)), &page); err != nil {
		t.Fatalf("refresh: %v; want the HTML as a JSON string", err)
	}
	if !strings.Contains(page, `<tr data-finding="`+f.FindingID+`" data-severity="CRITICAL"`) {
		t.Errorf("refresh: the table's CRITICAL finding is not shown:\n%s", page)
	}
	actions := regexp.MustCompile(`<cwdb-action action="call" display="widget" endpoint="(arn:aws:lambda:[^"]+:function:[^"]+)">`).FindAllStringSubmatch(page, -1)
	if len(actions) < 5 || strings.Contains(page, "href=") {
		t.Errorf("refresh: %d actions calling a function ARN, links with addresses: %v; want every link an action", len(actions), strings.Contains(page, "href="))
	}

	var doc map[string]string
	if err := json.Unmarshal(fn.invoke(t, `{"describe":true}`), &doc); err != nil || !strings.Contains(doc["markdown"], "| `view` |") {
		t.Errorf("describe: %v %v; want {\"markdown\": ...} documenting the params", doc, err)
	}
	for _, c := range rec.Calls() {
		if (c.Op != "Query" && c.Op != "GetItem") || c.Table != widgetTable {
			t.Errorf("the widget called %s on %s (index %q); want only Query and GetItem on %s", c.Op, c.Table, c.Index, widgetTable)
		}
	}
	if len(rec.Calls()) == 0 {
		t.Error("the widget read nothing from the table")
	}
}
