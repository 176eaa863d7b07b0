//go:build unix

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/deploy"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

const (
	table      = "e2e-findings"
	roleName   = "S3InventoryScannerMember"
	externalID = "e2e-external-id"
)

// summary is the part of the function's response the test reads.
type summary struct {
	ScanID             string         `json:"scan_id"`
	Trigger            string         `json:"trigger"`
	AccountsComplete   int            `json:"accounts_complete"`
	AccountsFailed     int            `json:"accounts_failed"`
	AccountsIncomplete int            `json:"accounts_incomplete"`
	Buckets            int            `json:"buckets"`
	ByRule             map[string]int `json:"by_rule"`
	EventsFailed       int            `json:"events_failed"`
	SecurityHub        *hubCounts     `json:"security_hub"`
}

// hubCounts is the summary's security_hub.
type hubCounts struct {
	Imported   int `json:"imported"`
	Failed     int `json:"failed"`
	NotEnabled int `json:"not_enabled"`
	Skipped    int `json:"skipped"`
}

// lambdaError is what the runtime returns for a handler error.
type lambdaError struct {
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// wantOpen is the open findings of a complete scan of testdata/org.yaml
// under the default policy, by account (see the fixture's header).
var wantOpen = map[string][]string{
	"111111111111": nil,
	"222222222222": {"INV-001", "INV-002", "INV-003", "INV-101", "INV-103", "INV-104", "SCAN-005", "SCAN-005", "SCAN-005"},
	"333333333333": {"SCAN-001"},
	"444444444444": nil,
	"555555555555": {"SCAN-003"},
}

// scanned are the accounts a run reads buckets of (ACTIVE, role there).
var scanned = []string{"111111111111", "222222222222", "555555555555"}

func TestLambdaEndToEnd(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	ctx := context.Background()
	root, err := deploy.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bootstrap, rie := buildTools(t, root, t.TempDir())

	ddb := testenv.DynamoClient(endpoint)
	store, err := dynamo.New(ddb, table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatalf("create the findings table: %v", err)
	}
	rec := newRecorder(t, endpoint)

	// Two simulators of the same organization: one answers at once, the
	// other takes 400 ms a call (the deadline run).
	fast := startSim(t)
	slow := startSim(t, awssim.WithLatency(400*time.Millisecond, 0))

	// EventBridge and Security Hub are moto_server's, behind a proxy that
	// files each request under the account its credentials act in;
	// Security Hub is not enabled in 555555555555.
	motoURL := testenv.Moto(t)
	outs := newOutputs(t, motoURL, []*awssim.Server{fast, slow}, map[string]bool{"555555555555": true})
	queue, queueURL := eventQueue(t, motoURL, "111111111111") // the function's own account

	// env is the function's environment; with exports, it publishes
	// events on the default bus and imports into Security Hub (the
	// deadline run does neither: it is about the deadline).
	env := func(sim *awssim.Server, timeout, margin string, exports bool) map[string]string {
		key, secret := sim.ManagementCredentials()
		e := map[string]string{
			"AWS_REGION":                  "us-east-1",
			"AWS_ACCESS_KEY_ID":           key,
			"AWS_SECRET_ACCESS_KEY":       secret,
			"AWS_ENDPOINT_URL":            sim.URL(),
			"AWS_ENDPOINT_URL_DYNAMODB":   rec.URL,
			"AWS_LAMBDA_FUNCTION_TIMEOUT": timeout,
			"SCANNER_TABLE":               table,
			"SCANNER_ROLE_NAME":           roleName,
			"SCANNER_EXTERNAL_ID":         externalID,
			"SCANNER_DEADLINE_MARGIN":     margin,
			"SCANNER_METRICS_NAMESPACE":   e2eNamespace,
		}
		if exports {
			e["AWS_ENDPOINT_URL_EVENTBRIDGE"] = outs.URL
			e["AWS_ENDPOINT_URL_SECURITYHUB"] = outs.URL
			e["SCANNER_EVENT_BUS"] = "default"
			e["SCANNER_SECURITY_HUB"] = "true"
		}
		return e
	}
	fn := startFunction(t, rie, bootstrap, env(fast, "120", "5s", true))

	var first map[string][]report.Record
	var firstSum summary
	t.Run("scheduled run", func(t *testing.T) {
		sum := decodeSummary(t, fn.invoke(t, scheduledEvent()))
		firstSum = sum
		wantByRule := map[string]int{}
		for _, ids := range wantOpen {
			for _, id := range ids {
				wantByRule[id]++
			}
		}
		if !maps.Equal(sum.ByRule, wantByRule) {
			t.Errorf("summary by_rule = %v; want %v", sum.ByRule, wantByRule)
		}
		if sum.Trigger != "schedule" || sum.AccountsComplete != 3 || sum.AccountsFailed != 1 || sum.AccountsIncomplete != 0 {
			t.Errorf("summary: trigger %q, %d complete, %d failed, %d incomplete; want schedule, 3 (111, 222, 555), 1 (333: no role), 0",
				sum.Trigger, sum.AccountsComplete, sum.AccountsFailed, sum.AccountsIncomplete)
		}
		if sum.Buckets != 9 {
			t.Errorf("summary: %d buckets; want 9 (1 + 7 + 1 in the scanned accounts)", sum.Buckets)
		}
		first = tableFindings(t, store)
		for acct, want := range wantOpen {
			if got := openRules(first[acct]); !slices.Equal(got, want) {
				t.Errorf("table: account %s has open findings %v; want %v", acct, got, want)
			}
		}
		runs, err := store.Runs(ctx, 0)
		if err != nil || len(runs) != 1 || runs[0].ScanID != sum.ScanID || runs[0].FinishedAt.IsZero() {
			t.Errorf("table: runs %+v (%v); want the one finished run %s", runs, err, sum.ScanID)
		}
		got := checkEMF(t, fn, sum.ScanID, map[string]float64{"CoverageFindings": 5, "AccountsFailed": 1, "AccountsIncomplete": 0, "OpenFindings": 11, "Buckets": 9,
			"FindingsOpened": 11, "FindingsReopened": 0, "FindingsResolved": 0})
		for _, d := range emf.Definitions() {
			if len(got[d.Key()]) == 0 && d.When != emf.Refusals {
				t.Errorf("scheduled run: %s (%s) not printed", d.Key(), d.When)
			}
		}
	})
	if first == nil {
		t.FailNow()
	}

	t.Run("scheduled run's events and Security Hub findings", func(t *testing.T) {
		checkFirstRunOutputs(t, firstSum, first, drainEvents(t, queue, queueURL), motoURL, fn.out.String())
	})

	t.Run("rerun writes the same findings", func(t *testing.T) {
		imports := outs.count("BatchImportFindings")
		sum := decodeSummary(t, fn.invoke(t, scheduledEvent()))
		// Nothing changed: the scan's event alone, nothing imported.
		if got := eventKinds(drainEvents(t, queue, queueURL)); !slices.Equal(got, []string{"Scan Finished " + sum.ScanID}) {
			t.Errorf("rerun's events %v; want its Scan Finished alone", got)
		}
		if n := outs.count("BatchImportFindings") - imports; n != 0 || sum.SecurityHub == nil || sum.SecurityHub.Imported != 0 {
			t.Errorf("rerun: %d BatchImportFindings, security_hub %+v; want none (only changes are sent)", n, sum.SecurityHub)
		}
		again := tableFindings(t, store)
		for acct := range wantOpen {
			if got, want := findingIDs(again[acct]), findingIDs(first[acct]); !slices.Equal(got, want) {
				t.Errorf("account %s: findings %v after a second run; want the same %v", acct, got, want)
			}
		}
	})

	t.Run("malformed events write nothing", func(t *testing.T) {
		before := itemCount(t, ddb)
		for _, c := range []struct{ payload, want string }{
			{`{"trigger":"nightly"}`, `trigger "nightly"`},
			{`[1, 2]`, "not a JSON object"},
			{`{"source":"aws.s3","detail-type":"Object Created"}`, `source "aws.s3"`},
			{`{"trigger":"manual","accounts":["12345"]}`, `"12345" is not a 12-digit account ID`},
			{`{"trigger":"manual","dry_run":true,"surprise":1}`, "surprise"},
		} {
			var le lambdaError
			body := fn.invoke(t, c.payload)
			if err := json.Unmarshal(body, &le); err != nil || le.ErrorMessage == "" {
				t.Errorf("invoke %s: response %s; want an error", c.payload, body)
				continue
			}
			if !strings.Contains(le.ErrorMessage, c.want) || strings.Contains(le.ErrorMessage, "\n") {
				t.Errorf("invoke %s: error %q; want one line naming %s", c.payload, le.ErrorMessage, c.want)
			}
		}
		if after := itemCount(t, ddb); after != before {
			t.Errorf("the table has %d items after malformed events; want %d, as before", after, before)
		}
	})

	t.Run("manual dry run writes nothing", func(t *testing.T) {
		before := itemCount(t, ddb)
		sum := decodeSummary(t, fn.invoke(t, `{"trigger":"manual","accounts":["222222222222"],"dry_run":true}`))
		want := map[string]int{}
		for _, id := range wantOpen["222222222222"] {
			want[id]++
		}
		if !maps.Equal(sum.ByRule, want) || sum.Trigger != "manual" {
			t.Errorf("dry run of 222222222222: trigger %q, by_rule %v; want manual, %v", sum.Trigger, sum.ByRule, want)
		}
		if after := itemCount(t, ddb); after != before {
			t.Errorf("the table has %d items after a dry run; want %d, as before", after, before)
		}
		for _, l := range emf.Lines([]byte(fn.out.String())) {
			if strings.Contains(string(l), sum.ScanID) {
				t.Errorf("the dry run printed metrics: %s", l)
			}
		}
	})

	t.Run("deadline", func(t *testing.T) {
		// 4 s to run, 2 s kept to write: discovery takes four 400 ms
		// calls, every account at least three more, app-big five pages.
		short := startFunction(t, rie, bootstrap, env(slow, "4", "2s", false))
		// Not one account could be scanned before the deadline: the
		// invocation fails (the Errors alarm) and its run is recorded.
		var le lambdaError
		if body := short.invoke(t, scheduledEvent()); json.Unmarshal(body, &le) != nil || !strings.Contains(le.ErrorMessage, "not one account in scope could be scanned") {
			t.Fatalf("deadline run: response %s; want the error of a run that scanned no account", body)
		}
		runs, err := store.Runs(ctx, 1)
		if err != nil || len(runs) != 1 || runs[0].FinishedAt.IsZero() {
			t.Fatalf("deadline run: runs %+v (%v); want its finished run record", runs, err)
		}
		sum := summary{ScanID: runs[0].ScanID, AccountsComplete: runs[0].AccountsComplete, AccountsIncomplete: runs[0].AccountsIncomplete}
		if sum.AccountsComplete != 0 || sum.AccountsIncomplete < len(scanned) {
			t.Errorf("deadline run: %d complete, %d incomplete; want 0 complete and at least %d incomplete", sum.AccountsComplete, sum.AccountsIncomplete, len(scanned))
		}
		after := tableFindings(t, store)
		for _, acct := range scanned {
			if !slices.Contains(openRules(after[acct]), "SCAN-004") {
				t.Errorf("account %s cut short by the deadline: no open SCAN-004 (open: %v)", acct, openRules(after[acct]))
			}
		}
		for acct, recs := range first {
			for _, r := range recs {
				now := find(after[acct], r.FindingID)
				if now == nil || now.Status != r.Status {
					t.Errorf("account %s: finding %s (%s) was %s, is %v after an incomplete scan; an incomplete scan resolves nothing",
						acct, r.FindingID, r.RuleID, r.Status, status(now))
				}
			}
		}
		checkEMF(t, short, sum.ScanID, map[string]float64{"AccountsIncomplete": float64(sum.AccountsIncomplete), "AccountsComplete": 0})
	})

	t.Run("complete run resolves SCAN-004", func(t *testing.T) {
		decodeSummary(t, fn.invoke(t, scheduledEvent()))
		after := tableFindings(t, store)
		for acct, want := range wantOpen {
			got := openRules(after[acct])
			if acct == "333333333333" {
				// Its role is unavailable: the account is never scanned
				// completely, so a SCAN-004 the deadline run may have left
				// (AssumeRole cut short) stays open beside SCAN-001.
				got = slices.DeleteFunc(got, func(id string) bool { return id == "SCAN-004" })
			}
			if !slices.Equal(got, want) {
				t.Errorf("account %s: open findings %v after a complete run; want %v (SCAN-004 resolved)", acct, got, want)
			}
		}
		for _, acct := range scanned {
			var resolved bool
			for _, r := range after[acct] {
				resolved = resolved || (r.RuleID == "SCAN-004" && r.Status == rules.StatusResolved)
			}
			if !resolved {
				t.Errorf("account %s: no RESOLVED SCAN-004 after a complete run", acct)
			}
		}
	})

	t.Run("a fixed configuration is resolved in the events and Security Hub", func(t *testing.T) {
		drainEvents(t, queue, queueURL) // the deadline's and the complete run's
		fixConfiguration(t, fast)
		sum := decodeSummary(t, fn.invoke(t, scheduledEvent()))
		fixed := rules.FindingID("222222222222", "app-unencrypted", "plain", "INV-101")
		want := []string{"Finding Resolved INV-101 RESOLVED " + fixed, "Scan Finished " + sum.ScanID}
		if got := eventKinds(drainEvents(t, queue, queueURL)); !slices.Equal(got, want) {
			t.Errorf("events of the run after the fix: %v; want %v", got, want)
		}
		if sum.SecurityHub == nil || *sum.SecurityHub != (hubCounts{Imported: 1}) {
			t.Errorf("security_hub %+v; want the one resolution imported", sum.SecurityHub)
		}
		hub := hubFindings(t, motoURL, "222222222222", "us-east-1")
		if got := hub[fixed]; got != "ARCHIVED/PASSED INV-101" {
			t.Errorf("Security Hub of 222222222222, us-east-1: the fixed finding is %q; want ARCHIVED/PASSED INV-101", got)
		}
		for id, st := range hub {
			if id != fixed && !strings.HasPrefix(st, "ACTIVE/FAILED ") && !strings.HasSuffix(st, " SCAN-004") {
				t.Errorf("Security Hub of 222222222222, us-east-1: finding %s is %s; only the fixed one changed", id, st)
			}
		}
	})

	t.Run("every call is granted", func(t *testing.T) {
		calls := madeCalls{Table: table, AWS: rec.Calls(), Outputs: outs.calls(),
			// Less the test's own change of a configuration.
			Sim: simCalls([]*awssim.Server{fast, slow}, map[string]int{"PutBucketInventoryConfiguration": 1, "AssumeRole": 1})}
		if len(calls.AWS) == 0 || len(calls.Outputs) == 0 {
			t.Fatalf("the recorders saw %d DynamoDB calls, %d EventBridge or Security Hub calls; want some of each", len(calls.AWS), len(calls.Outputs))
		}
		checkGrants(t, root, "ScannerRole", calls)
	})
}

// startSim serves testdata/org.yaml, its reports delivered six hours
// before the test runs: the function scans with the real clock, and a
// report dated after it would not count (INV-114).
func startSim(t *testing.T, opts ...awssim.Option) *awssim.Server {
	t.Helper()
	fx, err := awssim.LoadFixture(filepath.Join("testdata", "org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fresh := time.Now().UTC().Add(-6 * time.Hour)
	for i := range fx.Organization.Accounts {
		for j := range fx.Organization.Accounts[i].Buckets {
			for k := range fx.Organization.Accounts[i].Buckets[j].Reports {
				fx.Organization.Accounts[i].Buckets[j].Reports[k].Last = fresh
			}
		}
	}
	srv, _ := testenv.Sim(t, fx, opts...) // the function, not the test, calls it
	return srv
}

func decodeSummary(t *testing.T, body []byte) summary {
	t.Helper()
	var le lambdaError
	if json.Unmarshal(body, &le) == nil && le.ErrorMessage != "" {
		t.Fatalf("the function failed: %s: %s", le.ErrorType, le.ErrorMessage)
	}
	var s summary
	if err := json.Unmarshal(body, &s); err != nil || s.ScanID == "" {
		t.Fatalf("response %s: want a scan summary (%v)", body, err)
	}
	return s
}

// tableFindings reads every account's findings through report/dynamo.
func tableFindings(t *testing.T, store *dynamo.Store) map[string][]report.Record {
	t.Helper()
	out := map[string][]report.Record{}
	for acct := range wantOpen {
		recs, err := store.Findings(context.Background(), acct)
		if err != nil {
			t.Fatalf("findings of %s: %v", acct, err)
		}
		out[acct] = recs
	}
	return out
}

func openRules(recs []report.Record) []string {
	var out []string
	for _, r := range recs {
		if r.Status == rules.StatusOpen {
			out = append(out, r.RuleID)
		}
	}
	sort.Strings(out)
	return out
}

func findingIDs(recs []report.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.FindingID+"="+string(r.Status))
	}
	sort.Strings(out)
	return out
}

func find(recs []report.Record, id string) *report.Record {
	for i := range recs {
		if recs[i].FindingID == id {
			return &recs[i]
		}
	}
	return nil
}

func status(r *report.Record) any {
	if r == nil {
		return "gone"
	}
	return r.Status
}

func itemCount(t *testing.T, ddb *dynamodb.Client) int32 {
	t.Helper()
	var n int32
	p := dynamodb.NewScanPaginator(ddb, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("count items: %v", err)
		}
		n += page.Count
	}
	return n
}

// e2eNamespace is the function's SCANNER_METRICS_NAMESPACE.
const e2eNamespace = "S3InventoryScanner/e2e"

// checkEMF reads every EMF line the function has printed (emf.Read: the
// specification, the scanner's metrics in their units, the function's
// namespace, no account or bucket dimension), and returns the metrics of
// one run by key; the run must have printed ScansFinished once, and the
// metrics without dimension named in want must have those values.
func checkEMF(t *testing.T, fn *function, scanID string, want map[string]float64) map[string][]emf.Parsed {
	t.Helper()
	docs, errs := emf.Read([]byte(fn.out.String()), e2eNamespace)
	for _, err := range errs {
		t.Error(err)
	}
	got := map[string][]emf.Parsed{}
	for _, doc := range docs {
		if doc.Members["scan_id"] != scanID {
			continue
		}
		for _, p := range doc.Metrics {
			got[p.Metric.Key()] = append(got[p.Metric.Key()], p)
		}
	}
	if n := len(got[emf.ScansFinished.Key()]); n != 1 {
		t.Errorf("scan %s: %d ScansFinished metrics; want 1", scanID, n)
	}
	for key, w := range want {
		if ps := got[key]; len(ps) != 1 || ps[0].Value != w {
			t.Errorf("scan %s: %s = %+v; want one value %v", scanID, key, ps, w)
		}
	}
	return got
}

// s3Actions are the IAM actions of the S3 operations.
var s3Actions = map[string]string{
	"ListBuckets":                       "s3:ListAllMyBuckets",
	"ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
	"GetBucketInventoryConfiguration":   "s3:GetInventoryConfiguration",
	"GetBucketLocation":                 "s3:GetBucketLocation",
	"HeadBucket":                        "s3:ListBucket",
	"GetBucketPolicy":                   "s3:GetBucketPolicy",
	"ListObjectsV2":                     "s3:ListBucket",
}

// sqsActions are the IAM actions of the SQS operations.
var sqsActions = map[string]string{
	"SendMessage":                  "sqs:SendMessage",
	"SendMessageBatch":             "sqs:SendMessage",
	"ReceiveMessage":               "sqs:ReceiveMessage",
	"DeleteMessage":                "sqs:DeleteMessage",
	"DeleteMessageBatch":           "sqs:DeleteMessage",
	"ChangeMessageVisibility":      "sqs:ChangeMessageVisibility",
	"ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"GetQueueAttributes":           "sqs:GetQueueAttributes",
}

// madeCalls are the AWS calls of the functions that run as one role, for
// checkGrants.
type madeCalls struct {
	Table   string         // the one table they may name
	Queue   string         // the one queue they may name ("" for none)
	AWS     []awsCall      // DynamoDB and SQS, as recorders saw them
	Sim     map[string]int // what the simulated organization received, by operation, less the test's own calls
	Outputs []outputCall   // EventBridge and Security Hub
}

// checkGrants checks that every call the functions running as roleID (a
// role of template.yaml: ScannerRole, WorkerRole) made is allowed by the
// templates: DynamoDB, SQS, Organizations, STS and EventBridge by that
// role, S3, KMS and Security Hub by member-role.yaml's MemberRole; and,
// when they assumed the member role, that MemberRole trusts roleID: its
// trust policy names the parameter that template.yaml's output of
// roleID's ARN fills (ScannerRoleArn, WorkerRoleArn).
func checkGrants(t *testing.T, root, roleID string, made madeCalls) {
	t.Helper()
	scanner, err := deploy.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	member, err := deploy.Load(filepath.Join(root, "member-role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	_, fnRole, err := scanner.Resource(roleID)
	if err != nil {
		t.Fatal(err)
	}
	_, memberRole, err := member.Resource("MemberRole")
	if err != nil {
		t.Fatal(err)
	}
	roleGrants, indexGranted := map[string]bool{}, false
	collectActions(fnRole["Policies"], roleGrants, &indexGranted)
	if len(roleGrants) == 0 {
		t.Fatalf("template.yaml: %s grants nothing", roleID)
	}
	memberGrants := map[string]bool{}
	collectActions(memberRole["Policies"], memberGrants, new(bool))

	// Each distinct call once (a grant missing is one error, not one a
	// request).
	distinct := slices.Clone(made.AWS)
	slices.SortFunc(distinct, func(a, b awsCall) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
	for _, c := range slices.Compact(distinct) {
		switch c.Service {
		case "dynamodb":
			if !roleGrants["dynamodb:"+c.Op] {
				t.Errorf("%s called dynamodb:%s on %s, which template.yaml does not grant it", roleID, c.Op, c.Table)
			}
			if c.Table != made.Table {
				t.Errorf("%s called dynamodb:%s on table %q; want only %s", roleID, c.Op, c.Table, made.Table)
			}
			if c.Index != "" && !indexGranted {
				t.Errorf("%s queried index %s, and template.yaml grants it the table only", roleID, c.Index)
			}
		case "sqs":
			if a := sqsActions[c.Op]; a == "" || !roleGrants[a] {
				t.Errorf("%s called SQS %s (%q), which template.yaml does not grant it", roleID, c.Op, a)
			}
			if made.Queue == "" || c.Queue != made.Queue {
				t.Errorf("%s called SQS %s on queue %q; want only %q", roleID, c.Op, c.Queue, made.Queue)
			}
		default:
			t.Errorf("%s called %s %s, which template.yaml does not grant it", roleID, c.Service, c.Op)
		}
	}
	for _, c := range made.Outputs {
		switch {
		case c.Service == "events" && c.Op == "PutEvents":
			if !roleGrants["events:PutEvents"] || c.Account != "111111111111" {
				t.Errorf("%s called events:PutEvents as %s; template.yaml grants it to the function's role (%v), in its account", roleID, c.Account, roleGrants["events:PutEvents"])
			}
		case c.Service == "securityhub" && c.Op == "BatchImportFindings":
			if !memberGrants["securityhub:BatchImportFindings"] {
				t.Errorf("%s called securityhub:BatchImportFindings as %s, which member-role.yaml does not grant", roleID, c.Account)
			}
		default:
			t.Errorf("%s called %s %s as %s, which neither template grants", roleID, c.Service, c.Op, c.Account)
		}
	}
	for op, n := range made.Sim {
		if n <= 0 {
			continue
		}
		switch {
		case op == "GetCallerIdentity":
			// Needs no permission: IAM cannot deny it.
		case op == "AssumeRole":
			if !roleGrants["sts:AssumeRole"] {
				t.Errorf("%s called sts:AssumeRole, which template.yaml does not grant it", roleID)
			}
			checkTrusted(t, scanner, memberRole, roleID)
		case s3Actions[op] != "":
			if !memberGrants[s3Actions[op]] {
				t.Errorf("%s called S3 %s (%s), which member-role.yaml does not grant", roleID, op, s3Actions[op])
			}
		case op == "DescribeKey" || op == "GetKeyPolicy":
			if !memberGrants["kms:"+op] {
				t.Errorf("%s called kms:%s, which member-role.yaml does not grant", roleID, op)
			}
		case slices.Contains([]string{"DescribeOrganization", "ListAccounts", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent"}, op):
			if !roleGrants["organizations:"+op] {
				t.Errorf("%s called organizations:%s, which template.yaml does not grant it", roleID, op)
			}
		default:
			t.Errorf("%s called %s, which neither template grants", roleID, op)
		}
	}
}

// checkTrusted checks that member-role.yaml's MemberRole trusts roleID:
// template.yaml outputs roleID's ARN, and the member role's trust policy
// names the parameter of the output's name.
func checkTrusted(t *testing.T, scanner *deploy.Template, memberRole map[string]any, roleID string) {
	t.Helper()
	output := ""
	outputs, _ := scanner.Raw["Outputs"].(map[string]any)
	for name, o := range outputs {
		o, _ := o.(map[string]any)
		if v, _ := o["Value"].(map[string]any); getAtt(v) == roleID+".Arn" {
			output = name
		}
	}
	if output == "" {
		t.Errorf("template.yaml outputs no ARN of %s, for member-role.yaml to trust", roleID)
		return
	}
	trust, _ := memberRole["AssumeRolePolicyDocument"].(map[string]any)
	if !refers(trust["Statement"], output) {
		t.Errorf("%s assumed the member role, and member-role.yaml's trust policy does not name %s (template.yaml's output of its ARN)", roleID, output)
	}
}

// getAtt returns X.Attr of a raw {"Fn::GetAtt": ...}, either form.
func getAtt(v map[string]any) string {
	switch a := v["Fn::GetAtt"].(type) {
	case string:
		return a
	case []any:
		if len(a) == 2 {
			return fmt.Sprintf("%v.%v", a[0], a[1])
		}
	}
	return ""
}

// refers reports whether v holds a {"Ref": name}, at any depth.
func refers(v any, name string) bool {
	switch v := v.(type) {
	case []any:
		return slices.ContainsFunc(v, func(e any) bool { return refers(e, name) })
	case map[string]any:
		if v["Ref"] == name {
			return true
		}
		for _, e := range v {
			if refers(e, name) {
				return true
			}
		}
	}
	return false
}

// simCalls returns the calls the simulators received, by operation, less
// the test's own.
func simCalls(sims []*awssim.Server, own map[string]int) map[string]int {
	calls := map[string]int{}
	for _, s := range sims {
		for op, n := range s.AllCalls() {
			calls[op] += n
		}
	}
	for op, n := range own {
		calls[op] -= n
	}
	return calls
}

// collectActions adds every Action found in v (a raw Policies list, Fn::If
// branches included) to into, and notes whether a DynamoDB statement names
// an index.
func collectActions(v any, into map[string]bool, index *bool) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			collectActions(e, into, index)
		}
	case map[string]any:
		if a, ok := v["Action"]; ok {
			var actions []string
			switch a := a.(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, e := range a {
					actions = append(actions, fmt.Sprint(e))
				}
			}
			for _, x := range actions {
				into[x] = true
				if strings.HasPrefix(x, "dynamodb:") && strings.Contains(fmt.Sprint(v["Resource"]), "/index/") {
					*index = true
				}
			}
		}
		for _, e := range v {
			collectActions(e, into, index)
		}
	}
}
