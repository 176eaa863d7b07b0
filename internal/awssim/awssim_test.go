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
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3inv/scanner/internal/awssim"
)

// fastRetries keeps the SDK's standard retryer (same codes, same quota)
// with a short back-off, so throttling tests do not wait seconds.
func fastRetries(o *awsconfig.LoadOptions) error {
	o.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.Backoff = retry.NewExponentialJitterBackoff(5 * time.Millisecond)
		})
	}
	return nil
}

func start(t *testing.T, fx *awssim.Fixture, opts ...awssim.Option) (*awssim.Server, aws.Config) {
	t.Helper()
	srv, err := awssim.New(fx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(context.Background(), "us-east-1", fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

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
	srv, cfg := start(t, small(t))
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
	_ = slices.Contains[[]string]
	_ = strings.Contains
	_ = sync.Mutex{}
	_ = apiCode
	_ = httpStatus
}
