//go:build !lambda

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/report"
)

const testNamespace = "S3InventoryScanner/test-stack"

// demoFunction builds the Lambda function over the simulated demo
// organization, as the demo does, with an in-memory store and its
// metrics printed into out.
func demoFunction(t *testing.T, out *bytes.Buffer) (*function, *awssim.Server) {
	t.Helper()
	isolateAWSEnv(t)
	sim, err := awssim.New(demo.Organization())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	if err := pointAWSAt(sim, ""); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SCANNER_ROLE_NAME":         demo.RoleName,
		"SCANNER_EXTERNAL_ID":       demo.ExternalID,
		"SCANNER_METRICS_NAMESPACE": testNamespace,
		"SCANNER_POLICY":            demo.Policy(time.Now()),
	}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fn, err := buildFunction(context.Background(), cfg, slog.New(slog.DiscardHandler), report.NewMemory(report.StoreOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	fn.metrics = out
	return fn, sim
}

// emfMetrics reads every EMF line of out (emf.Read: the specification,
// the scanner's metrics in their units, the namespace, no account or
// bucket dimension), fails the test on any that breaks it, and returns
// the metrics by key and the number of lines.
func emfMetrics(t *testing.T, out []byte) (map[string][]emf.Parsed, int) {
	t.Helper()
	docs, errs := emf.Read(out, testNamespace)
	for _, err := range errs {
		t.Error(err)
	}
	got := map[string][]emf.Parsed{}
	for _, doc := range docs {
		for _, p := range doc.Metrics {
			got[p.Metric.Key()] = append(got[p.Metric.Key()], p)
		}
	}
	return got, len(docs) + len(errs)
}

func total(ps []emf.Parsed) float64 {
	n := 0.0
	for _, p := range ps {
		n += p.Value
	}
	return n
}

// TestLambdaPrintsValidMetrics runs the function's handler over the demo
// organization, with throttled inventory listings, and checks every EMF
// line it prints against the specification and the run's own figures.
func TestLambdaPrintsValidMetrics(t *testing.T) {
	var out bytes.Buffer
	fn, sim := demoFunction(t, &out)
	sim.ResetCalls() // the cold start's GetCallerIdentity is not the run's
	const throttles = 3
	sim.AddFault(awssim.Fault{Op: "ListBucketInventoryConfigurations", Error: "SlowDown", Times: throttles})

	sum, err := fn.handle(context.Background(), json.RawMessage(scheduledEventJSON))
	if err != nil {
		t.Fatal(err)
	}
	got, lines := emfMetrics(t, out.Bytes())
	for _, d := range emf.Definitions() {
		if len(got[d.Key()]) == 0 && d.When != emf.Refusals {
			t.Errorf("%s (%s) not emitted by a scheduled run", d.Key(), d.When)
		}
	}
	metrics := 0
	for _, ps := range got {
		metrics += len(ps)
	}
	t.Logf("demo organization: %d EMF lines, %d metric values (%d bytes)", lines, metrics, out.Len())

	want, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  string
		got  float64
		want int
	}{
		{emf.ScansFinished.Key(), total(got[emf.ScansFinished.Key()]), 1},
		{emf.AccountsComplete.Key(), total(got[emf.AccountsComplete.Key()]), want.AccountsComplete},
		{emf.AccountsFailed.Key(), total(got[emf.AccountsFailed.Key()]), want.AccountsFailed},
		{emf.Buckets.Key(), total(got[emf.Buckets.Key()]), want.Buckets},
		{emf.Configurations.Key(), total(got[emf.Configurations.Key()]), want.Configs},
		{emf.WaivedFindings.Key(), total(got[emf.WaivedFindings.Key()]), want.Waived},
		{emf.OpenFindings.Key(), total(got[emf.OpenFindings.Key()]), sum.Open()},
		{emf.OpenFindingsBySeverity.Key(), total(got[emf.OpenFindingsBySeverity.Key()]), sum.Open()},
		{emf.OpenFindingsByRule.Key(), total(got[emf.OpenFindingsByRule.Key()]), sum.Open()},
		{emf.CoverageFindings.Key(), total(got[emf.CoverageFindings.Key()]), sum.Coverage()},
		{emf.AWSThrottledCalls.Key(), total(got[emf.AWSThrottledCalls.Key()]), throttles},
	} {
		if c.got != float64(c.want) {
			t.Errorf("%s = %v; want %d", c.key, c.got, c.want)
		}
	}
	if sum.Open() == 0 || sum.Coverage() == 0 {
		t.Fatalf("the demo run has %d open and %d coverage findings; the test needs some", sum.Open(), sum.Coverage())
	}
	// The calls by API are the requests the simulator received.
	for _, p := range got[emf.AWSCalls.Key()] {
		op := p.Dims[emf.DimOperation]
		if n := sim.Calls(op); p.Value != float64(n) {
			t.Errorf("AWSCalls %s/%s = %v; the simulator received %d", p.Dims[emf.DimService], op, p.Value, n)
		}
	}
	for op, n := range sim.AllCalls() {
		if n > 0 && !hasOperation(got[emf.AWSCalls.Key()], op) {
			t.Errorf("%d %s calls not counted", n, op)
		}
	}
}

func hasOperation(ps []emf.Parsed, op string) bool {
	for _, p := range ps {
		if p.Dims[emf.DimOperation] == op {
			return true
		}
	}
	return false
}

// TestLambdaMetricsOfPartialRuns: a dry run prints no metric; a run of
// selected accounts prints the run's figures but no gauge of the
// organization's state, which would show the other accounts' findings as
// resolved.
func TestLambdaMetricsOfPartialRuns(t *testing.T) {
	var out bytes.Buffer
	fn, _ := demoFunction(t, &out)
	ctx := context.Background()
	if _, err := fn.handle(ctx, json.RawMessage(`{"trigger":"manual","dry_run":true}`)); err != nil {
		t.Fatal(err)
	}
	if n := len(emf.Lines(out.Bytes())); n != 0 {
		t.Errorf("a dry run printed %d EMF lines; want none", n)
	}
	acct := demo.Organization().Organization.Accounts[0].ID
	if _, err := fn.handle(ctx, json.RawMessage(`{"trigger":"manual","accounts":["`+acct+`"]}`)); err != nil {
		t.Fatal(err)
	}
	got, _ := emfMetrics(t, out.Bytes())
	for _, d := range emf.Definitions() {
		if emitted := len(got[d.Key()]) > 0; emitted != (d.When == emf.EveryRun) {
			t.Errorf("run of account %s: %s (%s) emitted: %v", acct, d.Key(), d.When, emitted)
		}
	}
}
