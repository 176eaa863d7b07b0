//go:build !lambda

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// simulate points the SDK's standard configuration at a simulated
// organization loaded from the golden fixture, as a user's environment
// would point it at AWS.
func simulate(t *testing.T, opts ...awssim.Option) *awssim.Server {
	t.Helper()
	isolateAWSEnv(t)
	fx, err := awssim.LoadFixture("../../internal/app/pipeline/testdata/golden-org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := testenv.Sim(t, fx, opts...)
	id, secret := srv.ManagementCredentials()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": id, "AWS_SECRET_ACCESS_KEY": secret,
		"AWS_ENDPOINT_URL": srv.URL(), "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"SCANNER_ROLE_NAME": "S3InventoryScannerMember", "SCANNER_EXTERNAL_ID": "golden-external-id",
	} {
		t.Setenv(k, v)
	}
	return srv
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func TestScanPrintsFindingsAsJSONLines(t *testing.T) {
	simulate(t)
	code, out, errOut := runCLI("scan", "-accounts", "222222222222,333333333333", "-policy", "../../internal/app/pipeline/testdata/golden-policy.yaml")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		var f rules.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("not a JSON finding: %q: %v", l, err)
		}
		if f.FindingID == "" || f.ScanID == "" || f.ObservedAt.IsZero() {
			t.Errorf("finding lacks identity: %s", l)
		}
		seen[f.RuleID] = true
	}
	// A static list: INV-104 applies only with the policy's approved list.
	for _, id := range []string{"INV-001", "INV-101", "INV-104", "SCAN-001", "SCAN-003"} {
		if !seen[id] {
			t.Errorf("no %s finding in %d lines", id, len(lines))
		}
	}
	if !strings.Contains(errOut, "2 accounts (1 complete, 1 failed, 0 incomplete)") {
		t.Errorf("stderr lacks the run's one-line summary: %q", errOut)
	}
}

func TestScanFailOnGatesOnOpenFindings(t *testing.T) {
	simulate(t)
	code, _, errOut := runCLI("scan", "-accounts", "222222222222", "-format", "table", "-fail-on", "critical",
		"-policy", "../../internal/app/pipeline/testdata/golden-policy.yaml")
	if code != exitFindings || !strings.Contains(errOut, "1 open finding at or above CRITICAL") {
		t.Errorf("exit %d, stderr %q; want %d and the count", code, errOut, exitFindings)
	}
	// The management account's buckets pass everything. Its reports
	// were delivered on the golden scan's date, so INV-114 is off.
	golden, err := os.ReadFile("../../internal/app/pipeline/testdata/golden-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policy := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(policy, []byte(strings.Replace(string(golden), "rules:\n", "rules:\n  INV-114: {enabled: false}\n", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("scan", "-accounts", "111111111111", "-format", "table", "-fail-on", "LOW", "-policy", policy)
	if code != exitOK || strings.TrimSpace(out) != "No findings." {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and no findings", code, out, errOut)
	}
}

func TestScanOrganizationWithOUFilter(t *testing.T) {
	srv := simulate(t)
	code, out, errOut := runCLI("scan", "-org", "-include-ous", "ou-gold-sandbox1", "-format", "csv")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Three sandbox accounts: one role missing, one unlisted, one fine.
	if !strings.Contains(errOut, "3 accounts (1 complete, 2 failed, 0 incomplete)") {
		t.Errorf("stderr: %q", errOut)
	}
	if !strings.HasPrefix(out, "finding_id,") || !strings.Contains(out, "SCAN-001") || !strings.Contains(out, "SCAN-002") {
		t.Errorf("csv output:\n%s", out)
	}
	if n := srv.Calls("GetBucketLocation"); n != 0 {
		t.Errorf("%d GetBucketLocation calls; want 0", n)
	}
}

func TestScanFormatOCSF(t *testing.T) {
	simulate(t)
	code, out, errOut := runCLI("scan", "-org", "-include-ous", "ou-gold-sandbox1", "-format", "ocsf")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	rulesSeen := map[string]bool{}
	for _, l := range lines {
		var e report.OCSFFinding
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("OCSF line %q: %v", l, err)
		}
		if e.ClassUID != 2003 || e.Metadata.Version != report.OCSFVersion || e.FindingInfo.UID == "" || e.Cloud.Account.UID == "" {
			t.Errorf("OCSF line %s: want a Compliance Finding of schema %s with its finding and account", l, report.OCSFVersion)
		}
		rulesSeen[e.Compliance.Control] = true
	}
	if !rulesSeen["SCAN-001"] || !rulesSeen["SCAN-002"] {
		t.Errorf("OCSF output has rules %v; want SCAN-001 and SCAN-002 among them:\n%s", rulesSeen, out)
	}
}

// TestBadInputIsOneLineAndExit2 checks that every bad input is named in a
// one-line message, with exit code 2, before anything is scanned.
func TestBadInputIsOneLineAndExit2(t *testing.T) {
	srv := simulate(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "-accounts", "12345"}, `"12345"`},
		{[]string{"scan", "-role-name", "bad role!"}, "bad role!"},
		{[]string{"scan", "--role-name", "{account_id}"}, `--role-name: role name "{account_id}": {account_id} alone is every role`},
		{[]string{"scan", "-external-id", "x"}, "--external-id: external ID"},
		{[]string{"scan", "-session-name", "a"}, "--session-name"},
		{[]string{"scan", "-account-concurrency", "0"}, "--account-concurrency 0: want 1 to 256"},
		{[]string{"scan", "--accounts", "12345"}, "--accounts: "},
		{[]string{"scan", "--accounts", "111111111111", "--org"}, "--accounts and --org"},
		{[]string{"scan", "--include-ous", "ou-ab12-cdefgh12", "--accounts", "111111111111"}, "--include-ous/SCANNER_EXCLUDE_OUS need --accounts"},
		{[]string{"version", "stray"}, `"stray"`},
		{[]string{"scan", "-nope"}, "-nope"},
		{[]string{"scan", "-format", "xml"}, `"xml"`},
		{[]string{"scan", "-fail-on", "urgent"}, "urgent"},
		{[]string{"scan", "-include-ous", "engineering"}, "engineering"},
		{[]string{"scan", "-policy", "testdata/missing.yaml"}, "testdata/missing.yaml"},
		{[]string{"scan", "stray"}, `"stray"`},
		{[]string{"rules", "-format", "xml"}, `"xml"`},
		{[]string{"frobnicate"}, `"frobnicate"`},
	} {
		code, _, errOut := runCLI(tc.args...)
		if code != exitUsage || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and one line naming %s", tc.args, code, errOut, exitUsage, tc.want)
		}
	}
	if n := srv.Calls("AssumeRole") + srv.Calls("ListAccounts"); n != 0 {
		t.Errorf("%d AWS calls for bad input; want none", n)
	}
}

// TestVersion: `scanner version` prints the version, `-h` its help.
func TestVersion(t *testing.T) {
	if code, out, _ := runCLI("version"); code != exitOK || !strings.HasPrefix(out, "scanner ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	if code, _, errOut := runCLI("version", "-h"); code != exitOK || !strings.Contains(errOut, "Usage: scanner version") {
		t.Errorf("version -h: exit %d, stderr %q; want its usage", code, errOut)
	}
}

func TestRulesListsTheCatalogue(t *testing.T) {
	code, out, _ := runCLI("rules")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, r := range rules.All() {
		if !strings.Contains(out, r.ID+"  ") || !strings.Contains(out, r.Name) {
			t.Errorf("rules table lacks %s %s", r.ID, r.Name)
		}
	}
	code, out, _ = runCLI("rules", "-format", "json")
	var got []rules.Rule
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || len(got) != len(rules.All()) {
		t.Errorf("rules -format json: exit %d, %d rules, %v", code, len(got), err)
	}
}

func TestScanWarnsOfExpiredWaivers(t *testing.T) {
	simulate(t)
	policy := t.TempDir() + "/policy.yaml"
	doc := "version: 1\nwaivers:\n  - {rule: INV-101, account: \"222222222222\", bucket: \"legacy-*\", reason: old, expires: 2020-01-31}\n"
	if err := os.WriteFile(policy, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI("scan", "-accounts", "111111111111", "-policy", policy)
	if code != exitOK || !strings.Contains(errOut, "waiver of INV-101 for account 222222222222") || !strings.Contains(errOut, "expired on 2020-01-31") {
		t.Errorf("exit %d, stderr %q; want a warning about the expired waiver", code, errOut)
	}
}

// TestExitCodes: 1 when not one account in scope could be scanned, 2 for
// configuration (a missing region included), 0 when some accounts were
// scanned and others are coverage findings.
func TestExitCodes(t *testing.T) {
	simulate(t)
	policy := "../../internal/app/pipeline/testdata/golden-policy.yaml"
	code, _, errOut := runCLI("scan", "--accounts", "222222222222,333333333333", "--external-id", "wrong-external-id", "--policy", policy)
	if code != exitError || !strings.Contains(errOut, "not one account in scope could be scanned (2 in scope; account 222222222222: ROLE_UNAVAILABLE") {
		t.Errorf("every role denied: exit %d, stderr %q; want %d naming the first account", code, errOut, exitError)
	}
	code, out, errOut := runCLI("scan", "--accounts", "222222222222,999999999999", "--policy", policy)
	if code != exitOK || !strings.Contains(out, `"rule_id":"SCAN-001"`) {
		t.Errorf("one role missing: exit %d, stderr %q; want 0 and a coverage finding", code, errOut)
	}
	t.Setenv("AWS_REGION", "")
	code, _, errOut = runCLI("scan", "--accounts", "222222222222")
	if code != exitUsage || !strings.Contains(errOut, "AWS region") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("no region: exit %d, stderr %q; want %d and one line", code, errOut, exitUsage)
	}
}

// TestInterruptWritesWhatWasRead interrupts a scan (SIGTERM cancels the
// command line's context) while it reads configurations: the run fails
// (exit 1), the findings it read and the SCAN-004 of the accounts cut
// short are written, the run record too, and no finding of the earlier
// complete scan is resolved.
func TestInterruptWritesWhatWasRead(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	srv := simulate(t, awssim.WithLatency(20*time.Millisecond, 0))
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	const table = "interrupted"
	ctx := context.Background()
	store, err := dynamo.New(testenv.DynamoClient(endpoint), table, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	args := []string{"scan", "--accounts", "222222222222,333333333333", "--table", table,
		"--policy", "../../internal/app/pipeline/testdata/golden-policy.yaml", "--account-concurrency", "1", "--bucket-concurrency", "1"}
	if code, _, errOut := runCLI(args...); code != exitOK {
		t.Fatalf("first scan: exit %d: %s", code, errOut)
	}
	before, err := store.OpenByAccount(ctx, "222222222222")
	if err != nil || len(before) == 0 {
		t.Fatalf("first scan: %d open findings, %v", len(before), err)
	}

	// Interrupt the second scan after a few configuration reads.
	stop, cancel := context.WithCancel(ctx)
	defer cancel()
	reads := srv.Calls("ListBucketInventoryConfigurations")
	go func() {
		for srv.Calls("ListBucketInventoryConfigurations") < reads+3 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	var o, e bytes.Buffer
	code := run(stop, args, &o, &e)
	if code != exitError || !strings.Contains(e.String(), "interrupted") {
		t.Fatalf("interrupted scan: exit %d, stderr %q; want %d and why", code, e.String(), exitError)
	}
	after, err := store.OpenByAccount(ctx, "222222222222")
	if err != nil {
		t.Fatal(err)
	}
	var cutShort bool
	for _, r := range after {
		cutShort = cutShort || r.Status == rules.StatusOpen && r.Bucket == "" && r.ScanID != before[0].ScanID
	}
	open := map[string]bool{}
	for _, r := range after {
		open[r.FindingID] = true
	}
	for _, r := range before {
		if !open[r.FindingID] {
			t.Errorf("finding %s (%s %s) resolved by an interrupted scan", r.FindingID, r.RuleID, r.Bucket)
		}
	}
	if !cutShort {
		t.Errorf("no account-level finding of the interrupted scan for 222222222222; want its SCAN-004")
	}
	runs, err := store.Runs(ctx, 5)
	if err != nil || len(runs) != 2 {
		t.Errorf("%d runs recorded, %v; want both, the interrupted one too", len(runs), err)
	}
}
