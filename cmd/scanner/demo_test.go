//go:build !lambda

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// isolateAWSEnv makes the test restore every variable the demo sets.
func isolateAWSEnv(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_DYNAMODB", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		t.Setenv(k, "")
	}
}

// TestDemoWritesTheTable runs `scanner demo` into dynalite, as `make demo`
// does, and checks its summary against the demo organization's known
// counts and the table against the summary.
func TestDemoWritesTheTable(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	isolateAWSEnv(t)
	ctx := context.Background()

	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"demo", "-endpoint", endpoint, "-json"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("scanner demo: exit %d: %s", code, stderr.String())
	}
	var sum report.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, stdout.String())
	}
	want, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	if sum.AccountsComplete != want.AccountsComplete || sum.AccountsFailed != want.AccountsFailed ||
		sum.Buckets != want.Buckets || sum.Configs != want.Configs || sum.Waived != want.Waived || !maps.Equal(sum.ByRule, want.ByRule) {
		t.Errorf("demo summary: %d complete, %d failed, %d buckets, %d configs, %d waived, %v\nwant %s",
			sum.AccountsComplete, sum.AccountsFailed, sum.Buckets, sum.Configs, sum.Waived, sum.ByRule, want)
	}

	store, err := dynamo.New(testenv.DynamoClient(endpoint), demoTable, report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	critical, err := store.OpenBySeverity(ctx, rules.SeverityCritical, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(critical) != sum.BySeverity["CRITICAL"] {
		t.Errorf("table: %d open CRITICAL findings; the summary says %d", len(critical), sum.BySeverity["CRITICAL"])
	}
	runs, err := store.Runs(ctx, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ScanID != sum.ScanID || runs[0].Buckets != want.Buckets {
		t.Errorf("table runs: %+v; want the demo's run %s with %d buckets", runs, sum.ScanID, want.Buckets)
	}
	scans, err := store.AccountScans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != want.AccountsComplete {
		t.Errorf("table: %d accounts with a complete scan; want %d", len(scans), want.AccountsComplete)
	}
}

// TestDemoDashboard runs the demo with nothing but the binary and checks
// what a person reads.
func TestDemoDashboard(t *testing.T) {
	isolateAWSEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"demo"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("scanner demo: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	want, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"25 accounts scanned: 23 complete, 2 failed, 0 incomplete",
		"not authorized to perform: sts:AssumeRole on resource: …role/S3InventoryScannerMember",
		"300, with 417 inventory configurations",
		"INV-104   destination-account-not-approved    20        CRITICAL",
		"legacy-migration  ROLE_UNAVAILABLE",
		"hackathon         BUCKETS_UNLISTED",
		"scanner demo --dynalite --keep",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("dashboard lacks %q:\n%s", s, out)
		}
	}
	if want.Buckets != 300 || want.Configs != 417 {
		t.Errorf("the demo organization changed (%s): update the dashboard's expected lines", want)
	}
	if strings.Contains(out, "Plan: ") || strings.Contains(out, "+ create ") {
		t.Errorf("the dashboard has a plan in it; only --plan prints one:\n%s", out)
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour escapes in output that is not a terminal")
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
}

func TestDemoRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"demo", "-dynalite", "-endpoint", "http://127.0.0.1:1"},
		{"demo", "-findings", "xml"},
		{"demo", "-nope"},
		{"demo", "-plan", "-json"},
		{"demo", "-plan", "-dynalite"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
		if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "scanner demo: ") {
			t.Errorf("%v: stderr %q; want one line", args, msg)
		}
	}
}

// TestKeptScanCommand: what `demo --keep` prints scans the kept simulated
// organization: its endpoint and management credentials, the member role
// and its ExternalId, the demo's policy (written to a file), the table.
func TestKeptScanCommand(t *testing.T) {
	sim, _ := testenv.Sim(t, demo.Organization())
	k, err := keptScanCommand(sim, "findings", "http://127.0.0.1:8000", "version: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(k.policyFile)
	id, secret := sim.ManagementCredentials()
	cmd := strings.Join(k.lines, "\n")
	for _, want := range []string{"AWS_ENDPOINT_URL=" + sim.URL(), "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000", "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + id, "AWS_SECRET_ACCESS_KEY=" + secret, "scanner scan", "--role-name " + demo.RoleName,
		"--external-id " + demo.ExternalID, "--policy " + k.policyFile, "--table findings"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("kept scan command lacks %q:\n%s", want, cmd)
		}
	}
	if b, err := os.ReadFile(k.policyFile); err != nil || string(b) != "version: 1\n" {
		t.Errorf("policy file: %q, %v; want the demo's policy", b, err)
	}
	// The AWS CLI v1 reads AWS_DEFAULT_REGION, not AWS_REGION.
	if qs := demoQueries("findings", "http://127.0.0.1:8000", true); !strings.Contains(qs[0], "AWS_DEFAULT_REGION=us-east-1") {
		t.Errorf("query environment %q lacks AWS_DEFAULT_REGION", qs[0])
	}
}

// TestDemoPlan: `scanner demo --plan` prints the plan of the demo's
// remediation section: creates, in-place updates, bucket and key policy
// merges and manual items, no disable (the demo reports unapproved
// destinations), each counted in the total line, every created
// configuration delivering to the security account's bucket and key of
// its Region.
func TestDemoPlan(t *testing.T) {
	isolateAWSEnv(t)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"demo", "--plan"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("scanner demo --plan: exit %d: %s", code, stderr.String())
	}
	out := stdout.String()
	m := regexp.MustCompile(`(?m)^Plan: (\d+) to create, (\d+) to update, (\d+) to disable, (\d+) bucket policies and (\d+) key policies to merge; (\d+) manual; \d+ findings not opted in\.$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no total line:\n%s", out)
	}
	kinds := []string{"+ create", "~ update", "- disable", "~ bucket-policy", "~ key-policy"}
	for i, kind := range kinds {
		got := strings.Count(out, "\n  "+kind+" ")
		if want, _ := strconv.Atoi(m[i+1]); got != want {
			t.Errorf("%d %q changes listed; the total says %d", got, kind, want)
		}
		if kind != "- disable" && got == 0 {
			t.Errorf("the demo's plan has no %q change", kind)
		}
	}
	if m[3] != "0" {
		t.Errorf("the demo's plan disables %s configurations; its policy reports unapproved destinations", m[3])
	}
	if n, _ := strconv.Atoi(m[6]); n == 0 || !strings.Contains(out, "\nManual ("+m[6]+"): ") {
		t.Errorf("the demo's plan lists %s manual items; want some, under their heading", m[6])
	}
	if !strings.Contains(out, "INV-104: the configuration delivers to an unapproved destination and remediation.unapproved_destinations is report") {
		t.Errorf("the demo's plan does not list its unapproved destinations as manual:\n%s", out)
	}
	for _, block := range strings.Split(out, "\n  + create ")[1:] {
		region := regexp.MustCompile(`^\s*\S+ \((\S+)\)`).FindStringSubmatch(block)
		if region == nil {
			t.Fatalf("create without a Region: %.200s", block)
		}
		for _, want := range []string{`Destination.AccountId: "` + demo.Security + `"`,
			`Destination.Bucket: "arn:aws:s3:::acme-inventory-` + region[1] + `"`,
			`Destination.Encryption.KeyId: "` + demo.KeyARN(region[1]) + `"`} {
			if !strings.Contains(block, want) {
				t.Errorf("create %.60s lacks %s", block, want)
			}
		}
	}
	if strings.Contains(out, "accounts scanned") {
		t.Errorf("--plan printed the dashboard too:\n%s", out)
	}
}
