package emf

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// forbidden are dimension names that would make a metric per account or
// bucket.
var forbidden = regexp.MustCompile(`(?i)account|bucket|config|region|scan_?id`)

func TestDefinitions(t *testing.T) {
	keys := map[string]bool{}
	for _, d := range Definitions() {
		if keys[d.Key()] {
			t.Errorf("%s defined twice", d.Key())
		}
		keys[d.Key()] = true
		if !d.Unit.Valid() || len(d.Dimensions) > MaxDimensions || d.Doc == "" {
			t.Errorf("%s: unit %q, %d dimensions, doc %q", d.Key(), d.Unit, len(d.Dimensions), d.Doc)
		}
		if !slices.Contains([]string{EveryRun, WholeScope, Refusals}, d.When) {
			t.Errorf("%s: When %q", d.Key(), d.When)
		}
		for _, dim := range d.Dimensions {
			if forbidden.MatchString(dim) {
				t.Errorf("%s: dimension %s would make a billed metric per account, bucket or run", d.Key(), dim)
			}
		}
	}
}

// defaultSeverity is the catalogue's severity of a rule.
func defaultSeverity(id string) rules.Severity {
	r, _ := rules.Lookup(id)
	return r.Severity
}

func sampleRun() Run {
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	return Run{
		Summary: report.Summary{Run: report.Run{ScanID: "scan-1", Trigger: "schedule", StartedAt: start, FinishedAt: start.Add(90 * time.Second),
			AccountsComplete: 3, AccountsFailed: 1, AccountsIncomplete: 1, Buckets: 9, Configs: 4,
			ByRule: map[string]int{"SCAN-001": 1, "INV-001": 3}}, Waived: 1,
			Changes: report.TransitionCounts{Opened: 2, Reopened: 1, Resolved: 4}, EventsFailed: 3,
			SecurityHub: &report.SecurityHubCounts{Imported: 6, Failed: 1, NotEnabled: 2, Skipped: 5}},
		Open: map[RuleSeverity]int{
			{"INV-001", defaultSeverity("INV-001")}: 2, {"INV-001", rules.SeverityLow}: 1, // an override lowers it for some buckets
			{"SCAN-001", defaultSeverity("SCAN-001")}: 1,
		},
		WholeScope: true,
		Calls:      []awsclient.APICalls{{API: awsclient.API{Service: "S3", Operation: "ListBuckets"}, Calls: 5, Throttled: 2}},
	}
}

// parseAll writes the run's metrics and reads every line back.
func parseAll(t *testing.T, r Run) map[string][]Parsed {
	t.Helper()
	var buf bytes.Buffer
	n, err := Write(&buf, "S3InventoryScanner/test", r)
	if err != nil {
		t.Fatal(err)
	}
	lines := Lines(buf.Bytes())
	if len(lines) != n || bytes.Count(buf.Bytes(), []byte("\n")) != n {
		t.Fatalf("Write says %d lines; %d EMF lines in %q", n, len(lines), buf.String())
	}
	got := map[string][]Parsed{}
	for _, l := range lines {
		doc, err := Parse(l)
		if err != nil {
			t.Fatalf("%v\n%s", err, l)
		}
		if doc.Members["scan_id"] != "scan-1" || doc.Members["trigger"] != "schedule" || !doc.Timestamp.Equal(r.Summary.FinishedAt) {
			t.Errorf("document members %v, timestamp %v; want the run's ID, trigger and end", doc.Members, doc.Timestamp)
		}
		for _, p := range doc.Metrics {
			got[p.Metric.Key()] = append(got[p.Metric.Key()], p)
		}
	}
	return got
}

func value(ps []Parsed, dims map[string]string) (float64, bool) {
	for _, p := range ps {
		ok := len(p.Dims) == len(dims)
		for k, v := range dims {
			ok = ok && p.Dims[k] == v
		}
		if ok {
			return p.Value, true
		}
	}
	return 0, false
}

// TestWriteEmitsEveryDefinition: a run with every input set emits every
// defined metric of a run (all but the workers' refusals) and nothing
// else, with the run's figures.
func TestWriteEmitsEveryDefinition(t *testing.T) {
	if defaultSeverity("INV-001") != rules.SeverityMedium || defaultSeverity("SCAN-001") != rules.SeverityHigh {
		t.Fatal("the sample assumes INV-001 is MEDIUM and SCAN-001 HIGH by default")
	}
	got := parseAll(t, sampleRun())
	for _, d := range Definitions() {
		if d.When == Refusals {
			continue
		}
		if len(got[d.Key()]) == 0 {
			t.Errorf("%s not emitted", d.Key())
		}
		for _, p := range got[d.Key()] {
			if p.Metric.Unit != d.Unit {
				t.Errorf("%s emitted in %s; defined in %s", d.Key(), p.Metric.Unit, d.Unit)
			}
		}
		delete(got, d.Key())
	}
	for k := range got {
		t.Errorf("%s emitted but not defined", k)
	}

	got = parseAll(t, sampleRun())
	none := map[string]string{}
	for _, c := range []struct {
		key  string
		dims map[string]string
		want float64
	}{
		{ScansFinished.Key(), none, 1}, {RunDuration.Key(), none, 90},
		{AccountsScanned.Key(), none, 5}, {AccountsFailed.Key(), none, 1}, {AccountsIncomplete.Key(), none, 1},
		{Buckets.Key(), none, 9}, {Configurations.Key(), none, 4},
		{OpenFindings.Key(), none, 4}, {WaivedFindings.Key(), none, 1}, {CoverageFindings.Key(), none, 1},
		{OpenFindingsBySeverity.Key(), map[string]string{DimSeverity: "MEDIUM"}, 2},
		{OpenFindingsBySeverity.Key(), map[string]string{DimSeverity: "HIGH"}, 1},
		{OpenFindingsBySeverity.Key(), map[string]string{DimSeverity: "LOW"}, 1},
		{OpenFindingsBySeverity.Key(), map[string]string{DimSeverity: "CRITICAL"}, 0},
		{OpenFindingsByRule.Key(), map[string]string{DimRule: "INV-001", DimSeverity: "MEDIUM"}, 2},
		{OpenFindingsByRule.Key(), map[string]string{DimRule: "SCAN-001", DimSeverity: "HIGH"}, 1},
		{OpenFindingsByRule.Key(), map[string]string{DimRule: "INV-002", DimSeverity: defaultSeverity("INV-002").String()}, 0},
		{OpenFindingsByRule.Key(), map[string]string{DimRule: "INV-001", DimSeverity: "LOW"}, 1},
		{FindingsOpened.Key(), none, 2}, {FindingsReopened.Key(), none, 1}, {FindingsResolved.Key(), none, 4},
		{EventsFailed.Key(), none, 3}, {SecurityHubImported.Key(), none, 6}, {SecurityHubFailed.Key(), none, 1}, {SecurityHubNotEnabled.Key(), none, 2},
		{AWSCalls.Key(), map[string]string{DimService: "S3", DimOperation: "ListBuckets"}, 5},
		{AWSThrottledCalls.Key(), map[string]string{DimService: "S3", DimOperation: "ListBuckets"}, 2},
	} {
		if v, ok := value(got[c.key], c.dims); !ok || v != c.want {
			t.Errorf("%s %v = %v (emitted: %v); want %v", c.key, c.dims, v, ok, c.want)
		}
	}
	// Every rule of the catalogue has a series, at 0 when nothing is open.
	if n := len(got[OpenFindingsByRule.Key()]); n != len(rules.All())+1 {
		t.Errorf("%d OpenFindings{Rule,Severity} series; want %d (every rule at its default severity, and INV-001 at LOW)", n, len(rules.All())+1)
	}
}

// TestWriteLeavesOutWhatARunCannotTell: a run of selected accounts emits
// no gauge of the organization's state; a run without lifecycle changes
// emits no opened/resolved counts (rather than zeros).
func TestWriteLeavesOutWhatARunCannotTell(t *testing.T) {
	r := sampleRun()
	r.WholeScope = false
	got := parseAll(t, r)
	for _, d := range Definitions() {
		if emitted := len(got[d.Key()]) > 0; emitted != (d.When == EveryRun) {
			t.Errorf("%s (%s) emitted: %v", d.Key(), d.When, emitted)
		}
	}
}

func TestTallyCountsOpenFindings(t *testing.T) {
	tally := NewTally()
	fs := []rules.Finding{
		{RuleID: "INV-001", Severity: rules.SeverityHigh, Status: rules.StatusOpen},
		{RuleID: "INV-001", Severity: rules.SeverityHigh, Status: rules.StatusWaived},
		{RuleID: "INV-002", Severity: rules.SeverityLow, Status: rules.StatusOpen},
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = tally.Put(context.Background(), fs) }()
	_ = tally.Put(context.Background(), fs)
	<-done
	got := tally.Open()
	if len(got) != 2 || got[RuleSeverity{"INV-001", rules.SeverityHigh}] != 2 || got[RuleSeverity{"INV-002", rules.SeverityLow}] != 2 {
		t.Errorf("Open() = %v; want INV-001/HIGH 2 and INV-002/LOW 2 (waived not counted)", got)
	}
}

// TestReadChecksTheContract: Read passes the scanner's own lines and
// names each line or metric that breaks the specification or the
// scanner's contract.
func TestReadChecksTheContract(t *testing.T) {
	var out bytes.Buffer
	if _, err := Write(&out, "S3InventoryScanner/test", sampleRun()); err != nil {
		t.Fatal(err)
	}
	docs, errs := Read(out.Bytes(), "S3InventoryScanner/test")
	if len(errs) != 0 || len(docs) == 0 {
		t.Fatalf("the scanner's own lines: %d documents, errors %v", len(docs), errs)
	}
	bad := func(ns string, m Metric, dims map[string]string) []byte {
		lines, err := Encode(ns, time.Now(), nil, []Value{{Metric: m, Dims: dims, Value: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return append(lines[0], '\n')
	}
	for _, tc := range []struct {
		line []byte
		want string
	}{
		{bad("Other", ScansFinished, nil), `in namespace "Other"`},
		{bad("S3InventoryScanner/test", Metric{Name: "Invented", Unit: Count}, nil), "Invented is not among the scanner's metrics"},
		{bad("S3InventoryScanner/test", Metric{Name: ScansFinished.Name, Unit: Seconds}, nil), "defined in Count"},
		{bad("S3InventoryScanner/test", Metric{Name: "PerAccount", Unit: Count, Dimensions: []string{"AccountId"}}, map[string]string{"AccountId": "1"}), "dimension AccountId would make"},
		{[]byte(`{"_aws":{}}` + "\n"), "_aws"},
	} {
		docs, errs := Read(tc.line, "S3InventoryScanner/test")
		if len(docs) != 0 || len(errs) == 0 || !strings.Contains(fmt.Sprint(errs), tc.want) {
			t.Errorf("Read(%s) = %d documents, %v; want an error with %q", tc.line, len(docs), errs, tc.want)
		}
	}
}

// TestWriteCallsWritesOnlyCalls: a fan-out invocation's own lines carry
// its AWS calls and nothing else (no ScansFinished: the run is counted
// once, by its finalizer), and nothing at all when it made no call.
func TestWriteCallsWritesOnlyCalls(t *testing.T) {
	var out bytes.Buffer
	calls := []awsclient.APICalls{
		{API: awsclient.API{Service: "S3", Operation: "ListBuckets"}, Calls: 3, Throttled: 1},
		{API: awsclient.API{Service: "DynamoDB", Operation: "UpdateItem"}, Calls: 2},
	}
	if n, err := WriteCalls(&out, "ns", "20260101T000000.000Z-abcdef", time.Unix(0, 0), calls); err != nil || n == 0 {
		t.Fatalf("WriteCalls: %d lines, %v", n, err)
	}
	docs, errs := Read(out.Bytes(), "ns")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	sums := map[string]float64{}
	for _, d := range docs {
		for _, p := range d.Metrics {
			sums[p.Metric.Name+" "+p.Dims[DimOperation]] += p.Value
		}
	}
	want := map[string]float64{"AWSCalls ListBuckets": 3, "AWSThrottledCalls ListBuckets": 1, "AWSCalls UpdateItem": 2, "AWSThrottledCalls UpdateItem": 0}
	if fmt.Sprint(sums) != fmt.Sprint(want) {
		t.Errorf("WriteCalls wrote %v; want %v", sums, want)
	}
	if !strings.Contains(out.String(), `"scan_id":"20260101T000000.000Z-abcdef"`) {
		t.Errorf("WriteCalls lines lack the scan ID: %s", out.String())
	}
	out.Reset()
	if n, err := WriteCalls(&out, "ns", "", time.Unix(0, 0), nil); n != 0 || err != nil || out.Len() != 0 {
		t.Errorf("WriteCalls of no call: %d lines, %v, %q; want nothing", n, err, out.String())
	}
}

// TestWriteRefusedWritesOnlyRefusals: a worker's refusals are one
// MessagesRefused value, with the scan ID; none, no line.
func TestWriteRefusedWritesOnlyRefusals(t *testing.T) {
	var out bytes.Buffer
	if n, err := WriteRefused(&out, "ns", "20260101T000000.000Z-abcdef", time.Unix(0, 0), 3); err != nil || n != 1 {
		t.Fatalf("WriteRefused: %d lines, %v; want 1", n, err)
	}
	docs, errs := Read(out.Bytes(), "ns")
	if len(errs) > 0 || len(docs) != 1 || len(docs[0].Metrics) != 1 {
		t.Fatalf("WriteRefused wrote %s (%v)", out.String(), errs)
	}
	if p := docs[0].Metrics[0]; p.Metric.Key() != MessagesRefused.Key() || p.Value != 3 {
		t.Errorf("WriteRefused wrote %s = %v; want %s = 3", p.Metric.Key(), p.Value, MessagesRefused.Key())
	}
	if !strings.Contains(out.String(), `"scan_id":"20260101T000000.000Z-abcdef"`) {
		t.Errorf("WriteRefused's line lacks the scan ID: %s", out.String())
	}
	out.Reset()
	if n, err := WriteRefused(&out, "ns", "", time.Unix(0, 0), 0); n != 0 || err != nil || out.Len() != 0 {
		t.Errorf("WriteRefused of none: %d lines, %v, %q; want nothing", n, err, out.String())
	}
}
