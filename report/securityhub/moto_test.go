package securityhub

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// TestImportIntoMemberAccounts runs two scans on a store, as the pipeline
// does, and exports their changes to moto_server's Security Hub through
// the member role of each account, assumed with moto's STS (which keeps
// each account's data apart, by the account in the role's ARN). The
// first scan's findings land, ACTIVE and FAILED, in their own account's
// Security Hub in the bucket's Region (account-level ones in the home
// Region), and nowhere else; the second scan resolves one, which is then
// ARCHIVED and PASSED, its CreatedAt kept; the others are not sent again.
func TestImportIntoMemberAccounts(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.MotoConfig(testenv.Moto(t))
	conn := &scan.RoleConnector{STS: sts.NewFromConfig(cfg), Base: cfg,
		Role: scan.Role{Name: "S3InventoryScannerMember", SessionName: "securityhub-test", Partition: "aws"}}
	exp, err := New(&RoleClients{Base: cfg, Credentials: conn}, Options{Partition: "aws", HomeRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}

	log := &report.TransitionLog{}
	store := report.NewMemory(report.StoreOptions{OnTransition: log.Record})
	specs := map[string][]sinktest.Spec{
		sinktest.AccountA: {
			{Bucket: "b1", Rule: "INV-001", Severity: rules.SeverityCritical},
			{Bucket: "b2", Config: "daily", Rule: "INV-101", Severity: rules.SeverityHigh},
		},
		sinktest.AccountB: {{Rule: "SCAN-002", Severity: rules.SeverityHigh}},
	}
	scanOnce := func(id string, at time.Time, specs map[string][]sinktest.Spec) []report.Transition {
		t.Helper()
		run := report.Run{ScanID: id, Trigger: "schedule", StartedAt: at}
		if err := store.Begin(ctx, run); err != nil {
			t.Fatal(err)
		}
		for acct, ss := range specs {
			var fs []rules.Finding
			for _, s := range ss {
				fs = append(fs, sinktest.NewFinding(acct, s, id, at))
			}
			if err := store.Put(ctx, fs); err != nil {
				t.Fatal(err)
			}
			res := inventory.AccountResult{Account: inventory.Account{ID: acct}, Status: inventory.AccountComplete, StartedAt: at, FinishedAt: at.Add(time.Minute)}
			if err := store.AccountDone(ctx, id, res); err != nil {
				t.Fatal(err)
			}
		}
		run.FinishedAt = at.Add(2 * time.Minute)
		if err := store.End(ctx, run); err != nil {
			t.Fatal(err)
		}
		ts, _ := log.Take(id)
		return ts
	}
	// findings reads an account's Security Hub in a Region, as the
	// account (its member role).
	findings := func(acct, region string) map[string]types.AwsSecurityFinding {
		t.Helper()
		creds, err := conn.Credentials(ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Copy()
		c.Credentials, c.Region = creds, region
		out := map[string]types.AwsSecurityFinding{}
		p := securityhub.NewGetFindingsPaginator(securityhub.NewFromConfig(c), &securityhub.GetFindingsInput{})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatalf("GetFindings of %s in %s: %v", acct, region, err)
			}
			for _, f := range page.Findings {
				out[aws.ToString(f.Id)] = f
			}
		}
		return out
	}
	state := func(m map[string]types.AwsSecurityFinding) map[string]string {
		out := map[string]string{}
		for id, f := range m {
			var compliance types.ComplianceStatus
			if f.Compliance != nil {
				compliance = f.Compliance.Status
			}
			out[id] = string(f.RecordState) + "/" + string(compliance) + " " + aws.ToString(f.GeneratorId)
		}
		return out
	}
	idOf := func(acct string, s sinktest.Spec) string { return rules.FindingID(acct, s.Bucket, s.Config, s.Rule) }
	a1, a2 := idOf(sinktest.AccountA, specs[sinktest.AccountA][0]), idOf(sinktest.AccountA, specs[sinktest.AccountA][1])
	b1 := idOf(sinktest.AccountB, specs[sinktest.AccountB][0])

	ts := scanOnce("s1", sinktest.T0, specs)
	if got, err := exp.Export(ctx, ts); err != nil || got != (report.SecurityHubCounts{Imported: 3}) {
		t.Fatalf("first export = %+v, %v; want 3 imported", got, err)
	}
	wantA := map[string]string{a1: "ACTIVE/FAILED INV-001", a2: "ACTIVE/FAILED INV-101"}
	if got := state(findings(sinktest.AccountA, "eu-west-1")); !maps.Equal(got, wantA) {
		t.Errorf("account A, eu-west-1: %v; want %v", got, wantA)
	}
	if got, want := state(findings(sinktest.AccountB, "us-east-1")), map[string]string{b1: "ACTIVE/FAILED SCAN-002"}; !maps.Equal(got, want) {
		t.Errorf("account B, us-east-1 (account-level finding, home Region): %v; want %v", got, want)
	}
	for _, elsewhere := range []struct{ acct, region string }{
		{sinktest.AccountB, "eu-west-1"}, {sinktest.AccountA, "us-east-1"}, {"123456789012", "eu-west-1"},
	} {
		if got := findings(elsewhere.acct, elsewhere.region); len(got) != 0 {
			t.Errorf("account %s, %s: %d findings; want none (each finding in its own account and Region)", elsewhere.acct, elsewhere.region, len(got))
		}
	}
	created := aws.ToString(findings(sinktest.AccountA, "eu-west-1")[a2].CreatedAt)

	// INV-101 of b2 fixed; the rest unchanged: one finding sent.
	next := map[string][]sinktest.Spec{sinktest.AccountA: specs[sinktest.AccountA][:1], sinktest.AccountB: specs[sinktest.AccountB]}
	ts = scanOnce("s2", sinktest.T0.Add(24*time.Hour), next)
	if kinds := transitionKinds(ts); !slices.Equal(kinds, []string{"resolved"}) {
		t.Fatalf("second scan's changes %v; want one resolution", kinds)
	}
	if got, err := exp.Export(ctx, ts); err != nil || got != (report.SecurityHubCounts{Imported: 1}) {
		t.Fatalf("second export = %+v, %v; want 1 imported (only the change)", got, err)
	}
	after := findings(sinktest.AccountA, "eu-west-1")
	wantA[a2] = "ARCHIVED/PASSED INV-101"
	if got := state(after); !maps.Equal(got, wantA) {
		t.Errorf("account A after the fix: %v; want %v", got, wantA)
	}
	if got := aws.ToString(after[a2].CreatedAt); got != created {
		t.Errorf("resolved finding's CreatedAt %s; want %s, as first imported", got, created)
	}
	if got := aws.ToString(after[a2].UpdatedAt); got <= created {
		t.Errorf("resolved finding's UpdatedAt %s; want after %s", got, created)
	}
}

func transitionKinds(ts []report.Transition) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Kind.String())
	}
	return out
}
