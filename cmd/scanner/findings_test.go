//go:build !lambda

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

func TestFindingsUsageErrors(t *testing.T) {
	t.Setenv("SCANNER_TABLE", "")
	cases := map[string][]string{
		"no query":             {"-table", "findings"},
		"two queries":          {"-table", "findings", "-rule", "INV-101", "-scans"},
		"bucket without acct":  {"-table", "findings", "-bucket", "logs"},
		"bad severity":         {"-table", "findings", "-severity", "urgent"},
		"bad format":           {"-table", "findings", "-scans", "-format", "xml"},
		"ocsf of scans":        {"-table", "findings", "-scans", "-format", "ocsf"},
		"no table":             {"-scans"},
		"negative limit":       {"-table", "findings", "-scans", "-limit", "-1"},
		"unknown flag":         {"-table", "findings", "-colour"},
		"positional argument":  {"-table", "findings", "-scans", "extra"},
		"table name too short": {"-table", "ab", "-scans"},
		"unknown rule":         {"-table", "findings", "--rule", "INV-999"},
		"short account ID":     {"-table", "findings", "--account", "12345"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := runFindings(context.Background(), args, &stdout, &stderr); code != exitUsage {
				t.Errorf("runFindings(%q) = %d; want %d (stderr %q)", args, code, exitUsage, stderr.String())
			}
			msg := stderr.String()
			if !strings.HasPrefix(msg, "scanner findings: ") || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr = %q; want one line starting with \"scanner findings: \"", msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q; want nothing", stdout.String())
			}
		})
	}
}

func TestFindingsHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := runFindings(context.Background(), []string{"-h"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("-h = %d; want %d", code, exitOK)
	}
	if !strings.Contains(stderr.String(), "-accounts-scanned") {
		t.Errorf("usage does not list -accounts-scanned:\n%s", stderr.String())
	}
}

// TestFindingsQueries fills a table in dynalite with two scans and asks
// each question through the command line.
func TestFindingsQueries(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_PROFILE": "",
		"AWS_ENDPOINT_URL": "", "SCANNER_TABLE": "cli-findings",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	store, err := dynamo.New(testenv.DynamoClient(endpoint), "cli-findings", report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		t.Fatal(err)
	}
	acct := sinktest.AccountA
	kms := sinktest.Spec{Bucket: "data", Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh}
	crit := sinktest.Spec{Bucket: "data", Config: "daily", Rule: "INV-104", Severity: rules.SeverityCritical}
	t0, t1 := sinktest.T0, sinktest.T0.Add(24*time.Hour)
	scan := func(id string, at time.Time, specs ...sinktest.Spec) {
		t.Helper()
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(store.Begin(ctx, report.Run{ScanID: id, Trigger: "cli", StartedAt: at}))
		var fs []rules.Finding
		for _, s := range specs {
			fs = append(fs, sinktest.NewFinding(acct, s, id, at))
		}
		must(store.Put(ctx, fs))
		must(store.AccountDone(ctx, id, inventory.AccountResult{Account: inventory.Account{ID: acct},
			Status: inventory.AccountComplete, StartedAt: at, FinishedAt: at.Add(time.Minute), Buckets: 1, Configs: 1}))
		must(store.End(ctx, report.Run{ScanID: id, Trigger: "cli", StartedAt: at, FinishedAt: at.Add(2 * time.Minute), AccountsComplete: 1}))
	}
	scan("scan-1", t0, kms, crit)
	scan("scan-2", t1, kms) // INV-104 resolved

	run := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := runFindings(ctx, args, &stdout, &stderr); code != exitOK {
			t.Fatalf("runFindings(%q) = %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	jsonRecords := func(out string) []report.Record {
		t.Helper()
		var rs []report.Record
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var r report.Record
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("JSON line %q: %v", sc.Text(), err)
			}
			rs = append(rs, r)
		}
		return rs
	}

	if rs := jsonRecords(run("-account", acct, "-format", "json")); len(rs) != 1 || rs[0].RuleID != "INV-101" {
		t.Errorf("-account: %+v; want the open INV-101 only", rs)
	}
	if rs := jsonRecords(run("-rule", "INV-101", "-format", "json")); len(rs) != 1 || rs[0].AccountID != acct {
		t.Errorf("-rule INV-101: %+v; want one finding of %s", rs, acct)
	}
	// An index does not carry what changes every scan: the answer leaves
	// those fields out rather than printing them empty or zero.
	for _, args := range [][]string{{"-rule", "INV-101", "-format", "json"}, {"-severity", "HIGH", "-format", "json"}} {
		out := run(args...)
		for _, absent := range []string{`"scan_id":""`, `"last_seen"`, `"observed_at"`, "0001-01-01"} {
			if strings.Contains(out, absent) {
				t.Errorf("%v: %s in %s; want fields the query does not return left out", args, absent, out)
			}
		}
	}
	if rs := jsonRecords(run("-severity", "critical", "-format", "json")); len(rs) != 0 {
		t.Errorf("-severity critical: %+v; want none (resolved)", rs)
	}
	rs := jsonRecords(run("-account", acct, "-bucket", "data", "-format", "json"))
	if len(rs) != 2 {
		t.Fatalf("-bucket data: %d records; want 2", len(rs))
	}
	statuses := map[string]rules.Status{}
	for _, r := range rs {
		statuses[r.RuleID] = r.Status
	}
	if statuses["INV-101"] != rules.StatusOpen || statuses["INV-104"] != rules.StatusResolved {
		t.Errorf("-bucket data statuses %v; want INV-101 OPEN, INV-104 RESOLVED", statuses)
	}

	// OCSF: the bucket's history as Compliance Findings, the resolved one
	// a Close that passes.
	var ocsf []report.OCSFFinding
	sc := bufio.NewScanner(strings.NewReader(run("-account", acct, "-bucket", "data", "-format", "ocsf")))
	for sc.Scan() {
		var e report.OCSFFinding
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("OCSF line %q: %v", sc.Text(), err)
		}
		ocsf = append(ocsf, e)
	}
	byRule := map[string]report.OCSFFinding{}
	for _, e := range ocsf {
		if e.ClassUID != report.OCSFClassUID || e.Metadata.Version != report.OCSFVersion {
			t.Errorf("OCSF finding of class %d, version %q; want %d, %s", e.ClassUID, e.Metadata.Version, report.OCSFClassUID, report.OCSFVersion)
		}
		byRule[e.Compliance.Control] = e
	}
	if len(ocsf) != 2 || byRule["INV-104"].ActivityID != report.OCSFActivityClose || byRule["INV-104"].Compliance.Status != "Pass" ||
		byRule["INV-101"].Compliance.Status != "Fail" {
		t.Errorf("-bucket data -format ocsf: %+v; want INV-101 failing and INV-104 closed, passing", ocsf)
	}

	out := run("-scans")
	if i, j := strings.Index(out, "scan-2"), strings.Index(out, "scan-1"); i < 0 || j < 0 || i > j {
		t.Errorf("-scans output lists scan-2 then scan-1? got:\n%s", out)
	}
	if out := run("-scans", "-limit", "1"); strings.Contains(out, "scan-1") || !strings.Contains(out, "scan-2") {
		t.Errorf("-scans -limit 1:\n%s\nwant scan-2 only", out)
	}
	if out := run("-accounts-scanned"); !strings.Contains(out, acct) || !strings.Contains(out, "scan-2") {
		t.Errorf("-accounts-scanned:\n%s\nwant %s last scanned by scan-2", out, acct)
	}
	if out := run("-severity", "HIGH"); !strings.HasPrefix(out, "SEVERITY") || !strings.Contains(out, "INV-101") {
		t.Errorf("-severity HIGH table:\n%s", out)
	}
	if out := run("-rule", "INV-109"); strings.TrimSpace(out) != "No findings." {
		t.Errorf("-rule INV-109 = %q; want \"No findings.\"", out)
	}
	// A table leaves out columns the answer does not fill.
	if out := run("-severity", "HIGH"); strings.Contains(out, "LAST SEEN") || !strings.Contains(out, "FIRST SEEN") {
		t.Errorf("-severity HIGH table:\n%s\nwant FIRST SEEN and no LAST SEEN column", out)
	}

	var stdout, stderr bytes.Buffer
	if code := runFindings(ctx, []string{"-table", "missing-table", "-scans"}, &stdout, &stderr); code != exitError {
		t.Errorf("query of a missing table = %d; want %d", code, exitError)
	}
	if msg := stderr.String(); !strings.Contains(msg, "missing-table") || strings.Count(msg, "\n") != 1 {
		t.Errorf("stderr = %q; want one line naming the table", msg)
	}
}
