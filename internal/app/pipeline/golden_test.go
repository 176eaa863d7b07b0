package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.jsonl")

// goldenNow is the golden scans' clock: one waiver of the policy is still
// valid then, the other has expired.
var goldenNow = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// TestGolden scans the golden organization through the real SDK, the rules
// and the policy, and compares every finding with testdata/golden.jsonl.
// A second run, limited to one account and started after its deadline,
// adds the account-scan-incomplete finding.
func TestGolden(t *testing.T) {
	ctx := context.Background()
	_, settings := golden(t)
	var out bytes.Buffer
	settings.Sink, settings.Now = report.NewJSON(&out), func() time.Time { return goldenNow }
	sum, err := pipeline.Run(ctx, settings)
	if err != nil {
		t.Fatal(err)
	}
	if sum.AccountsComplete != 4 || sum.AccountsFailed != 2 || sum.AccountsIncomplete != 0 || sum.Waived != 1 {
		t.Errorf("first run: %d complete, %d failed, %d incomplete, %d waived; want 4, 2, 0, 1",
			sum.AccountsComplete, sum.AccountsFailed, sum.AccountsIncomplete, sum.Waived)
	}

	// The second run starts with less time left than the margin.
	settings.Config.DeadlineMargin = time.Minute
	settings.OnlyAccounts = []string{"777777777777"}
	short, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	sum, err = pipeline.Run(short, settings)
	// Not one account could be scanned: the run failed, and still wrote
	// its coverage finding.
	if !errors.Is(err, pipeline.ErrNoAccountScanned) {
		t.Errorf("second run: error %v; want ErrNoAccountScanned", err)
	}
	if sum.AccountsIncomplete != 1 {
		t.Errorf("second run: %d incomplete accounts; want 1", sum.AccountsIncomplete)
	}

	got := normalize(t, out.Bytes())
	for _, r := range rules.All() {
		if !strings.Contains(got, `"rule_id":"`+r.ID+`"`) {
			t.Errorf("no %s finding: the golden organization must fail every rule", r.ID)
		}
	}
	const path = "testdata/golden.jsonl"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("findings differ from %s (run with -update to accept):\n%s", path, lineDiff(string(want), got))
	}
}

// golden starts the golden organization (testdata/golden-org.yaml) in the
// simulator and returns it with the settings of a run of it: the golden
// policy, the organization's member role, clients that reach the
// simulator through the real SDK, and no sink.
func golden(t *testing.T, opts ...awssim.Option) (*awssim.Server, pipeline.Settings) {
	t.Helper()
	fx, err := awssim.LoadFixture("testdata/golden-org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim, awsCfg := testenv.Sim(t, fx, opts...)
	policy, err := rules.LoadPolicyFile("testdata/golden-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = "S3InventoryScannerMember", "golden-external-id"
	return sim, pipeline.Settings{
		Config: cfg, Policy: policy, Trigger: "cli",
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}},
	}
}

// normalize sorts the JSON lines and blanks the random part of scan IDs.
func normalize(t *testing.T, b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		var f rules.Finding
		if err := json.Unmarshal([]byte(l), &f); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		f.ScanID = "SCAN"
		nl, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		lines[i] = string(nl)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
