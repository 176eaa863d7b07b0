package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// fakeAccount is one account's S3 as the fake connector serves it.
type fakeAccount struct {
	roleErr    error
	listErr    error
	buckets    map[string]int   // bucket name -> number of configurations
	bucketErrs map[string]error // bucket name -> error of its inventory listing
	delay      time.Duration    // per inventory call
	gauge      *gauge           // counts inventory calls in flight, when set
}

// gauge tracks how many calls are in flight and the most at once.
type gauge struct {
	mu        sync.Mutex
	cur, peak int
}

func (g *gauge) add(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.cur += d
	g.peak = max(g.peak, g.cur)
}

type fakeConnector map[string]*fakeAccount

func (c fakeConnector) Connect(_ context.Context, acct inventory.Account) (S3API, error) {
	a, ok := c[acct.ID]
	if !ok {
		return nil, fmt.Errorf("unknown account %s", acct.ID)
	}
	if a.roleErr != nil {
		return nil, a.roleErr
	}
	return &fakeS3{a}, nil
}

type fakeS3 struct{ a *fakeAccount }

func (f *fakeS3) ListBuckets(_ context.Context, in *s3.ListBucketsInput, _ ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	if f.a.listErr != nil {
		return nil, f.a.listErr
	}
	names := make([]string, 0, len(f.a.buckets))
	for n := range f.a.buckets {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if tok := aws.ToString(in.ContinuationToken); tok != "" {
		start = sort.SearchStrings(names, tok)
	}
	end := min(start+int(aws.ToInt32(in.MaxBuckets)), len(names))
	out := &s3.ListBucketsOutput{}
	for _, n := range names[start:end] {
		out.Buckets = append(out.Buckets, s3types.Bucket{Name: aws.String(n), BucketRegion: aws.String("eu-west-1")})
	}
	if end < len(names) {
		out.ContinuationToken = aws.String(names[end])
	}
	return out, nil
}

func (f *fakeS3) ListBucketInventoryConfigurations(ctx context.Context, in *s3.ListBucketInventoryConfigurationsInput, _ ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	if f.a.gauge != nil {
		f.a.gauge.add(1)
		defer f.a.gauge.add(-1)
	}
	if f.a.delay > 0 {
		select {
		case <-time.After(f.a.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	b := aws.ToString(in.Bucket)
	if err := f.a.bucketErrs[b]; err != nil {
		return nil, err
	}
	out := &s3.ListBucketInventoryConfigurationsOutput{IsTruncated: aws.Bool(false)}
	for i := range f.a.buckets[b] {
		out.InventoryConfigurationList = append(out.InventoryConfigurationList, s3types.InventoryConfiguration{Id: aws.String(fmt.Sprint(i))})
	}
	return out, nil
}

// recorder is a Handler that keeps everything and checks the ordering
// promise: no bucket of an account after the account is closed.
type recorder struct {
	mu       sync.Mutex
	buckets  map[string][]inventory.BucketResult
	accounts map[string]inventory.AccountResult
	failPut  map[string]bool // bucket names whose Bucket call fails
	late     []string
}

func newRecorder() *recorder {
	return &recorder{buckets: map[string][]inventory.BucketResult{}, accounts: map[string]inventory.AccountResult{}}
}

func (r *recorder) Bucket(_ context.Context, b inventory.BucketResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, closed := r.accounts[b.Account.ID]; closed {
		r.late = append(r.late, b.Bucket.Name)
	}
	if r.failPut[b.Bucket.Name] {
		return errors.New("write failed")
	}
	r.buckets[b.Account.ID] = append(r.buckets[b.Account.ID], b)
	return nil
}

func (r *recorder) Account(_ context.Context, a inventory.AccountResult) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accounts[a.Account.ID] = a
	return nil
}

func buckets(n, configs int) map[string]int {
	m := map[string]int{}
	for i := range n {
		m[fmt.Sprintf("bucket-%04d", i)] = configs
	}
	return m
}

func accounts(ids ...string) []inventory.Account {
	out := make([]inventory.Account, len(ids))
	for i, id := range ids {
		out[i] = inventory.Account{ID: id}
	}
	return out
}

func TestScanRecordsEveryOutcome(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed"}
	conn := fakeConnector{
		"111111111111": {buckets: buckets(2500, 2)},
		"222222222222": {roleErr: denied},
		"333333333333": {listErr: denied},
		"444444444444": {buckets: buckets(3, 1), bucketErrs: map[string]error{"bucket-0001": &smithy.GenericAPIError{Code: "NoSuchBucket"}}},
	}
	s, err := New(conn, Options{PageSize: 1000, AccountConcurrency: 2, BucketConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	if err := s.Scan(context.Background(), accounts("111111111111", "222222222222", "333333333333", "444444444444"), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.late) > 0 {
		t.Errorf("buckets delivered after their account closed: %v", rec.late)
	}
	want := map[string]struct {
		status          inventory.AccountStatus
		code            string
		buckets, visits int
		configs         int
		unreadable      []string
	}{
		"111111111111": {inventory.AccountComplete, "", 2500, 2500, 5000, nil},
		"222222222222": {inventory.AccountRoleUnavailable, "AccessDenied", 0, 0, 0, nil},
		"333333333333": {inventory.AccountBucketsUnlisted, "AccessDenied", 0, 0, 0, nil},
		"444444444444": {inventory.AccountComplete, "", 3, 3, 2, []string{"bucket-0001"}},
	}
	for id, w := range want {
		got, ok := rec.accounts[id]
		if !ok {
			t.Errorf("account %s never closed", id)
			continue
		}
		code := ""
		if got.Failure != nil {
			code = got.Failure.Code
		}
		if got.Status != w.status || code != w.code || got.Buckets != w.buckets || got.Visited != w.visits ||
			got.Configs != w.configs || !slices.Equal(got.Unreadable, w.unreadable) {
			t.Errorf("account %s = %s %q buckets=%d visited=%d configs=%d unreadable=%v; want %+v",
				id, got.Status, code, got.Buckets, got.Visited, got.Configs, got.Unreadable, w)
		}
		if got.StartedAt.IsZero() || got.FinishedAt.Before(got.StartedAt) {
			t.Errorf("account %s times %v..%v", id, got.StartedAt, got.FinishedAt)
		}
	}
	if n := len(rec.buckets["111111111111"]); n != 2500 {
		t.Errorf("bucket results of 111111111111 = %d, want 2500", n)
	}
	for _, b := range rec.buckets["444444444444"] {
		if (b.Bucket.Name == "bucket-0001") != (b.Failure != nil) {
			t.Errorf("bucket %s failure = %+v", b.Bucket.Name, b.Failure)
		}
		if b.Bucket.Region != "eu-west-1" {
			t.Errorf("bucket %s region = %q, want the BucketRegion of ListBuckets", b.Bucket.Name, b.Bucket.Region)
		}
	}
}

func TestScanHandlerErrorMakesTheAccountIncomplete(t *testing.T) {
	conn := fakeConnector{"111111111111": {buckets: buckets(5, 1)}}
	s, _ := New(conn, Options{})
	rec := newRecorder()
	rec.failPut = map[string]bool{"bucket-0002": true}
	err := s.Scan(context.Background(), accounts("111111111111"), rec)
	if err == nil {
		t.Fatal("Scan returned no error for a failed write")
	}
	got := rec.accounts["111111111111"]
	if got.Status != inventory.AccountIncomplete || got.Failure.Code != "WriteFailed" || got.Visited != 4 {
		t.Errorf("account = %s %+v visited=%d, want INCOMPLETE WriteFailed visited=4", got.Status, got.Failure, got.Visited)
	}
}

func TestScanStopsBeforeTheDeadline(t *testing.T) {
	conn := fakeConnector{}
	var ids []string
	for i := range 6 {
		id := fmt.Sprintf("%012d", i+1)
		ids = append(ids, id)
		conn[id] = &fakeAccount{buckets: buckets(40, 1), delay: 20 * time.Millisecond}
	}
	// 6 accounts × 40 buckets × 20 ms at 1×2 concurrency needs ~2.4 s; the
	// AWS side gets 300 ms - 100 ms of margin.
	s, _ := New(conn, Options{AccountConcurrency: 1, BucketConcurrency: 2, DeadlineMargin: 100 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	rec := newRecorder()
	if err := s.Scan(ctx, accounts(ids...), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.accounts) != len(ids) {
		t.Fatalf("closed %d accounts, want all %d", len(rec.accounts), len(ids))
	}
	incomplete := 0
	for _, id := range ids {
		a := rec.accounts[id]
		switch a.Status {
		case inventory.AccountIncomplete:
			incomplete++
			if a.Failure.Code != "Deadline" {
				t.Errorf("account %s failure = %+v, want Deadline", id, a.Failure)
			}
		case inventory.AccountComplete:
		default:
			t.Errorf("account %s status = %s", id, a.Status)
		}
		if a.Visited != len(rec.buckets[id]) {
			t.Errorf("account %s visited %d but delivered %d buckets", id, a.Visited, len(rec.buckets[id]))
		}
		for _, b := range rec.buckets[id] {
			if b.Failure != nil {
				t.Errorf("bucket %s/%s delivered as unreadable (%+v); a deadline is not unreadable", id, b.Bucket.Name, b.Failure)
			}
		}
	}
	if incomplete == 0 {
		t.Error("no account was cut short by the deadline")
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{AccountConcurrency: -1}, {BucketConcurrency: 1000}, {PageSize: 20000}, {DeadlineMargin: -time.Second}} {
		if _, err := New(fakeConnector{}, o); err == nil {
			t.Errorf("New(%+v) accepted bad options", o)
		}
	}
}

// TestScanSharesOnePool: requests in flight never exceed
// AccountConcurrency × BucketConcurrency in all, and one account may use
// the places the others leave free.
func TestScanSharesOnePool(t *testing.T) {
	g := &gauge{}
	conn := fakeConnector{
		"111111111111": {buckets: buckets(60, 1), delay: 10 * time.Millisecond, gauge: g},
		"222222222222": {buckets: buckets(2, 1), delay: 10 * time.Millisecond, gauge: g},
		"333333333333": {buckets: buckets(40, 1), delay: 10 * time.Millisecond, gauge: g},
	}
	s, err := New(conn, Options{AccountConcurrency: 2, BucketConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	if err := s.Scan(context.Background(), accounts("111111111111", "222222222222", "333333333333"), rec); err != nil {
		t.Fatal(err)
	}
	if g.peak > 8 {
		t.Errorf("peak in flight %d; want at most 2×4", g.peak)
	}
	if g.peak <= 4 {
		t.Errorf("peak in flight %d; want more than one account's 4 (the pool is shared)", g.peak)
	}
	for id, n := range map[string]int{"111111111111": 60, "222222222222": 2, "333333333333": 40} {
		if a := rec.accounts[id]; a.Status != inventory.AccountComplete || a.Visited != n || len(rec.buckets[id]) != n {
			t.Errorf("account %s: %s visited %d delivered %d; want COMPLETE %d", id, a.Status, a.Visited, len(rec.buckets[id]), n)
		}
	}
	if len(rec.late) > 0 {
		t.Errorf("buckets after their account closed: %v", rec.late)
	}
	if (Options{AccountConcurrency: 3, BucketConcurrency: 5}).MaxInFlight() != 15 || (Options{}).MaxInFlight() != 128 {
		t.Error("MaxInFlight: want AccountConcurrency × BucketConcurrency (default 8 × 16)")
	}
}
