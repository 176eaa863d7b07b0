package awssim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

// The roles and resources of testdata/writes.yaml.
const (
	memberRole      = "InventoryScanner"
	memberExtID     = "scanner-external-id"
	remediationRole = "InventoryRemediation"
	remediationExt  = "remediation-external-id"
	reportKey       = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	pendingKey      = "mrk-0123456789abcdef0123456789abcdef"
	noRemediation   = "444444444444"
)

func writesFixture(t *testing.T) *awssim.Fixture {
	t.Helper()
	fx, err := awssim.LoadFixture("testdata/writes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// roleConfig returns an SDK configuration acting through a role of
// account in region.
func roleConfig(cfg aws.Config, account, role, externalID, region string) aws.Config {
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::"+account+":role/"+role,
		func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = "writes-test"
			o.ExternalID = aws.String(externalID)
		}))
	c.Region = region
	return c
}

// fixer returns S3 and KMS clients acting through account's remediation
// role in eu-west-1.
func fixer(cfg aws.Config, account string) (*s3.Client, *kms.Client) {
	c := roleConfig(cfg, account, remediationRole, remediationExt, "eu-west-1")
	return s3.NewFromConfig(c), kms.NewFromConfig(c)
}

// sampleConfig is a compliant configuration delivering to the log
// archive, with an optional field newer than the SDK.
func sampleConfig(id string) *s3types.InventoryConfiguration {
	return &s3types.InventoryConfiguration{
		Id: aws.String(id), IsEnabled: aws.Bool(true),
		IncludedObjectVersions: s3types.InventoryIncludedObjectVersionsAll,
		Schedule:               &s3types.InventorySchedule{Frequency: s3types.InventoryFrequencyDaily},
		Destination: &s3types.InventoryDestination{S3BucketDestination: &s3types.InventoryS3BucketDestination{
			AccountId: aws.String(logArchive), Bucket: aws.String("arn:aws:s3:::" + reportsBkt), Format: s3types.InventoryFormatParquet,
			Prefix:     aws.String("inventory"),
			Encryption: &s3types.InventoryEncryption{SSEKMS: &s3types.SSEKMS{KeyId: aws.String(reportKey)}},
		}},
		OptionalFields: []s3types.InventoryOptionalField{s3types.InventoryOptionalFieldSize, "FutureField"},
	}
}

func putConfig(ctx context.Context, c *s3.Client, bucket string, cfg *s3types.InventoryConfiguration, optFns ...func(*s3.Options)) error {
	_, err := c.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{Bucket: aws.String(bucket), Id: cfg.Id, InventoryConfiguration: cfg}, optFns...)
	return err
}

// configIDs lists a bucket's configuration IDs (first page).
func configIDs(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListBucketInventoryConfigurations(context.Background(), &s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list the inventory of %s: %v", bucket, err)
	}
	var ids []string
	for _, c := range out.InventoryConfigurationList {
		ids = append(ids, aws.ToString(c.Id))
	}
	return ids
}

// errMessage is the message of an AWS API error, "" for any other.
func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// TestWritesNeedAWritingRoleOfTheOwner: the read-only member role reads
// but every write it tries is AccessDenied (S3's 403, KMS's
// AccessDeniedException) naming the IAM action; the remediation role
// writes what its account owns and nothing of another account; an
// account whose fixture removes the remediation role cannot be entered
// through it; GetCallerIdentity names the assumed-role session.
func TestWritesNeedAWritingRoleOfTheOwner(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, writesFixture(t))
	member := roleConfig(cfg, workload, memberRole, memberExtID, "eu-west-1")
	memberS3 := s3.NewFromConfig(member)
	if ids := configIDs(t, memberS3, "workload-data"); len(ids) != 1 {
		t.Fatalf("the member role reads %v; want the one configuration", ids)
	}
	denied := func(what string, err error, code, action string) {
		t.Helper()
		if err == nil || apiCode(t, err) != code || !strings.Contains(errMessage(err), action) ||
			!strings.Contains(errMessage(err), "assumed-role/"+memberRole+"/writes-test") {
			t.Errorf("%s through the read-only member role: %v; want %s naming %s and the session", what, err, code, action)
		}
	}
	denied("PutBucketInventoryConfiguration", putConfig(ctx, memberS3, "workload-data", sampleConfig("org-inventory")), "AccessDenied", "s3:PutInventoryConfiguration")
	_, err := memberS3.DeleteBucketInventoryConfiguration(ctx, &s3.DeleteBucketInventoryConfigurationInput{Bucket: aws.String("workload-data"), Id: aws.String("daily-all")})
	denied("DeleteBucketInventoryConfiguration", err, "AccessDenied", "s3:PutInventoryConfiguration")
	archiveMember := roleConfig(cfg, logArchive, memberRole, memberExtID, "eu-west-1")
	_, err = s3.NewFromConfig(archiveMember).PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(reportsBkt), Policy: aws.String(`{"Statement":[]}`)})
	if err == nil || apiCode(t, err) != "AccessDenied" || !strings.Contains(errMessage(err), "s3:PutBucketPolicy") {
		t.Errorf("PutBucketPolicy through the read-only member role: %v; want AccessDenied naming s3:PutBucketPolicy", err)
	}
	_, err = kms.NewFromConfig(archiveMember).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(reportKey), Policy: aws.String(defaultKeyPolicy)})
	if err == nil || apiCode(t, err) != "AccessDeniedException" || !strings.Contains(errMessage(err), "kms:PutKeyPolicy") {
		t.Errorf("PutKeyPolicy through the read-only member role: %v; want AccessDeniedException naming kms:PutKeyPolicy", err)
	}
	if ids := configIDs(t, memberS3, "workload-data"); len(ids) != 1 || srv.Calls("PutBucketInventoryConfiguration") != 1 {
		t.Fatalf("after the member role's writes: configurations %v, %d puts counted; want the one configuration, 1 put", ids, srv.Calls("PutBucketInventoryConfiguration"))
	}

	// The remediation role writes its own account's buckets only.
	fixS3, fixKMS := fixer(cfg, workload)
	if err := putConfig(ctx, fixS3, "workload-data", sampleConfig("org-inventory")); err != nil {
		t.Fatalf("PutBucketInventoryConfiguration through the remediation role: %v", err)
	}
	if ids := configIDs(t, memberS3, "workload-data"); strings.Join(ids, ",") != "daily-all,org-inventory" {
		t.Errorf("configurations after the remediation role's put: %v; want daily-all,org-inventory", ids)
	}
	_, err = fixS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(reportsBkt), Policy: aws.String(`{"Statement":[]}`)})
	if err == nil || apiCode(t, err) != "AccessDenied" {
		t.Errorf("PutBucketPolicy of another account's bucket: %v; want AccessDenied", err)
	}
	_, err = fixKMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(reportKey), Policy: aws.String(defaultKeyPolicy)})
	if err == nil || apiCode(t, err) != "AccessDeniedException" {
		t.Errorf("PutKeyPolicy of another account's key: %v; want AccessDeniedException", err)
	}
	id, err := sts.NewFromConfig(roleConfig(cfg, workload, remediationRole, remediationExt, "eu-west-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::"+workload+":assumed-role/"+remediationRole+"/writes-test" {
		t.Errorf("GetCallerIdentity of the remediation role: %v, %v; want its assumed-role session", aws.ToString(id.Arn), err)
	}

	stsc := sts.NewFromConfig(cfg)
	for _, c := range []struct {
		name, account, role, extID string
		ok                         bool
	}{
		{"remediation role", workload, remediationRole, remediationExt, true},
		{"remediation role, the member role's ExternalId", workload, remediationRole, memberExtID, false},
		{"remediation role removed by the account", noRemediation, remediationRole, remediationExt, false},
		{"member role where the remediation role is removed", noRemediation, memberRole, memberExtID, true},
	} {
		_, err := stsc.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + c.account + ":role/" + c.role),
			RoleSessionName: aws.String("writes-test"), ExternalId: aws.String(c.extID)})
		if (err == nil) != c.ok || err != nil && apiCode(t, err) != "AccessDenied" {
			t.Errorf("AssumeRole, %s: %v; want success %v (AccessDenied otherwise)", c.name, err, c.ok)
		}
	}
}

const defaultKeyPolicy = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`

// TestPutInventoryValidatesAsS3: each configuration S3 would refuse is
// refused with S3's code (MalformedXML for what its schema forbids,
// InvalidArgument for bad values, TooManyConfigurations past 1,000), and
// leaves the bucket's configurations as they were; a valid one is
// stored whole, unknown optional fields included, and replaces the
// configuration of its Id.
func TestPutInventoryValidatesAsS3(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, writesFixture(t))
	fixS3, _ := fixer(cfg, workload)
	for _, c := range []struct {
		name   string
		change func(*s3types.InventoryConfiguration)
		code   string
		inMsg  string
	}{
		{"a format S3 does not know", func(c *s3types.InventoryConfiguration) { c.Destination.S3BucketDestination.Format = "JSON" }, "MalformedXML", "Format"},
		{"a frequency S3 does not know", func(c *s3types.InventoryConfiguration) { c.Schedule.Frequency = "Hourly" }, "MalformedXML", "Frequency"},
		{"versions S3 does not know", func(c *s3types.InventoryConfiguration) { c.IncludedObjectVersions = "Some" }, "MalformedXML", "IncludedObjectVersions"},
		{"two encryptions", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Encryption.SSES3 = &s3types.SSES3{}
		}, "MalformedXML", "SSE-S3 and SSE-KMS"},
		{"an Id with a space", func(c *s3types.InventoryConfiguration) { c.Id = aws.String("org inventory") }, "InvalidArgument", "org inventory"},
		{"an Id of 65 characters", func(c *s3types.InventoryConfiguration) { c.Id = aws.String(strings.Repeat("a", 65)) }, "InvalidArgument", "1-64"},
		{"a bucket ARN with a namespace", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Bucket = aws.String("arn:aws:s3:eu-west-1:222222222222:" + reportsBkt)
		}, "InvalidArgument", "namespace"},
		{"a bucket name for an ARN", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Bucket = aws.String(reportsBkt)
		}, "InvalidArgument", "ARN"},
		{"a bucket ARN of another partition", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Bucket = aws.String("arn:aws-cn:s3:::" + reportsBkt)
		}, "InvalidArgument", "ARN"},
		{"a destination in another region", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.Bucket = aws.String("arn:aws:s3:::workload-us")
		}, "InvalidArgument", "us-east-1"},
		{"a destination account of 5 digits", func(c *s3types.InventoryConfiguration) {
			c.Destination.S3BucketDestination.AccountId = aws.String("12345")
		}, "InvalidArgument", "12345"},
	} {
		cfg := sampleConfig("org-inventory")
		c.change(cfg)
		err := putConfig(ctx, fixS3, "workload-data", cfg)
		if err == nil || apiCode(t, err) != c.code || statusOf(err) != 400 || !strings.Contains(errMessage(err), c.inMsg) {
			t.Errorf("%s: %v; want %s (400) mentioning %q", c.name, err, c.code, c.inMsg)
		}
	}
	// What the SDK would not send: the raw documents.
	for _, c := range []struct{ name, body string }{
		{"no IsEnabled", strings.Replace(rawConfig, "<IsEnabled>true</IsEnabled>", "", 1)},
		{"no Schedule", strings.Replace(rawConfig, "<Schedule><Frequency>Daily</Frequency></Schedule>", "", 1)},
		{"SSE-KMS without its key", strings.Replace(rawConfig, "<SSE-S3></SSE-S3>", "<SSE-KMS></SSE-KMS>", 1)},
		{"another root element", strings.ReplaceAll(rawConfig, "InventoryConfiguration", "Configuration")},
		{"not XML", "{}"},
	} {
		if code := rawPut(t, srv, cfg, "/workload-data?inventory&id=org-inventory", c.body); code != "MalformedXML" {
			t.Errorf("%s: %s; want MalformedXML", c.name, code)
		}
	}
	if code := rawPut(t, srv, cfg, "/workload-data?inventory&id=org-inventory", rawConfig); code != "" {
		t.Fatalf("the raw configuration itself: %s; want it accepted", code)
	}
	_, err := fixS3.DeleteBucketInventoryConfiguration(ctx, &s3.DeleteBucketInventoryConfigurationInput{Bucket: aws.String("workload-data"), Id: aws.String("org-inventory")})
	if err != nil {
		t.Fatal(err)
	}
	if ids := configIDs(t, fixS3, "workload-data"); strings.Join(ids, ",") != "daily-all" {
		t.Fatalf("after the refused puts: configurations %v; want daily-all only", ids)
	}

	// 1,000 configurations: a new Id is refused, an existing one replaced.
	err = putConfig(ctx, fixS3, "workload-full", sampleConfig("org-inventory"))
	if err == nil || apiCode(t, err) != "TooManyConfigurations" {
		t.Errorf("the 1,001st configuration: %v; want TooManyConfigurations", err)
	}
	if err := putConfig(ctx, fixS3, "workload-full", sampleConfig("gen-0001")); err != nil {
		t.Errorf("replacing one of 1,000 configurations: %v", err)
	}

	// Stored whole, then replaced whole.
	want := sampleConfig("org-inventory")
	if err := putConfig(ctx, fixS3, "workload-data", want); err != nil {
		t.Fatal(err)
	}
	got, err := fixS3.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: aws.String("workload-data"), Id: aws.String("org-inventory")})
	if err != nil {
		t.Fatal(err)
	}
	g, w := got.InventoryConfiguration, want
	if gd, wd := g.Destination.S3BucketDestination, w.Destination.S3BucketDestination; aws.ToString(gd.AccountId) != logArchive || aws.ToString(gd.Bucket) != aws.ToString(wd.Bucket) ||
		gd.Format != wd.Format || aws.ToString(gd.Prefix) != "inventory" || gd.Encryption == nil || gd.Encryption.SSEKMS == nil ||
		aws.ToString(gd.Encryption.SSEKMS.KeyId) != reportKey || fmt.Sprint(g.OptionalFields) != fmt.Sprint(w.OptionalFields) ||
		g.IncludedObjectVersions != w.IncludedObjectVersions || g.Schedule.Frequency != w.Schedule.Frequency || !aws.ToBool(g.IsEnabled) {
		t.Errorf("read back %+v %+v; want what was put", g, gd)
	}
	replaced := sampleConfig("org-inventory")
	replaced.IsEnabled, replaced.OptionalFields = aws.Bool(false), nil
	if err := putConfig(ctx, fixS3, "workload-data", replaced); err != nil {
		t.Fatal(err)
	}
	got, err = fixS3.GetBucketInventoryConfiguration(ctx, &s3.GetBucketInventoryConfigurationInput{Bucket: aws.String("workload-data"), Id: aws.String("org-inventory")})
	if err != nil || aws.ToBool(got.InventoryConfiguration.IsEnabled) || len(got.InventoryConfiguration.OptionalFields) != 0 {
		t.Errorf("after replacing: %+v, %v; want the configuration disabled, without optional fields", got.InventoryConfiguration, err)
	}
}

// rawConfig is a valid configuration document.
const rawConfig = `<InventoryConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Id>org-inventory</Id><IsEnabled>true</IsEnabled>` +
	`<Destination><S3BucketDestination><Bucket>arn:aws:s3:::org-inventory-reports</Bucket><Format>CSV</Format>` +
	`<Encryption><SSE-S3></SSE-S3></Encryption></S3BucketDestination></Destination>` +
	`<Schedule><Frequency>Daily</Frequency></Schedule><IncludedObjectVersions>Current</IncludedObjectVersions></InventoryConfiguration>`

// rawPut sends body to the simulator as a PUT of path in eu-west-1
// through the workload's remediation role, and returns S3's error code
// ("" for a 2xx).
func rawPut(t *testing.T, srv *awssim.Server, cfg aws.Config, path, body string) string {
	t.Helper()
	creds, err := roleConfig(cfg, workload, remediationRole, remediationExt, "eu-west-1").Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPut, srv.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+creds.AccessKeyID+"/20260101/eu-west-1/s3/aws4_request, SignedHeaders=host, Signature=0")
	req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		return ""
	}
	var e struct{ Code string }
	raw, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(raw, &e); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, raw, err)
	}
	return e.Code
}

// bigPolicy is a bucket policy for the reports bucket with n delivery
// statements, each naming one source account, indented when indent is
// set.
func bigPolicy(t *testing.T, n int, indent bool) string {
	t.Helper()
	var stmts []map[string]any
	for i := range n {
		stmts = append(stmts, map[string]any{"Sid": fmt.Sprintf("Delivery%04d", i), "Effect": "Allow",
			"Principal": map[string]any{"Service": "s3.amazonaws.com"}, "Action": "s3:PutObject",
			"Resource":  "arn:aws:s3:::" + reportsBkt + "/inventory/*",
			"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": fmt.Sprintf("%012d", i)}}})
	}
	doc := map[string]any{"Version": "2012-10-17", "Statement": stmts}
	var out []byte
	var err error
	if indent {
		out, err = json.MarshalIndent(doc, "", "        ")
	} else {
		out, err = json.Marshal(doc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestPutBucketPolicy: the owner's remediation role replaces the policy;
// S3 keeps it without whitespace and counts 20 KB of that (an indented
// policy over 20 KB fits when its compact form does); a document that is
// not JSON, has no Principal, acts outside S3 or on another bucket is
// MalformedPolicy, one over 20 KB PolicyTooLarge, and each leaves the
// policy as it was.
func TestPutBucketPolicy(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, writesFixture(t))
	fixS3, _ := fixer(cfg, logArchive)
	put := func(policy string) error {
		_, err := fixS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(reportsBkt), Policy: aws.String(policy)})
		return err
	}
	stored := func() string {
		t.Helper()
		out, err := fixS3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(reportsBkt)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}
	fits := bigPolicy(t, 80, true)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(fits)); err != nil {
		t.Fatal(err)
	}
	if len(fits) <= 20<<10 || compact.Len() > 20<<10 {
		t.Fatalf("the test's policy is %d bytes indented, %d compact; want over and under 20 KB", len(fits), compact.Len())
	}
	if err := put(fits); err != nil {
		t.Fatalf("an indented policy of %d bytes, %d compact: %v", len(fits), compact.Len(), err)
	}
	if got := stored(); got != compact.String() {
		t.Errorf("GetBucketPolicy after the put: %.80q…; want the policy without its whitespace", got)
	}
	tooBig := bigPolicy(t, 90, false)
	for _, c := range []struct{ name, policy, code, inMsg string }{
		{"not JSON", "nope", "MalformedPolicy", "valid JSON"},
		{"an array", "[]", "MalformedPolicy", "first byte"},
		{"no Principal", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::org-inventory-reports/*"}]}`, "MalformedPolicy", "Principal"},
		{"another bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::org-inventory-reports-2/*"}]}`, "MalformedPolicy", "invalid resource"},
		{"every bucket", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}]}`, "MalformedPolicy", "invalid resource"},
		{"a KMS action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"arn:aws:s3:::org-inventory-reports"}]}`, "MalformedPolicy", "invalid action"},
		{fmt.Sprintf("%d bytes", len(tooBig)), tooBig, "PolicyTooLarge", "20480"},
	} {
		err := put(c.policy)
		if err == nil || apiCode(t, err) != c.code || statusOf(err) != 400 || !strings.Contains(errMessage(err), c.inMsg) {
			t.Errorf("PutBucketPolicy, %s: %v; want %s (400) mentioning %q", c.name, err, c.code, c.inMsg)
		}
	}
	if got := stored(); got != compact.String() {
		t.Errorf("after the refused puts the policy changed: %.80q…", got)
	}
	if n := srv.CallsFor("PutBucketPolicy", logArchive); n != 8 {
		t.Errorf("PutBucketPolicy calls of the log archive: %d; want 8", n)
	}
}

// TestPutKeyPolicy: the owner's remediation role replaces a key policy,
// kept exactly as sent; KMS's lockout check refuses a policy that would
// not let the caller put the next one (unless the request bypasses it,
// which the simulator counts), and a policy over 32 KB, not JSON, with a
// character KMS refuses, another policy name or a key pending deletion
// are refused with KMS's codes, leaving the policy as it was.
func TestPutKeyPolicy(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, writesFixture(t))
	_, fixKMS := fixer(cfg, logArchive)
	put := func(key, policy string, mods ...func(*kms.PutKeyPolicyInput)) error {
		in := &kms.PutKeyPolicyInput{KeyId: aws.String(key), Policy: aws.String(policy)}
		for _, m := range mods {
			m(in)
		}
		_, err := fixKMS.PutKeyPolicy(ctx, in)
		return err
	}
	stored := func() string {
		t.Helper()
		out, err := fixKMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(reportKey)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Policy)
	}
	s3Statement := `{"Sid": "InventoryEncryption", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
	  "Action": "kms:GenerateDataKey", "Resource": "*", "Condition": {"StringEquals": {"aws:SourceAccount": "333333333333"}}}`
	merged := strings.Replace(defaultKeyPolicy, `"Resource":"*"}]`, `"Resource":"*"},`+"\n  "+s3Statement+"]", 1)
	if err := put(reportKey, merged); err != nil {
		t.Fatalf("PutKeyPolicy of the default policy and a statement: %v", err)
	}
	if got := stored(); got != merged {
		t.Errorf("GetKeyPolicy = %q; want exactly what was put", got)
	}
	// A policy naming the remediation role itself passes the lockout check too.
	byRole := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/InventoryRemediation"},"Action":["kms:PutKeyPolicy","kms:GetKeyPolicy"],"Resource":"*"},` + s3Statement + `]}`
	if err := put("1234abcd-12ab-34cd-56ef-1234567890ab", byRole); err != nil {
		t.Fatalf("PutKeyPolicy (by key ID) of a policy allowing the caller's role: %v", err)
	}
	lockout := `{"Statement":[` + s3Statement + `]}`
	for _, c := range []struct {
		name, key, policy, code string
		mod                     func(*kms.PutKeyPolicyInput)
	}{
		{"locking the caller out", reportKey, lockout, "MalformedPolicyDocumentException", nil},
		{"over 32 KB", reportKey, byRole + strings.Repeat(" ", 32<<10), "LimitExceededException", nil},
		{"not JSON", reportKey, "{nope", "MalformedPolicyDocumentException", nil},
		{"a character KMS refuses", reportKey, strings.Replace(byRole, "Allow", "Allow\u0100", 1), "MalformedPolicyDocumentException", nil},
		{"another policy name", reportKey, byRole, "NotFoundException", func(in *kms.PutKeyPolicyInput) { in.PolicyName = aws.String("other") }},
		{"a key pending deletion", pendingKey, byRole, "KMSInvalidStateException", nil},
	} {
		mods := []func(*kms.PutKeyPolicyInput){}
		if c.mod != nil {
			mods = append(mods, c.mod)
		}
		if err := put(c.key, c.policy, mods...); err == nil || apiCode(t, err) != c.code {
			t.Errorf("PutKeyPolicy, %s: %v; want %s", c.name, err, c.code)
		}
	}
	if got := stored(); got != byRole || srv.LockoutBypasses() != 0 {
		t.Errorf("after the refused puts: policy %q, %d bypasses; want the last accepted policy, none", got, srv.LockoutBypasses())
	}
	if err := put(reportKey, lockout, func(in *kms.PutKeyPolicyInput) { in.BypassPolicyLockoutSafetyCheck = true }); err != nil {
		t.Errorf("PutKeyPolicy bypassing the lockout check: %v", err)
	}
	if got := stored(); got != lockout || srv.LockoutBypasses() != 1 {
		t.Errorf("after the bypass: policy %q, %d bypasses; want the new policy, 1", got, srv.LockoutBypasses())
	}
}

// TestWriteFaults: the writes are faultable by operation, account and
// bucket, as the reads are: throttles are retried by the SDK, an
// AccessDenied fault answers once, a lasting 500 fails the call, and a
// failed write writes nothing.
func TestWriteFaults(t *testing.T) {
	ctx := context.Background()
	fx := writesFixture(t)
	fx.Faults = []awssim.Fault{
		{Op: "PutBucketInventoryConfiguration", Bucket: "workload-data", Error: "SlowDown", Times: 2},
		{Op: "PutBucketInventoryConfiguration", Account: workload, Bucket: "workload-us", Error: awssim.FaultInternalError},
		{Op: "PutBucketPolicy", Account: logArchive, Error: awssim.FaultAccessDenied, Times: 1},
		{Op: "PutKeyPolicy", Account: logArchive, Error: awssim.FaultThrottle, Times: 1},
	}
	srv, cfg := testenv.Sim(t, fx)
	fixS3, _ := fixer(cfg, workload)
	if err := putConfig(ctx, fixS3, "workload-data", sampleConfig("org-inventory")); err != nil {
		t.Errorf("a put throttled twice: %v; want it retried to success", err)
	}
	if n := srv.Calls("PutBucketInventoryConfiguration"); n != 3 {
		t.Errorf("PutBucketInventoryConfiguration calls %d; want 3 (two throttled)", n)
	}
	usConfig := sampleConfig("org-inventory")
	usConfig.Destination.S3BucketDestination.Bucket = aws.String("arn:aws:s3:::workload-us")
	usConfig.Destination.S3BucketDestination.Encryption = &s3types.InventoryEncryption{SSES3: &s3types.SSES3{}}
	err := putConfig(ctx, fixS3, "workload-us", usConfig, func(o *s3.Options) { o.Region = "us-east-1" })
	if err == nil || apiCode(t, err) != "InternalError" {
		t.Errorf("a put answered 500 every time: %v; want InternalError once the retries are spent", err)
	}
	if ids := configIDs(t, s3.NewFromConfig(roleConfig(cfg, workload, remediationRole, remediationExt, "us-east-1")), "workload-us"); len(ids) != 0 {
		t.Errorf("after the failed put workload-us has %v; want nothing", ids)
	}
	archiveS3, archiveKMS := fixer(cfg, logArchive)
	policy := `{"Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::org-inventory-reports/*"}]}`
	for i, want := range []string{"AccessDenied", ""} {
		_, err := archiveS3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(reportsBkt), Policy: aws.String(policy)})
		if got := codeOf(err); got != want {
			t.Errorf("PutBucketPolicy %d with an AccessDenied fault once: %q; want %q", i+1, got, want)
		}
	}
	if _, err := archiveKMS.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(reportKey), Policy: aws.String(defaultKeyPolicy)}); err != nil {
		t.Errorf("PutKeyPolicy throttled once: %v; want it retried to success", err)
	}
	if n := srv.CallsFor("PutKeyPolicy", logArchive); n != 2 {
		t.Errorf("PutKeyPolicy calls %d; want 2 (one throttled)", n)
	}
}

// codeOf is the code of an AWS API error, "" for none.
func codeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestRoleFixtureRejects: further roles need a name, of their own.
func TestRoleFixtureRejects(t *testing.T) {
	for _, c := range []struct{ name, yaml, want string }{
		{"unnamed", "organization:\n  roles: [{external_id: x}]\n  accounts: [{id: \"111111111111\"}]\n", `organization.roles[0].name ""`},
		{"bad name", "organization:\n  roles: [{name: \"has space\"}]\n  accounts: [{id: \"111111111111\"}]\n", `"has space": want a role name`},
		{"twice", "organization:\n  roles: [{name: Fix}, {name: /Fix/}]\n  accounts: [{id: \"111111111111\"}]\n", "roles[1].name \"/Fix/\": duplicate role name"},
		{"the member role's name", "organization:\n  role: {name: Scanner}\n  roles: [{name: Scanner}]\n  accounts: [{id: \"111111111111\"}]\n", "the member role's name"},
		{"an account's, the member role's name", "organization:\n  accounts: [{id: \"111111111111\", role: {name: Own}, roles: [{name: Own}]}]\n", "organization.accounts[0].roles[0].name \"Own\": the member role's name"},
	} {
		if _, err := awssim.ParseFixture([]byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error containing %q", c.name, err, c.want)
		}
	}
}
