package remediate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/app/remediate"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/docblock"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// goldenNow is the golden organization's clock (its reports are recent).
var goldenNow = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

// goldenPolicy is the golden organization's policy with the remediation
// section of testdata/remediation.yaml.
func goldenPolicy(t *testing.T) *rules.Policy {
	t.Helper()
	base, err := os.ReadFile("../pipeline/testdata/golden-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rem, err := os.ReadFile("testdata/remediation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := rules.LoadPolicy(append(append(base, '\n'), rem...), "golden-policy.yaml+remediation.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// goldenRun starts the golden organization in the simulator and returns
// the settings of a dry run of it through the real SDK, with the SDK
// configuration of the management account.
func goldenRun(t *testing.T, p *rules.Policy) (pipeline.Settings, aws.Config) {
	t.Helper()
	fx, err := awssim.LoadFixture("../pipeline/testdata/golden-org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, awsCfg := testenv.Sim(t, fx)
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = "S3InventoryScannerMember", "golden-external-id"
	return pipeline.Settings{
		Config: cfg, Policy: p, Trigger: "cli", Now: func() time.Time { return goldenNow },
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}},
	}, awsCfg
}

// scanAndPlan runs a dry scan and plans its fixes; it returns the plan and
// the scan's findings.
func scanAndPlan(t *testing.T, s pipeline.Settings) (remediate.Plan, []rules.Finding) {
	t.Helper()
	var c remediate.Collector
	var out bytes.Buffer
	s.Tap, s.Sink = &c, report.NewJSON(&out)
	if _, err := pipeline.Run(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var fs []rules.Finding
	for line := range strings.Lines(out.String()) {
		var f rules.Finding
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	return remediate.NewPlan(c.Reads(), s.Policy, goldenNow), fs
}

// TestPlanGolden: the text plan of the golden organization, its scan's
// random part blanked, is testdata/golden-plan.txt; the saved plan reads
// back equal and carries, per change, the digest of what it read.
func TestPlanGolden(t *testing.T) {
	s, _ := goldenRun(t, goldenPolicy(t))
	plan, _ := scanAndPlan(t, s)
	var txt bytes.Buffer
	if err := plan.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(txt.String(), plan.ScanID, "SCAN-ID")
	docblock.CheckFile(t, "testdata/golden-plan.txt", got)

	var saved bytes.Buffer
	if err := plan.WriteJSON(&saved); err != nil {
		t.Fatal(err)
	}
	back, err := remediate.ReadPlan(saved.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, plan) {
		t.Errorf("the plan does not read back equal:\n%s", saved.String())
	}
	if back.ScanID == "" || back.PolicyDigest != s.Policy.Digest() || !back.MadeAt.Equal(goldenNow) {
		t.Errorf("saved plan: scan %q, policy %q, made %v", back.ScanID, back.PolicyDigest, back.MadeAt)
	}
	for _, c := range back.Changes {
		if c.Kind == remediate.KindBucketPolicy || c.Kind == remediate.KindKeyPolicy {
			if c.Read != remediate.PolicyDigest(c.PolicyBefore) || c.PolicyAfter == "" || len(c.Diff) != 1 {
				t.Errorf("merge %s %s%s: read %s, %d fields", c.Kind, c.Bucket, c.KeyARN, c.Read, len(c.Diff))
			}
			continue
		}
		if c.Read != remediate.ConfigDigest(c.Before) || len(c.Diff) == 0 || c.After == nil {
			t.Errorf("change %s %s/%s: read %s, before %+v, %d fields", c.Kind, c.Bucket, c.ConfigID, c.Read, c.Before, len(c.Diff))
		}
	}
}

// TestPlanApplyRescan plans against the simulated organization, puts the
// plan's configuration changes through the SDK as the member accounts'
// role, and scans again: no open finding of a fixed rule remains, except
// those the plan listed as manual; what the plan did not change is
// untouched.
func TestPlanApplyRescan(t *testing.T) {
	p := goldenPolicy(t)
	s, awsCfg := goldenRun(t, p)
	plan, before := scanAndPlan(t, s)
	tot := plan.Totals()
	if tot.Create == 0 || tot.Update == 0 || tot.Disable == 0 || tot.Manual == 0 {
		t.Fatalf("plan: %s; want creates, updates, disables and manual items", tot)
	}
	for _, c := range plan.Changes {
		apply(t, awsCfg, c)
	}
	again, after := scanAndPlan(t, s)
	manual := map[string]bool{}
	for _, m := range plan.Manual {
		manual[rules.FindingID(m.Account, m.Bucket, m.ConfigID, m.Rule)] = true
	}
	rem := p.Remediation()
	open := map[string]bool{}
	for _, f := range after {
		open[f.FindingID] = f.Status == rules.StatusOpen
		if f.Status == rules.StatusOpen && slices.Contains(rem.Fix, f.RuleID) && !manual[f.FindingID] {
			t.Errorf("after the plan: %s %s/%s %q: %s", f.RuleID, f.AccountID, f.Bucket, f.ConfigID, f.Message)
		}
	}
	fixed := 0
	for _, f := range before {
		if f.Status == rules.StatusOpen && slices.Contains(rem.Fix, f.RuleID) && !open[f.FindingID] {
			fixed++
		}
	}
	if fixed == 0 {
		t.Error("the plan fixed nothing")
	}
	// A second plan has nothing left to change.
	if n := again.Totals(); n.Create+n.Update+n.Disable+n.BucketPolicy+n.KeyPolicy != 0 {
		t.Errorf("second plan: %s; want no change", n)
	}
}

// apply makes a change as the target account's member role (the golden
// organization's role may write): the configuration, or the policy.
func apply(t *testing.T, base aws.Config, c remediate.Change) {
	t.Helper()
	cfg := base.Copy()
	cfg.Region = c.Region
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base),
		"arn:aws:iam::"+c.Account+":role/S3InventoryScannerMember", func(o *stscreds.AssumeRoleOptions) {
			o.ExternalID = aws.String("golden-external-id")
		}))
	ctx := context.Background()
	api := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	var err error
	switch c.Kind {
	case remediate.KindBucketPolicy:
		_, err = api.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(c.Bucket), Policy: aws.String(c.PolicyAfter)})
	case remediate.KindKeyPolicy:
		_, err = kms.NewFromConfig(cfg).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(c.KeyARN), Policy: aws.String(c.PolicyAfter)})
	default:
		_, err = api.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{
			Bucket: aws.String(c.Bucket), Id: aws.String(c.ConfigID), InventoryConfiguration: toSDK(*c.After)})
	}
	if err != nil {
		t.Fatalf("%s %s/%s%s: %v", c.Kind, c.Bucket, c.ConfigID, c.KeyARN, err)
	}
}

// toSDK is a configuration as PutBucketInventoryConfiguration takes it:
// every field, as the plan holds it.
func toSDK(c inventory.Config) *s3types.InventoryConfiguration {
	d := c.Destination
	out := &s3types.InventoryConfiguration{
		Id: aws.String(c.ID), IsEnabled: aws.Bool(c.Enabled),
		IncludedObjectVersions: s3types.InventoryIncludedObjectVersions(c.IncludedVersions),
		Schedule:               &s3types.InventorySchedule{Frequency: s3types.InventoryFrequency(c.Frequency)},
		Destination: &s3types.InventoryDestination{S3BucketDestination: &s3types.InventoryS3BucketDestination{
			Bucket: aws.String(d.BucketARN), Format: s3types.InventoryFormat(d.Format)}},
	}
	b := out.Destination.S3BucketDestination
	if d.AccountID != "" {
		b.AccountId = aws.String(d.AccountID)
	}
	if d.Prefix != "" {
		b.Prefix = aws.String(d.Prefix)
	}
	switch d.Encryption {
	case inventory.EncryptionSSEKMS:
		b.Encryption = &s3types.InventoryEncryption{SSEKMS: &s3types.SSEKMS{KeyId: aws.String(d.KMSKeyID)}}
	case inventory.EncryptionSSES3:
		b.Encryption = &s3types.InventoryEncryption{SSES3: &s3types.SSES3{}}
	}
	if c.FilterPrefix != "" {
		out.Filter = &s3types.InventoryFilter{Prefix: aws.String(c.FilterPrefix)}
	}
	for _, f := range c.OptionalFields {
		out.OptionalFields = append(out.OptionalFields, s3types.InventoryOptionalField(f))
	}
	return out
}
