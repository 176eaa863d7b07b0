package scan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// page is one scripted ListBucketInventoryConfigurations answer.
type page struct {
	ids       []string
	truncated bool
	next      string
	err       error
}

// pagedS3 answers inventory listings from a script of pages keyed by the
// continuation token they answer ("" for the first request), and records
// the requests.
type pagedS3 struct {
	pages    map[string]page
	requests []string // continuation tokens sent
	regions  []string // region of each request
}

func (f *pagedS3) ListBuckets(context.Context, *s3.ListBucketsInput, ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	return nil, errors.New("not scripted")
}

func (f *pagedS3) ListBucketInventoryConfigurations(_ context.Context, in *s3.ListBucketInventoryConfigurationsInput, optFns ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	var o s3.Options
	for _, fn := range optFns {
		fn(&o)
	}
	tok := aws.ToString(in.ContinuationToken)
	f.requests = append(f.requests, tok)
	f.regions = append(f.regions, o.Region)
	p, ok := f.pages[tok]
	if !ok {
		return nil, fmt.Errorf("unexpected token %q", tok)
	}
	if p.err != nil {
		return nil, p.err
	}
	out := &s3.ListBucketInventoryConfigurationsOutput{IsTruncated: aws.Bool(p.truncated)}
	if p.next != "" {
		out.NextContinuationToken = aws.String(p.next)
	}
	for _, id := range p.ids {
		out.InventoryConfigurationList = append(out.InventoryConfigurationList, s3types.InventoryConfiguration{Id: aws.String(id), IsEnabled: aws.Bool(true)})
	}
	return out, nil
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func TestListInventoryPagination(t *testing.T) {
	tests := []struct {
		name     string
		pages    map[string]page
		wantN    int
		wantReqs int
		wantErr  error
	}{
		{
			name:     "one page",
			pages:    map[string]page{"": {ids: ids("a", 3)}},
			wantN:    3,
			wantReqs: 1,
		},
		{
			name: "three pages",
			pages: map[string]page{
				"":   {ids: ids("a", 100), truncated: true, next: "t1"},
				"t1": {ids: ids("b", 100), truncated: true, next: "t2"},
				"t2": {ids: ids("c", 7)},
			},
			wantN:    207,
			wantReqs: 3,
		},
		{
			name: "empty page with a token",
			pages: map[string]page{
				"":   {truncated: true, next: "t1"},
				"t1": {ids: ids("a", 2)},
			},
			wantN:    2,
			wantReqs: 2,
		},
		{
			name:     "no configurations",
			pages:    map[string]page{"": {}},
			wantN:    0,
			wantReqs: 1,
		},
		{
			name:     "truncated without a token",
			pages:    map[string]page{"": {ids: ids("a", 100), truncated: true}},
			wantReqs: 1,
			wantErr:  ErrPagination,
		},
		{
			name: "repeated token",
			pages: map[string]page{
				"":   {ids: ids("a", 100), truncated: true, next: "t1"},
				"t1": {ids: ids("b", 100), truncated: true, next: "t1"},
			},
			wantReqs: 2,
			wantErr:  ErrPagination,
		},
		{
			name: "error on a later page",
			pages: map[string]page{
				"":   {ids: ids("a", 100), truncated: true, next: "t1"},
				"t1": {err: &smithy.GenericAPIError{Code: "AccessDenied"}},
			},
			wantReqs: 2,
			wantErr:  &smithy.GenericAPIError{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &pagedS3{pages: tt.pages}
			got, err := listInventory(context.Background(), f, s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String("b")})
			if len(f.requests) != tt.wantReqs {
				t.Errorf("requests = %d (%q), want %d", len(f.requests), f.requests, tt.wantReqs)
			}
			if tt.wantErr != nil {
				var ae *smithy.GenericAPIError
				if !errors.Is(err, tt.wantErr) && !(errors.As(tt.wantErr, &ae) && errors.As(err, &ae)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("got %d configurations with an error, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantN {
				t.Errorf("configurations = %d, want %d", len(got), tt.wantN)
			}
		})
	}
}

func TestListInventoryThousandConfigurations(t *testing.T) {
	pages := map[string]page{}
	for i := range 10 {
		tok, next := "", fmt.Sprintf("t%d", i+1)
		if i > 0 {
			tok = fmt.Sprintf("t%d", i)
		}
		p := page{ids: ids(fmt.Sprintf("p%d-", i), 100), truncated: i < 9}
		if p.truncated {
			p.next = next
		}
		pages[tok] = p
	}
	f := &pagedS3{pages: pages}
	got, err := listInventory(context.Background(), f, s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String("b")})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1000 || len(f.requests) != 10 {
		t.Fatalf("got %d configurations in %d requests, want 1000 in 10", len(got), len(f.requests))
	}
	seen := map[string]bool{}
	for _, c := range got {
		if seen[*c.Id] {
			t.Fatalf("configuration %s returned twice", *c.Id)
		}
		seen[*c.Id] = true
	}
}

func TestListInventoryEndlessTokens(t *testing.T) {
	f := &endlessS3{}
	_, err := listInventory(context.Background(), f, s3.ListBucketInventoryConfigurationsInput{Bucket: aws.String("b")})
	if !errors.Is(err, ErrPagination) {
		t.Fatalf("err = %v, want ErrPagination", err)
	}
	if f.calls != maxInventoryPages {
		t.Errorf("calls = %d, want %d", f.calls, maxInventoryPages)
	}
}

// endlessS3 always answers a truncated page with a fresh token.
type endlessS3 struct {
	pagedS3
	calls int
}

func (f *endlessS3) ListBucketInventoryConfigurations(context.Context, *s3.ListBucketInventoryConfigurationsInput, ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	f.calls++
	return &s3.ListBucketInventoryConfigurationsOutput{IsTruncated: aws.Bool(true), NextContinuationToken: aws.String(fmt.Sprint("t", f.calls))}, nil
}

// redirect returns the error S3 gives for a bucket in another region.
func redirect(status int, code, region string) error {
	h := http.Header{}
	h.Set("x-amz-bucket-region", region)
	return &smithy.OperationError{ServiceID: "S3", OperationName: "ListBucketInventoryConfigurations", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: h}},
		Err:      &smithy.GenericAPIError{Code: code},
	}}
}

func TestReadBucketRetriesInTheRegionS3Names(t *testing.T) {
	for _, tt := range []struct {
		status int
		code   string
	}{{301, "PermanentRedirect"}, {400, "AuthorizationHeaderMalformed"}} {
		t.Run(tt.code, func(t *testing.T) {
			f := &regionalS3{home: "eu-west-1", status: tt.status, code: tt.code}
			res, err := readBucket(context.Background(), f, inventory.Account{ID: "111111111111"}, inventory.Bucket{Name: "b", Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Bucket.Region != "eu-west-1" || len(res.Configs) != 1 {
				t.Errorf("result = %+v, want region eu-west-1 and 1 configuration", res)
			}
			if want := []string{"us-east-1", "eu-west-1"}; fmt.Sprint(f.regions) != fmt.Sprint(want) {
				t.Errorf("regions called = %v, want %v", f.regions, want)
			}
		})
	}
}

func TestReadBucketRetriesOnlyOnce(t *testing.T) {
	f := &regionalS3{home: "nowhere", status: 301, code: "PermanentRedirect", lie: true}
	res, err := readBucket(context.Background(), f, inventory.Account{ID: "111111111111"}, inventory.Bucket{Name: "b", Region: "us-east-1"})
	if err == nil || res.Failure == nil || res.Failure.Code != "PermanentRedirect" {
		t.Fatalf("result = %+v, err = %v; want a PermanentRedirect failure", res, err)
	}
	if len(f.regions) != 2 {
		t.Errorf("calls = %d, want 2 (one retry)", len(f.regions))
	}
}

// regionalS3 answers only in its home region and redirects elsewhere; with
// lie set it always names a region it then refuses too.
type regionalS3 struct {
	pagedS3
	home, code string
	status     int
	lie        bool
}

func (f *regionalS3) ListBucketInventoryConfigurations(_ context.Context, in *s3.ListBucketInventoryConfigurationsInput, optFns ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	var o s3.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.regions = append(f.regions, o.Region)
	if aws.ToString(in.ExpectedBucketOwner) != "111111111111" {
		return nil, fmt.Errorf("expected bucket owner %q not sent", aws.ToString(in.ExpectedBucketOwner))
	}
	if o.Region != f.home || f.lie {
		return nil, redirect(f.status, f.code, f.home)
	}
	return &s3.ListBucketInventoryConfigurationsOutput{IsTruncated: aws.Bool(false),
		InventoryConfigurationList: []s3types.InventoryConfiguration{{Id: aws.String("x")}}}, nil
}

func TestToConfig(t *testing.T) {
	c := s3types.InventoryConfiguration{
		Id:                     aws.String("daily"),
		IsEnabled:              aws.Bool(true),
		Filter:                 &s3types.InventoryFilter{Prefix: aws.String("logs/")},
		IncludedObjectVersions: s3types.InventoryIncludedObjectVersionsAll,
		Schedule:               &s3types.InventorySchedule{Frequency: s3types.InventoryFrequencyWeekly},
		OptionalFields:         []s3types.InventoryOptionalField{"Size", "SomeFutureField"},
		Destination: &s3types.InventoryDestination{S3BucketDestination: &s3types.InventoryS3BucketDestination{
			AccountId:  aws.String("222222222222"),
			Bucket:     aws.String("arn:aws:s3:::dest"),
			Format:     s3types.InventoryFormatParquet,
			Prefix:     aws.String("inv"),
			Encryption: &s3types.InventoryEncryption{SSEKMS: &s3types.SSEKMS{KeyId: aws.String("arn:aws:kms:eu-west-1:222222222222:key/k")}},
		}},
	}
	want := inventory.Config{
		ID: "daily", Enabled: true, FilterPrefix: "logs/", Frequency: "Weekly", IncludedVersions: "All",
		OptionalFields: []string{"Size", "SomeFutureField"},
		Destination: inventory.Destination{AccountID: "222222222222", BucketARN: "arn:aws:s3:::dest", Format: "Parquet",
			Prefix: "inv", Encryption: inventory.EncryptionSSEKMS, KMSKeyID: "arn:aws:kms:eu-west-1:222222222222:key/k"},
	}
	if got := toConfig(c); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("toConfig =\n%+v\nwant\n%+v", got, want)
	}
	c.Destination.S3BucketDestination.Encryption = &s3types.InventoryEncryption{SSES3: &s3types.SSES3{}}
	if got := toConfig(c).Destination.Encryption; got != inventory.EncryptionSSES3 {
		t.Errorf("SSE-S3 encryption = %q", got)
	}
	c.Destination = nil
	c.Filter = nil
	if got := toConfig(c); got.FilterPrefix != "" || got.Destination.BucketARN != "" {
		t.Errorf("nil filter and destination = %+v", got)
	}
}
