package awssim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

const (
	logArchive  = "222222222222"
	workload    = "333333333333"
	reportsBkt  = "org-inventory-reports"
	deliveryKey = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

func destinations(t *testing.T) *awssim.Fixture {
	t.Helper()
	fx, err := awssim.LoadFixture("testdata/destinations.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// memberConfig returns an SDK configuration acting through account's
// member role (no ExternalId) in region.
func memberConfig(cfg aws.Config, account, region string) aws.Config {
	c := cfg.Copy()
	c.Credentials = memberCreds(cfg, account, "")
	c.Region = region
	return c
}

func TestGetBucketPolicy(t *testing.T) {
	ctx := context.Background()
	fx := destinations(t)
	fx.Faults = []awssim.Fault{{Op: "GetBucketPolicy", Bucket: "no-policy-reports", Account: logArchive, Error: awssim.FaultAccessDenied, Times: 1}}
	srv, cfg := testenv.Sim(t, fx)
	c := s3.NewFromConfig(memberConfig(cfg, logArchive, "eu-west-1"))

	out, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(reportsBkt), ExpectedBucketOwner: aws.String(logArchive)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fx.Organization.Accounts[1].Buckets[0].Policy; aws.ToString(out.Policy) != want {
		t.Errorf("GetBucketPolicy = %q; want the fixture's policy %q", aws.ToString(out.Policy), want)
	}

	// The fault answers first, then the bucket has no policy.
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-policy-reports")})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Errorf("GetBucketPolicy with an AccessDenied fault: %s; want AccessDenied", code)
	}
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("no-policy-reports")})
	if code, status := apiCode(t, err), statusOf(err); code != "NoSuchBucketPolicy" || status != 404 {
		t.Errorf("GetBucketPolicy of a bucket without a policy: %s %d; want NoSuchBucketPolicy 404", code, status)
	}
	_, err = c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("deleted-reports")})
	if code, status := apiCode(t, err), statusOf(err); code != "NoSuchBucket" || status != 404 {
		t.Errorf("GetBucketPolicy of a missing bucket: %s %d; want NoSuchBucket 404", code, status)
	}
	// Another account's role may not read it.
	other := s3.NewFromConfig(memberConfig(cfg, workload, "eu-west-1"))
	_, err = other.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(reportsBkt)})
	if code := apiCode(t, err); code != "AccessDenied" {
		t.Errorf("GetBucketPolicy from another account: %s; want AccessDenied", code)
	}
	if n, m := srv.Calls("GetBucketPolicy"), srv.CallsFor("GetBucketPolicy", logArchive); n != 5 || m != 4 {
		t.Errorf("GetBucketPolicy calls %d, of the log archive %d; want 5 and 4", n, m)
	}
}

func statusOf(err error) int {
	s, _ := httpStatus(err)
	return s
}

// TestListObjectsV2ReportFolders lists a configuration's report folders
// with a delimiter over three pages: 400 daily delivery folders of a
// Reports series and the data/ and hive/ folders of explicit objects, in
// one key order.
func TestListObjectsV2ReportFolders(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, destinations(t))
	c := s3.NewFromConfig(memberConfig(cfg, logArchive, "eu-west-1"))
	const base = "inventory/workload-data/daily-all/"

	var folders []string
	var pages []*s3.ListObjectsV2Output
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), Prefix: aws.String(base), Delimiter: aws.String("/"), MaxKeys: aws.Int32(150)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, page)
		if len(pages) > 10 {
			t.Fatalf("more than 10 pages of 150 folders; want 3")
		}
		if len(page.Contents) != 0 {
			t.Errorf("page %d: %d objects directly under %s; want none", len(pages), len(page.Contents), base)
		}
		for _, cp := range page.CommonPrefixes {
			folders = append(folders, aws.ToString(cp.Prefix))
		}
	}
	if len(pages) != 3 || srv.Calls("ListObjectsV2") != 3 {
		t.Fatalf("%d pages in %d calls; want 3", len(pages), srv.Calls("ListObjectsV2"))
	}
	for i, want := range []struct {
		count     int32
		truncated bool
	}{{150, true}, {150, true}, {102, false}} {
		pg := pages[i]
		if aws.ToInt32(pg.KeyCount) != want.count || aws.ToBool(pg.IsTruncated) != want.truncated || (pg.NextContinuationToken != nil) != want.truncated ||
			aws.ToString(pg.Prefix) != base || aws.ToString(pg.Delimiter) != "/" || aws.ToInt32(pg.MaxKeys) != 150 {
			t.Errorf("page %d: KeyCount %d IsTruncated %v NextContinuationToken %v Prefix %q Delimiter %q MaxKeys %d; want %d, %v",
				i+1, aws.ToInt32(pg.KeyCount), aws.ToBool(pg.IsTruncated), pg.NextContinuationToken, aws.ToString(pg.Prefix), aws.ToString(pg.Delimiter), aws.ToInt32(pg.MaxKeys), want.count, want.truncated)
		}
	}
	if i := 1; aws.ToString(pages[i].ContinuationToken) != aws.ToString(pages[i-1].NextContinuationToken) {
		t.Errorf("page 2 echoes ContinuationToken %q; want page 1's NextContinuationToken", aws.ToString(pages[i].ContinuationToken))
	}
	want := []string{base + "2025-03-30T01-00Z/", base + "2025-03-31T01-00Z/"}
	last := []string{base + "2026-05-02T01-00Z/", base + "2026-05-03T01-00Z/", base + "data/", base + "hive/"}
	if len(folders) != 402 || !slices.Equal(folders[:2], want) || !slices.Equal(folders[398:], last) || !slices.IsSorted(folders) {
		t.Fatalf("%d folders %v … %v; want 402, %v … %v, sorted", len(folders), folders[:min(2, len(folders))], folders[max(0, len(folders)-4):], want, last)
	}
	if len(slices.Compact(slices.Clone(folders))) != len(folders) {
		t.Errorf("a folder listed twice")
	}

	// The newest folder holds the manifest and its checksum, modified at
	// the delivery time.
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), Prefix: aws.String(base + "2026-05-03T01-00Z/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
		if !aws.ToTime(o.LastModified).Equal(time.Date(2026, 5, 3, 1, 0, 0, 0, time.UTC)) || aws.ToInt64(o.Size) <= 0 || aws.ToString(o.ETag) == "" {
			t.Errorf("%s: LastModified %v Size %d ETag %q; want 2026-05-03T01:00Z, a size and an ETag", aws.ToString(o.Key), o.LastModified, aws.ToInt64(o.Size), aws.ToString(o.ETag))
		}
	}
	if w := []string{base + "2026-05-03T01-00Z/manifest.checksum", base + "2026-05-03T01-00Z/manifest.json"}; !slices.Equal(keys, w) || aws.ToBool(out.IsTruncated) || aws.ToInt32(out.KeyCount) != 2 {
		t.Errorf("newest folder: %v (truncated %v, KeyCount %d); want %v", keys, aws.ToBool(out.IsTruncated), aws.ToInt32(out.KeyCount), w)
	}

	// StartAfter skips to the newest folders; the weekly series steps a
	// week; the top level rolls up to folders and README.txt.
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), Prefix: aws.String(base), Delimiter: aws.String("/"), StartAfter: aws.String(base + "2026-05-02T01-00Z/~")})
	if err != nil {
		t.Fatal(err)
	}
	if got := prefixesOf(out); !slices.Equal(got, last[1:]) || aws.ToString(out.StartAfter) != base+"2026-05-02T01-00Z/~" {
		t.Errorf("StartAfter: %v; want %v", got, last[1:])
	}
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), Prefix: aws.String("inventory/workload-logs/weekly/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if got, w := prefixesOf(out), []string{"inventory/workload-logs/weekly/2026-02-15T01-00Z/", "inventory/workload-logs/weekly/2026-02-22T01-00Z/", "inventory/workload-logs/weekly/2026-03-01T01-00Z/"}; !slices.Equal(got, w) {
		t.Errorf("weekly series: %v; want %v", got, w)
	}
	out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if got := prefixesOf(out); !slices.Equal(got, []string{"inventory/"}) || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "README.txt" || aws.ToInt32(out.KeyCount) != 2 {
		t.Errorf("top level: folders %v, %d objects, KeyCount %d; want [inventory/] and README.txt", got, len(out.Contents), aws.ToInt32(out.KeyCount))
	}
}

func prefixesOf(out *s3.ListObjectsV2Output) []string {
	var got []string
	for _, cp := range out.CommonPrefixes {
		got = append(got, aws.ToString(cp.Prefix))
	}
	return got
}

// TestListObjectsV2Keys pages through every key without a delimiter and
// checks the errors: a bad token, a bucket of another account, an empty
// bucket, a repeated-token fault.
func TestListObjectsV2Keys(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, destinations(t))
	c := s3.NewFromConfig(memberConfig(cfg, logArchive, "eu-west-1"))

	var keys []string
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt)})
	for n := 0; p.HasMorePages(); n++ {
		if n == 10 {
			t.Fatal("more than 10 pages of 1000 keys; want 1")
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	// 400 daily and 3 weekly deliveries of two objects, 3 explicit objects.
	if len(keys) != 2*403+3 || !slices.IsSorted(keys) || srv.Calls("ListObjectsV2") != 1 || keys[0] != "README.txt" {
		t.Errorf("%d keys in %d calls (first %q, sorted %v); want %d in 1 (1000 a page), README.txt first", len(keys), srv.Calls("ListObjectsV2"), keys[0], slices.IsSorted(keys), 2*403+3)
	}

	_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), ContinuationToken: aws.String("bm90LWEtdG9rZW4")})
	if code := apiCode(t, err); code != "InvalidArgument" {
		t.Errorf("a bad continuation token: %s; want InvalidArgument", code)
	}
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("no-policy-reports")})
	if err != nil || len(out.Contents) != 0 || aws.ToInt32(out.KeyCount) != 0 || aws.ToBool(out.IsTruncated) {
		t.Errorf("an empty bucket: %v %+v; want no keys", err, out)
	}
	other := s3.NewFromConfig(memberConfig(cfg, workload, "eu-west-1"))
	if _, err := other.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt)}); apiCode(t, err) != "AccessDenied" {
		t.Errorf("ListObjectsV2 from another account: %v; want AccessDenied", err)
	}
	if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt)}, func(o *s3.Options) { o.Region = "us-east-1" }); statusOf(err) != 301 {
		t.Errorf("ListObjectsV2 in the wrong region: %v; want 301 PermanentRedirect", err)
	}

	srv.AddFault(awssim.Fault{Op: "ListObjectsV2", Error: awssim.FaultRepeatedToken})
	a, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), MaxKeys: aws.Int32(5)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(reportsBkt), MaxKeys: aws.Int32(5), ContinuationToken: a.NextContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(b.IsTruncated) || aws.ToString(b.NextContinuationToken) != aws.ToString(a.NextContinuationToken) {
		t.Errorf("RepeatedToken: page 2's next token %q; want page 1's %q again", aws.ToString(b.NextContinuationToken), aws.ToString(a.NextContinuationToken))
	}
}

// TestKMSKeys calls DescribeKey and GetKeyPolicy with the real KMS client
// through the key account's member role.
func TestKMSKeys(t *testing.T) {
	ctx := context.Background()
	fx := destinations(t)
	fx.Faults = []awssim.Fault{{Op: "GetKeyPolicy", Account: logArchive, Error: awssim.FaultThrottle, Times: 1}}
	srv, cfg := testenv.Sim(t, fx, awssim.WithClock(func() time.Time { return time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC) }))
	k := kms.NewFromConfig(memberConfig(cfg, logArchive, "eu-west-1"))

	d, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(deliveryKey)})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; aws.ToString(m.Arn) != deliveryKey || aws.ToString(m.KeyId) != "1234abcd-12ab-34cd-56ef-1234567890ab" || aws.ToString(m.AWSAccountId) != logArchive ||
		m.KeyState != kmstypes.KeyStateEnabled || !m.Enabled || m.KeyManager != kmstypes.KeyManagerTypeCustomer || m.DeletionDate != nil {
		t.Errorf("DescribeKey: %+v; want the enabled customer key %s", m, deliveryKey)
	}
	pol, err := k.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(deliveryKey)})
	if err != nil {
		t.Fatal(err)
	}
	if want := fx.Organization.Accounts[1].Keys[0].Policy; aws.ToString(pol.Policy) != want || aws.ToString(pol.PolicyName) != "default" {
		t.Errorf("GetKeyPolicy: %q %q; want the fixture's policy, named default", aws.ToString(pol.PolicyName), aws.ToString(pol.Policy))
	}
	if n := srv.CallsFor("GetKeyPolicy", logArchive); n != 2 {
		t.Errorf("GetKeyPolicy calls %d; want 2 (a throttle, then the retry)", n)
	}

	// A disabled key by its bare ID, with the default key policy.
	d, err = k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("0badc0de-0000-4000-8000-000000000001")})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; m.KeyState != kmstypes.KeyStateDisabled || m.Enabled || aws.ToString(m.Arn) != "arn:aws:kms:eu-west-1:222222222222:key/0badc0de-0000-4000-8000-000000000001" {
		t.Errorf("disabled key: state %s enabled %v ARN %s", m.KeyState, m.Enabled, aws.ToString(m.Arn))
	}
	pol, err = k.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: d.KeyMetadata.Arn, PolicyName: aws.String("default")})
	if err != nil || !strings.Contains(aws.ToString(pol.Policy), `"AWS":"arn:aws:iam::222222222222:root"`) {
		t.Errorf("default key policy: %v %q; want the account root allowed kms:*", err, aws.ToString(pol.Policy))
	}
	d, err = k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:eu-west-1:222222222222:key/mrk-0123456789abcdef0123456789abcdef")})
	if err != nil || d.KeyMetadata.KeyState != kmstypes.KeyStatePendingDeletion || !aws.ToTime(d.KeyMetadata.DeletionDate).Equal(time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)) || !aws.ToBool(d.KeyMetadata.MultiRegion) {
		t.Errorf("pending deletion: %v %+v; want PendingDeletion, deleted on 2026-06-03, multi-Region", err, d)
	}

	for _, tc := range []struct {
		name, key, account, region, code string
	}{
		{"unknown key", "arn:aws:kms:eu-west-1:222222222222:key/00000000-0000-4000-8000-00000000dead", logArchive, "eu-west-1", "NotFoundException"},
		{"unknown bare ID", "00000000-0000-4000-8000-00000000dead", logArchive, "eu-west-1", "NotFoundException"},
		{"key of another region", deliveryKey, logArchive, "us-east-1", "NotFoundException"},
		{"key of another account", deliveryKey, workload, "eu-west-1", "AccessDeniedException"},
		{"unknown key of another account", "arn:aws:kms:eu-west-1:999999999999:key/00000000-0000-4000-8000-00000000dead", workload, "eu-west-1", "AccessDeniedException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := kms.NewFromConfig(memberConfig(cfg, tc.account, tc.region))
			_, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(tc.key)})
			if code := apiCode(t, err); code != tc.code {
				t.Errorf("DescribeKey: %s; want %s", code, tc.code)
			}
			_, err = k.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(tc.key)})
			if code := apiCode(t, err); code != tc.code {
				t.Errorf("GetKeyPolicy: %s; want %s", code, tc.code)
			}
		})
	}
	srv.AddFault(awssim.Fault{Op: "DescribeKey", Error: awssim.FaultAccessDenied})
	if _, err := k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(deliveryKey)}); apiCode(t, err) != "AccessDeniedException" {
		t.Errorf("DescribeKey with an AccessDenied fault: %v; want AccessDeniedException", err)
	}
	if n := srv.Calls("DescribeKey"); n != 3+5+1 {
		t.Errorf("DescribeKey calls %d; want 9", n)
	}
}

func TestDestinationFixtureRejects(t *testing.T) {
	account := func(extra string) string {
		return "organization:\n  accounts:\n    - id: \"111111111111\"\n" + extra
	}
	for _, tc := range []struct{ name, yaml, want string }{
		{"bucket policy not JSON", account("      buckets: [{name: abc, policy: \"{nope\"}]\n"), "organization.accounts[0].buckets[0].policy: not a JSON object"},
		{"bucket policy without statements", account("      buckets: [{name: abc, policy: \"{}\"}]\n"), "buckets[0].policy: no Statement"},
		{"report without last", account("      buckets: [{name: abc, reports: [{source_bucket: src, config_id: c}]}]\n"), "buckets[0].reports[0].last: missing"},
		{"report every", account("      buckets: [{name: abc, reports: [{source_bucket: src, config_id: c, last: 2026-01-01T00:00:00Z, every: Monthly}]}]\n"), `reports[0].every "Monthly": want Daily or Weekly`},
		{"report count", account("      buckets: [{name: abc, reports: [{source_bucket: src, config_id: c, last: 2026-01-01T00:00:00Z, count: 100001}]}]\n"), "reports[0].count 100001"},
		{"report source", account("      buckets: [{name: abc, reports: [{source_bucket: Src_Bucket, config_id: c, last: 2026-01-01T00:00:00Z}]}]\n"), `reports[0].source_bucket "Src_Bucket"`},
		{"report series twice", account("      buckets: [{name: abc, reports: [{source_bucket: src, config_id: c, prefix: p, last: 2026-01-01T00:00:00Z}, {source_bucket: src, config_id: c, prefix: p/, last: 2025-01-01T00:00:00Z}]}]\n"), "reports[1]: a second series"},
		{"object twice", account("      buckets: [{name: abc, objects: [{key: a}, {key: a}]}]\n"), `objects[1].key "a": duplicate`},
		{"object is a delivery", account("      buckets: [{name: abc, objects: [{key: src/c/2026-01-01T00-00Z/manifest.json}], reports: [{source_bucket: src, config_id: c, last: 2026-01-01T00:00:00Z}]}]\n"), "objects[0].key \"src/c/2026-01-01T00-00Z/manifest.json\": also a delivery of reports[0]"},
		{"key id", account("      keys: [{id: not-a-key}]\n"), `organization.accounts[0].keys[0].id "not-a-key"`},
		{"key of another account", account("      keys: [{arn: \"arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]\n"), "keys[0].arn \"arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab\": in account 222222222222; want a key of the declaring account 111111111111"},
		{"key ARN not a key", account("      keys: [{arn: \"arn:aws:kms:eu-west-1:111111111111:alias/reports\"}]\n"), "keys[0].arn \"arn:aws:kms:eu-west-1:111111111111:alias/reports\": want a KMS key ARN"},
		{"key state", account("      keys: [{id: 1234abcd-12ab-34cd-56ef-1234567890ab, state: Gone}]\n"), `keys[0].state "Gone": want one of Enabled, Disabled, PendingDeletion`},
		{"key twice", account("      keys: [{id: 1234abcd-12ab-34cd-56ef-1234567890ab}, {arn: \"arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab\"}]\n"), "keys[1]: duplicate key"},
		{"key policy", account("      keys: [{id: 1234abcd-12ab-34cd-56ef-1234567890ab, policy: \"[]\"}]\n"), "keys[0].policy: not a JSON object"},
		{"fault op", account("faults: [{op: GetObject, error: AccessDenied}]\n"), `faults[0].op "GetObject"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := awssim.ParseFixture([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseFixture: %v; want an error containing %q", err, tc.want)
			}
		})
	}
	for _, op := range []string{"GetBucketPolicy", "ListObjectsV2", "DescribeKey", "GetKeyPolicy"} {
		if _, err := awssim.ParseFixture([]byte(account(fmt.Sprintf("faults: [{op: %s, error: AccessDenied}]\n", op)))); err != nil {
			t.Errorf("a fault on %s: %v", op, err)
		}
	}
}
