package awssim_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

func small(t *testing.T) *awssim.Fixture {
	t.Helper()
	fx, err := awssim.LoadFixture("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

// memberS3 assumes the member role of account and returns an S3 client
// using its credentials.
func memberS3(t *testing.T, cfg aws.Config, account, externalID string) *s3.Client {
	t.Helper()
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::"+account+":role/InventoryScanner", func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "awssim-test"
		o.ExternalID = aws.String(externalID)
	})
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(prov)
	return s3.NewFromConfig(c)
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v: want a smithy.APIError", err)
	}
	return ae.ErrorCode()
}

func httpStatus(err error) (int, http.Header) {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.StatusCode, re.Response.Header
	}
	return 0, nil
}

func TestSmallFixtureEndToEnd(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t))
	org := organizations.NewFromConfig(cfg)
	var accts []orgtypes.Account
	p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, page.Accounts...)
	}
	if len(accts) != 5 || srv.Calls("ListAccounts") != 3 {
		t.Fatalf("ListAccounts: %d accounts in %d calls; want 5 in 3", len(accts), srv.Calls("ListAccounts"))
	}
	if accts[4].State != orgtypes.AccountStateSuspended || accts[4].Status != orgtypes.AccountStatusSuspended || accts[0].JoinedTimestamp == nil {
		t.Errorf("account 5: state %q status %q; want SUSPENDED", accts[4].State, accts[4].Status)
	}

	s3c := memberS3(t, cfg, "222222222222", "small-org-external-id")
	lb, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	if len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != "prod-web-assets" || aws.ToString(lb.Buckets[0].BucketRegion) != "eu-west-1" || lb.ContinuationToken == nil {
		t.Fatalf("ListBuckets page 1: %+v", lb)
	}
	inv, err := s3c.ListBucketInventoryConfigurations(ctx, &s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String("prod-web-assets"), ExpectedBucketOwner: aws.String("222222222222")},
		func(o *s3.Options) { o.Region = "eu-west-1" })
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.InventoryConfigurationList) != 1 {
		t.Fatalf("configs: %+v", inv)
	}
	c := inv.InventoryConfigurationList[0]
	if aws.ToString(c.Id) != "daily-full" || !aws.ToBool(c.IsEnabled) || c.Destination.S3BucketDestination.Encryption.SSEKMS == nil ||
		c.Destination.S3BucketDestination.Format != s3types.InventoryFormatParquet || len(c.OptionalFields) != 4 || c.Filter != nil ||
		c.Schedule.Frequency != s3types.InventoryFrequencyDaily || c.IncludedObjectVersions != s3types.InventoryIncludedObjectVersionsAll {
		t.Errorf("config: %+v", c)
	}
}

func TestParseFixtureRejects(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "organization:\n  accounts: [{id: \"111111111111\"}]\n  acounts: []\n", "acounts"},
		{"bad account id", "organization:\n  accounts: [{id: \"1234\"}]\n", `"1234": want a 12-digit account ID`},
		{"unknown parent", "organization:\n  accounts: [{id: \"111111111111\", parent: ou-abcd-12345678}]\n", "parent \"ou-abcd-12345678\""},
		{"duplicate bucket", "organization:\n  accounts:\n    - {id: \"111111111111\", buckets: [{name: same-name}]}\n    - {id: \"222222222222\", buckets: [{name: same-name}]}\n", "duplicate bucket name"},
		{"bad state", "organization:\n  accounts: [{id: \"111111111111\", state: GONE}]\n", "state \"GONE\""},
		{"bad encryption", "organization:\n  accounts: [{id: \"111111111111\", buckets: [{name: abc, inventory: [{id: x, destination: {bucket: \"arn:aws:s3:::d\", encryption: AES}}]}]}]\n", "encryption \"AES\""},
		{"bad fault", "organization:\n  accounts: [{id: \"111111111111\"}]\nfaults: [{op: ListBuckets, error: Boom}]\n", "error \"Boom\""},
		{"too many configs", "organization:\n  accounts: [{id: \"111111111111\", buckets: [{name: abc, generated: 1001}]}]\n", "at most 1000"},
		{"no accounts", "organization: {}\n", "want at least one account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := awssim.ParseFixture([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseFixture: %v; want an error containing %q", err, tc.want)
			}
		})
	}
	if _, err := awssim.New(&awssim.Fixture{}); err == nil {
		t.Error("New with an empty fixture: no error")
	}
}

func TestOrganizations(t *testing.T) {
	ctx := context.Background()
	fx := small(t)
	fx.Organization.EmptyPages = true
	srv, cfg := testenv.Sim(t, fx)
	org := organizations.NewFromConfig(cfg)

	_, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
	if st, _ := httpStatus(err); err == nil || apiCode(t, err) != "ValidationException" || st != 400 {
		t.Fatalf("MaxResults 21: %v; want 400 ValidationException", err)
	}

	// Empty pages with a NextToken: the paginator must go on.
	var ids []string
	p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{MaxResults: aws.Int32(20)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if len(ids) != 5 || srv.Calls("ListAccounts") != 1+2 {
		t.Errorf("ListAccounts with empty pages: %v in %d calls; want 5 accounts in 2 calls (plus the rejected one)", ids, srv.Calls("ListAccounts"))
	}

	roots, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 || aws.ToString(roots.Roots[0].Id) != "r-sm01" {
		t.Fatalf("ListRoots: %v %+v", err, roots)
	}
	var ous []string
	op := organizations.NewListOrganizationalUnitsForParentPaginator(org, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("r-sm01")})
	for op.HasMorePages() {
		page, err := op.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ou := range page.OrganizationalUnits {
			ous = append(ous, aws.ToString(ou.Id))
		}
	}
	if !slices.Equal(ous, []string{"ou-sm01-prod0001", "ou-sm01-sandbox1"}) {
		t.Errorf("OUs under the root: %v", ous)
	}
	var under []string
	ap := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-sm01-sandbox1")})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Accounts {
			under = append(under, aws.ToString(a.Id))
		}
	}
	if !slices.Equal(under, []string{"444444444444", "555555555555"}) {
		t.Errorf("accounts under the sandbox OU: %v", under)
	}
	_, err = org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-sm01-nothere1")})
	if err == nil || apiCode(t, err) != "ParentNotFoundException" {
		t.Errorf("unknown parent: %v; want ParentNotFoundException", err)
	}
	var pnf *orgtypes.ParentNotFoundException
	if !errors.As(err, &pnf) {
		t.Errorf("unknown parent: %T; want the SDK's typed ParentNotFoundException", err)
	}

	// Member credentials may not call Organizations.
	mc := cfg.Copy()
	mc.Credentials = memberCreds(cfg, "222222222222", "small-org-external-id")
	_, err = organizations.NewFromConfig(mc).ListRoots(ctx, &organizations.ListRootsInput{})
	var ade *orgtypes.AccessDeniedException
	if !errors.As(err, &ade) {
		t.Errorf("ListRoots with member credentials: %v; want AccessDeniedException", err)
	}

	// A throttling burst is absorbed by the SDK's retryer.
	srv.AddFault(awssim.Fault{Op: "ListRoots", Error: "TooManyRequestsException", Times: 2})
	before := srv.Calls("ListRoots")
	if _, err := org.ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Fatalf("ListRoots after 2 TooManyRequestsException: %v; want the retryer to absorb them", err)
	}
	if n := srv.Calls("ListRoots") - before; n != 3 {
		t.Errorf("ListRoots calls for a burst of 2: %d; want 3", n)
	}
	srv.AddFault(awssim.Fault{Op: "ListAccounts", Error: "AccessDenied", Times: 1})
	_, err = org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	if !errors.As(err, &ade) {
		t.Errorf("injected AccessDenied: %v; want AccessDeniedException", err)
	}
}

func memberCreds(cfg aws.Config, account, externalID string) aws.CredentialsProvider {
	return aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::"+account+":role/InventoryScanner", func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "awssim-test"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}))
}

func TestAssumeRole(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t))
	c := sts.NewFromConfig(cfg)
	assume := func(account, extID string) (*sts.AssumeRoleOutput, error) {
		in := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/InventoryScanner"), RoleSessionName: aws.String("test-session")}
		if extID != "" {
			in.ExternalId = aws.String(extID)
		}
		return c.AssumeRole(ctx, in)
	}
	a, err := assume("222222222222", "small-org-external-id")
	if err != nil {
		t.Fatal(err)
	}
	b, err := assume("111111111111", "small-org-external-id")
	if err != nil {
		t.Fatal(err)
	}
	if a.Credentials.Expiration == nil || !a.Credentials.Expiration.After(time.Now()) || aws.ToString(a.Credentials.SessionToken) == "" {
		t.Errorf("credentials: %+v; want a session token and a future expiration", a.Credentials)
	}
	if aws.ToString(a.Credentials.AccessKeyId) == aws.ToString(b.Credentials.AccessKeyId) {
		t.Error("two accounts got the same access key ID")
	}
	for key, want := range map[string]string{aws.ToString(a.Credentials.AccessKeyId): "222222222222", aws.ToString(b.Credentials.AccessKeyId): "111111111111"} {
		if got, ok := srv.AccountOf(key); !ok || got != want {
			t.Errorf("AccountOf(%s) = %q, %v; want %s", key, got, ok, want)
		}
	}
	if mgmt, _ := srv.ManagementCredentials(); func() bool { got, ok := srv.AccountOf(mgmt); return !ok || got != srv.ManagementAccount() }() {
		t.Errorf("AccountOf(the management key) is not the management account %s", srv.ManagementAccount())
	}
	if _, ok := srv.AccountOf("AKIANEVERISSUED0000"); ok {
		t.Error("AccountOf(a key never issued) = true")
	}
	if !strings.HasSuffix(aws.ToString(a.AssumedRoleUser.Arn), ":assumed-role/InventoryScanner/test-session") {
		t.Errorf("assumed role ARN %q", aws.ToString(a.AssumedRoleUser.Arn))
	}
	for _, tc := range []struct{ name, account, extID string }{
		{"wrong external id", "222222222222", "wrong-id"},
		{"no external id", "222222222222", ""},
		{"own external id required", "333333333333", "small-org-external-id"},
		{"missing role", "444444444444", "small-org-external-id"},
		{"not in the organization", "999999999999", "small-org-external-id"},
	} {
		_, err := assume(tc.account, tc.extID)
		if st, _ := httpStatus(err); err == nil || apiCode(t, err) != "AccessDenied" || st != 403 {
			t.Errorf("%s: %v; want 403 AccessDenied", tc.name, err)
		}
	}
	if _, err := assume("333333333333", "payments-only-id"); err != nil {
		t.Errorf("payments with its own external id: %v", err)
	}
	_, err = c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/InventoryScanner"), RoleSessionName: aws.String("x y")})
	if err == nil || apiCode(t, err) != "ValidationError" {
		t.Errorf("bad session name: %v; want ValidationError", err)
	}

	srv.AddFault(awssim.Fault{Op: "AssumeRole", Account: "222222222222", Error: "Throttling", Times: 2})
	before := srv.CallsFor("AssumeRole", "222222222222")
	if _, err := assume("222222222222", "small-org-external-id"); err != nil {
		t.Fatalf("AssumeRole after 2 Throttling: %v; want the retryer to absorb them", err)
	}
	if n := srv.CallsFor("AssumeRole", "222222222222") - before; n != 3 {
		t.Errorf("AssumeRole calls for a burst of 2: %d; want 3", n)
	}
	srv.AddFault(awssim.Fault{Op: "AssumeRole", Account: "111111111111", Error: "AccessDenied"})
	if _, err := assume("111111111111", "small-org-external-id"); err == nil || apiCode(t, err) != "AccessDenied" {
		t.Errorf("injected AccessDenied: %v", err)
	}

	// Issued credentials act in their account only: they may not assume roles.
	mc := cfg.Copy()
	mc.Credentials = memberCreds(cfg, "222222222222", "small-org-external-id")
	_, err = sts.NewFromConfig(mc).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::333333333333:role/InventoryScanner"), RoleSessionName: aws.String("chain"), ExternalId: aws.String("payments-only-id")})
	if err == nil || apiCode(t, err) != "AccessDenied" {
		t.Errorf("role chaining from member credentials: %v; want AccessDenied", err)
	}
	id, err := sts.NewFromConfig(mc).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "222222222222" {
		t.Errorf("GetCallerIdentity with member credentials: %v %+v; want account 222222222222", err, id)
	}
}

func TestExpiredCredentials(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	_, cfg := testenv.Sim(t, small(t), awssim.WithClock(clock))
	out, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/InventoryScanner"),
		RoleSessionName: aws.String("expiry"), ExternalId: aws.String("small-org-external-id"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Copy()
	c.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}, nil
	})
	s3c := s3.NewFromConfig(c)
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(16 * time.Minute)
	mu.Unlock()
	if _, err := s3c.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil || apiCode(t, err) != "ExpiredToken" {
		t.Errorf("ListBuckets after expiry: %v; want ExpiredToken", err)
	}
}

func TestS3Buckets(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t))
	prod := memberS3(t, cfg, "222222222222", "small-org-external-id")

	// Unpaginated: no BucketRegion. Paginated: BucketRegion on each.
	all, err := prod.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || len(all.Buckets) != 2 || all.Buckets[0].BucketRegion != nil || all.ContinuationToken != nil {
		t.Fatalf("unpaginated ListBuckets: %v %+v; want 2 buckets without BucketRegion", err, all)
	}
	var names, regions []string
	p := s3.NewListBucketsPaginator(prod, &s3.ListBucketsInput{}, func(o *s3.ListBucketsPaginatorOptions) { o.Limit = 1 })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page.Buckets {
			names, regions = append(names, aws.ToString(b.Name)), append(regions, aws.ToString(b.BucketRegion))
		}
	}
	if !slices.Equal(names, []string{"prod-web-assets", "prod-web-logs"}) || !slices.Equal(regions, []string{"eu-west-1", "us-east-1"}) {
		t.Errorf("paginated ListBuckets: %v %v", names, regions)
	}
	if n := srv.CallsFor("ListBuckets", "222222222222"); n != 3 {
		t.Errorf("ListBuckets calls: %d; want 3 (1 unpaginated + 2 pages)", n)
	}
	if _, err := prod.ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(10001)}); err == nil || apiCode(t, err) != "InvalidArgument" {
		t.Errorf("max-buckets 10001: %v; want InvalidArgument", err)
	}

	// The management credentials see the management account's buckets.
	mg, err := s3.NewFromConfig(cfg).ListBuckets(ctx, &s3.ListBucketsInput{MaxBuckets: aws.Int32(10)})
	if err != nil || len(mg.Buckets) != 1 || aws.ToString(mg.Buckets[0].Name) != "mgmt-inventory-reports" {
		t.Errorf("management ListBuckets: %v %+v", err, mg)
	}

	loc, err := prod.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("prod-web-assets")})
	if err != nil || loc.LocationConstraint != "eu-west-1" || srv.Calls("GetBucketLocation") != 1 {
		t.Errorf("GetBucketLocation: %v %+v", err, loc)
	}
	hb, err := prod.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("prod-web-logs")})
	if err != nil || aws.ToString(hb.BucketRegion) != "us-east-1" || srv.Calls("HeadBucket") != 1 {
		t.Errorf("HeadBucket: %v %+v", err, hb)
	}
}

func listInv(ctx context.Context, c *s3.Client, bucket, owner, region, token string) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	in := &s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String(bucket)}
	if owner != "" {
		in.ExpectedBucketOwner = aws.String(owner)
	}
	if token != "" {
		in.ContinuationToken = aws.String(token)
	}
	return c.ListBucketInventoryConfigurations(ctx, in, func(o *s3.Options) { o.Region = region })
}

func TestS3InventoryPagesAndPut(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t))
	pay := memberS3(t, cfg, "333333333333", "payments-only-id")
	p1, err := listInv(ctx, pay, "payments-ledger", "333333333333", "eu-central-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.InventoryConfigurationList) != 100 || !aws.ToBool(p1.IsTruncated) || p1.NextContinuationToken == nil || p1.ContinuationToken != nil {
		t.Fatalf("page 1: %d configs, truncated %v, next %v", len(p1.InventoryConfigurationList), aws.ToBool(p1.IsTruncated), p1.NextContinuationToken)
	}
	p2, err := listInv(ctx, pay, "payments-ledger", "333333333333", "eu-central-1", *p1.NextContinuationToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(p2.InventoryConfigurationList) != 50 || aws.ToBool(p2.IsTruncated) || p2.NextContinuationToken != nil || aws.ToString(p2.ContinuationToken) != *p1.NextContinuationToken {
		t.Fatalf("page 2: %d configs, truncated %v, token echoed %v", len(p2.InventoryConfigurationList), aws.ToBool(p2.IsTruncated), p2.ContinuationToken)
	}
	if aws.ToString(p2.InventoryConfigurationList[49].Id) != "gen-0150" {
		t.Errorf("last configuration %q; want gen-0150", aws.ToString(p2.InventoryConfigurationList[49].Id))
	}
	if _, err := listInv(ctx, pay, "payments-ledger", "", "eu-central-1", "garbage!"); err == nil || apiCode(t, err) != "InvalidArgument" {
		t.Errorf("bad token: %v; want InvalidArgument", err)
	}

	// PUT a configuration with SSE-S3, a filter and optional fields, then read it back.
	_, err = pay.PutBucketInventoryConfiguration(ctx, &s3.PutBucketInventoryConfigurationInput{
		Bucket: aws.String("payments-ledger"), Id: aws.String("aaa-first"),
		InventoryConfiguration: &s3types.InventoryConfiguration{
			Id: aws.String("aaa-first"), IsEnabled: aws.Bool(false),
			Filter: &s3types.InventoryFilter{Prefix: aws.String("tx/")},
			Destination: &s3types.InventoryDestination{S3BucketDestination: &s3types.InventoryS3BucketDestination{
				Bucket: aws.String("arn:aws:s3:::central"), Format: s3types.InventoryFormatOrc, AccountId: aws.String("111111111111"),
				Encryption: &s3types.InventoryEncryption{SSES3: &s3types.SSES3{}},
			}},
			Schedule:               &s3types.InventorySchedule{Frequency: s3types.InventoryFrequencyWeekly},
			IncludedObjectVersions: s3types.InventoryIncludedObjectVersionsCurrent,
			OptionalFields:         []s3types.InventoryOptionalField{s3types.InventoryOptionalFieldSize, "SomeFutureField"},
		},
	}, func(o *s3.Options) { o.Region = "eu-central-1" })
	if err != nil {
		t.Fatal(err)
	}
	p1, err = listInv(ctx, pay, "payments-ledger", "", "eu-central-1", "")
	if err != nil {
		t.Fatal(err)
	}
	c := p1.InventoryConfigurationList[0]
	d := c.Destination.S3BucketDestination
	if aws.ToString(c.Id) != "aaa-first" || aws.ToBool(c.IsEnabled) || c.Filter == nil || aws.ToString(c.Filter.Prefix) != "tx/" ||
		d.Format != s3types.InventoryFormatOrc || d.Encryption == nil || d.Encryption.SSES3 == nil || d.Encryption.SSEKMS != nil ||
		c.Schedule.Frequency != s3types.InventoryFrequencyWeekly || len(c.OptionalFields) != 2 || c.OptionalFields[1] != "SomeFutureField" {
		t.Errorf("configuration read back: %+v %+v", c, d)
	}
	if n := srv.Calls("PutBucketInventoryConfiguration"); n != 1 {
		t.Errorf("PutBucketInventoryConfiguration calls %d; want 1", n)
	}
}

func TestS3ScopingAndRegions(t *testing.T) {
	ctx := context.Background()
	fx := small(t)
	_, cfg := testenv.Sim(t, fx)
	prod := memberS3(t, cfg, "222222222222", "small-org-external-id")

	for _, tc := range []struct {
		name, bucket, owner, region string
		status                      int
		code, hdrRegion             string
	}{
		{"other account's bucket", "payments-ledger", "", "eu-central-1", 403, "AccessDenied", ""},
		{"owner mismatch", "prod-web-assets", "333333333333", "eu-west-1", 403, "AccessDenied", ""},
		{"no such bucket", "not-a-bucket", "", "eu-west-1", 404, "NoSuchBucket", ""},
		{"wrong region", "prod-web-assets", "222222222222", "us-east-1", 301, "PermanentRedirect", "eu-west-1"},
	} {
		_, err := listInv(ctx, prod, tc.bucket, tc.owner, tc.region, "")
		st, hdr := httpStatus(err)
		if err == nil || apiCode(t, err) != tc.code || st != tc.status || hdr.Get("X-Amz-Bucket-Region") != tc.hdrRegion {
			t.Errorf("%s: %v (status %d); want %d %s with x-amz-bucket-region %q", tc.name, err, st, tc.status, tc.code, tc.hdrRegion)
		}
	}

	fx.WrongRegion = "AuthorizationHeaderMalformed"
	_, cfg2 := testenv.Sim(t, fx)
	prod2 := memberS3(t, cfg2, "222222222222", "small-org-external-id")
	_, err := listInv(ctx, prod2, "prod-web-assets", "", "us-east-1", "")
	st, hdr := httpStatus(err)
	if err == nil || apiCode(t, err) != "AuthorizationHeaderMalformed" || st != 400 || hdr.Get("X-Amz-Bucket-Region") != "eu-west-1" {
		t.Errorf("wrong region (400 variant): %v; want 400 AuthorizationHeaderMalformed with x-amz-bucket-region eu-west-1", err)
	}
}

func TestS3Faults(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t)) // the fixture throttles prod-web-logs twice
	prod := memberS3(t, cfg, "222222222222", "small-org-external-id")
	out, err := listInv(ctx, prod, "prod-web-logs", "222222222222", "us-east-1", "")
	if err != nil || len(out.InventoryConfigurationList) != 1 {
		t.Fatalf("after a SlowDown burst of 2: %v; want the retryer to absorb it", err)
	}
	if n := srv.Calls("ListBucketInventoryConfigurations"); n != 3 {
		t.Errorf("calls for a burst of 2: %d; want 3", n)
	}

	srv.AddFault(awssim.Fault{Op: "ListBucketInventoryConfigurations", Bucket: "prod-web-logs", Error: "SlowDown", Times: 5})
	_, err = listInv(ctx, prod, "prod-web-logs", "", "us-east-1", "")
	if st, _ := httpStatus(err); err == nil || apiCode(t, err) != "SlowDown" || st != 503 {
		t.Errorf("a burst longer than the retries: %v; want 503 SlowDown", err)
	}
	srv.ClearFaults()

	for _, tc := range []struct {
		fault  string
		status int
		code   string
	}{
		{"AccessDenied", 403, "AccessDenied"},
		{"NoSuchBucket", 404, "NoSuchBucket"},
	} {
		srv.AddFault(awssim.Fault{Op: "ListBucketInventoryConfigurations", Account: "222222222222", Bucket: "prod-web-assets", Error: tc.fault, Times: 1})
		_, err := listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", "")
		if st, _ := httpStatus(err); err == nil || apiCode(t, err) != tc.code || st != tc.status {
			t.Errorf("fault %s: %v; want %d %s", tc.fault, err, tc.status, tc.code)
		}
	}
	if _, err := listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", ""); err != nil {
		t.Errorf("after single-use faults: %v; want success", err)
	}

	srv.AddFault(awssim.Fault{Op: "ListBucketInventoryConfigurations", Bucket: "prod-web-assets", Error: "TruncatedWithoutToken", Times: 1})
	out, err = listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", "")
	if err != nil || !aws.ToBool(out.IsTruncated) || out.NextContinuationToken != nil {
		t.Errorf("TruncatedWithoutToken: %v %+v", err, out)
	}
	srv.AddFault(awssim.Fault{Op: "ListBucketInventoryConfigurations", Bucket: "prod-web-assets", Error: "RepeatedToken", Times: 2})
	a, err := listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", aws.ToString(a.NextContinuationToken))
	if err != nil || !aws.ToBool(b.IsTruncated) || aws.ToString(b.NextContinuationToken) != aws.ToString(a.NextContinuationToken) {
		t.Errorf("RepeatedToken: %v; tokens %v then %v", err, a.NextContinuationToken, b.NextContinuationToken)
	}

	srv.AddFault(awssim.Fault{Op: "ListBuckets", Account: "222222222222", Error: "AccessDenied", Times: 1})
	if _, err := prod.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil || apiCode(t, err) != "AccessDenied" {
		t.Errorf("ListBuckets AccessDenied: %v", err)
	}
}

func TestCallsUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	srv, cfg := testenv.Sim(t, small(t), awssim.WithLatency(2*time.Millisecond, time.Millisecond))
	prod := memberS3(t, cfg, "222222222222", "small-org-external-id")
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			_, err := listInv(ctx, prod, "prod-web-assets", "", "eu-west-1", "")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, m := srv.Calls("ListBucketInventoryConfigurations"), srv.CallsFor("ListBucketInventoryConfigurations", "222222222222"); n != 40 || m != 40 {
		t.Errorf("calls %d (account %d); want 40", n, m)
	}
	if n := srv.CallsFor("AssumeRole", "222222222222"); n != 1 {
		t.Errorf("AssumeRole calls %d; want 1 (the credentials cache de-duplicates)", n)
	}
}

// TestEndpointFromEnvironment checks that the SDK's standard chain alone
// (AWS_ENDPOINT_URL, keys, region) reaches the simulator for every
// service, Organizations included.
func TestEndpointFromEnvironment(t *testing.T) {
	ctx := context.Background()
	srv, err := awssim.New(small(t))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	id, secret := srv.ManagementCredentials()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := organizations.NewFromConfig(cfg).ListRoots(ctx, &organizations.ListRootsInput{}); err != nil {
		t.Errorf("Organizations via AWS_ENDPOINT_URL: %v", err)
	}
	prod := s3.NewFromConfig(cfg.Copy(), func(o *s3.Options) {
		o.Credentials = memberCreds(cfg, "222222222222", "small-org-external-id")
		o.UsePathStyle = true
	})
	if _, err := listInv(ctx, prod, "prod-web-assets", "222222222222", "eu-west-1", ""); err != nil {
		t.Errorf("STS + S3 via AWS_ENDPOINT_URL: %v", err)
	}
	_, err = kms.NewFromConfig(cfg).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("1234abcd-12ab-34cd-56ef-1234567890ab")})
	var nf *kmstypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("KMS via AWS_ENDPOINT_URL: %v; want NotFoundException (the small organization has no keys)", err)
	}
	if srv.Calls("ListRoots") != 1 || srv.Calls("AssumeRole") != 1 || srv.CallsFor("DescribeKey", "111111111111") != 1 {
		t.Errorf("calls %v", srv.AllCalls())
	}
}

func TestLatency(t *testing.T) {
	srv, cfg := testenv.Sim(t, small(t), awssim.WithLatency(30*time.Millisecond, 0))
	began := time.Now()
	if _, err := organizations.NewFromConfig(cfg).ListRoots(context.Background(), &organizations.ListRootsInput{}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 30*time.Millisecond {
		t.Errorf("a call with 30ms latency took %s", d)
	}
	_ = srv
}

// TestGoFixture builds an organization in Go, as the demo and the
// benchmark do.
func TestGoFixture(t *testing.T) {
	fx := &awssim.Fixture{Organization: awssim.Organization{
		Role: &awssim.Role{Name: "Scanner"},
		Accounts: []awssim.Account{
			{ID: "100000000001", Buckets: []awssim.Bucket{{Name: "one-bucket", Region: "ap-southeast-2", Generated: 3}}},
		},
	}}
	srv, cfg := testenv.Sim(t, fx)
	prov := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), "arn:aws:iam::100000000001:role/Scanner", func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "go-fixture" })
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(prov)
	out, err := listInv(context.Background(), s3.NewFromConfig(c), "one-bucket", "100000000001", "ap-southeast-2", "")
	if err != nil || len(out.InventoryConfigurationList) != 3 {
		t.Fatalf("generated configurations: %v %+v", err, out)
	}
	if d := out.InventoryConfigurationList[0].Destination.S3BucketDestination; aws.ToString(d.AccountId) != "100000000001" || d.Encryption.SSES3 == nil {
		t.Errorf("default generated configuration: %+v", d)
	}
	if srv.ManagementAccount() != "100000000001" {
		t.Errorf("management account %q; want the first account", srv.ManagementAccount())
	}
}
