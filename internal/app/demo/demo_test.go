package demo_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// TestPolicyLoads: the demo policy loads, with every value filled in (the
// keys of every Region, the waiver's end 90 days later).
func TestPolicyLoads(t *testing.T) {
	text := demo.Policy(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	if _, err := rules.LoadPolicy([]byte(text), "demo policy"); err != nil {
		t.Fatal(err)
	}
	want := []string{"expires: 2027-03-01", `account: "` + demo.DataLake + `"`, `["` + demo.ProductionOU + `"]`}
	for _, r := range demo.Regions {
		want = append(want, "      - "+demo.KeyARN(r)+"\n")
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("demo policy has no %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "$") || strings.Contains(text, `""`) {
		t.Errorf("demo policy has a value left out:\n%s", text)
	}
}

func expect(t *testing.T) demo.Expectation {
	t.Helper()
	e, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOrganizationIsValid(t *testing.T) {
	fx := demo.Organization()
	if err := fx.Validate(); err != nil {
		t.Fatal(err)
	}
	active, buckets := 0, 0
	for _, a := range fx.Organization.Accounts {
		if a.State == "" || a.State == "ACTIVE" {
			active++
		}
		buckets += len(a.Buckets)
	}
	if active != 25 || len(fx.Organization.OUs) != 5 {
		t.Errorf("%d active accounts in %d OUs; want 25 in 5", active, len(fx.Organization.OUs))
	}
	if e := expect(t); e.Buckets != 300 {
		t.Errorf("the scan should see 300 buckets; the demo expects %d (of %d in the fixture)", e.Buckets, buckets)
	}
}

// TestScanMeetsExpectations scans the demo organization through the real
// SDK, the rules and the policy, and compares the outcome with what the
// buckets' profiles declare.
func TestScanMeetsExpectations(t *testing.T) {
	ctx := context.Background()
	srv, awsCfg := testenv.Sim(t, demo.Organization())
	now := time.Now()
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = demo.RoleName, demo.ExternalID
	policy, err := rules.LoadPolicy([]byte(demo.Policy(now)), "demo policy")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := pipeline.Run(ctx, pipeline.Settings{Config: cfg, Policy: policy, Trigger: "demo",
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}}})
	if err != nil {
		t.Fatal(err)
	}
	want, err := demo.Expect()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"INV-001", "INV-002", "INV-003", "INV-101", "INV-102", "INV-103", "INV-104", "INV-105",
		"INV-106", "INV-107", "INV-108", "INV-109", "SCAN-001", "SCAN-002", "SCAN-003"} {
		if want.ByRule[id] == 0 {
			t.Errorf("the demo triggers no %s; it should show every rule but SCAN-004", id)
		}
	}
	if sum.AccountsComplete != want.AccountsComplete || sum.AccountsFailed != want.AccountsFailed || sum.AccountsIncomplete != 0 ||
		sum.Buckets != want.Buckets || sum.Configs != want.Configs || sum.Waived != want.Waived || !maps.Equal(sum.ByRule, want.ByRule) {
		t.Errorf("scan: %d complete, %d failed, %d incomplete, %d buckets, %d configs, %d waived; %v\nwant %s",
			sum.AccountsComplete, sum.AccountsFailed, sum.AccountsIncomplete, sum.Buckets, sum.Configs, sum.Waived, sum.ByRule, want)
	}
	t.Logf("demo: %s", want)
	if got := srv.Calls("GetBucketLocation") + srv.Calls("HeadBucket"); got != 0 {
		t.Errorf("%d region lookups; want 0", got)
	}
}
