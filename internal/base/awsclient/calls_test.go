package awsclient_test

import (
	"context"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/standin/awssim"
)

// TestCallStatsCountAttemptsAndThrottles: every attempt counts once under
// its service and operation, retries included; only throttle errors count
// as throttled (a 500 does not); concurrent clients count without a race.
func TestCallStatsCountAttemptsAndThrottles(t *testing.T) {
	isolate(t)
	fx := &awssim.Fixture{Organization: awssim.Organization{Accounts: []awssim.Account{{ID: "111111111111"}}}}
	srv, err := awssim.New(fx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddFault(awssim.Fault{Op: "GetCallerIdentity", Error: "Throttling", Times: 2})
	srv.AddFault(awssim.Fault{Op: "ListRoots", Error: awssim.FaultInternalError, Times: 1})

	stats := awsclient.NewCallStats()
	key, secret := srv.ManagementCredentials()
	cfg, err := awsclient.Load(context.Background(),
		awsclient.WithCallStats(stats),
		awsclient.WithRetry(awsclient.RetryOptions{Backoff: time.Millisecond, ThrottleBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}),
		awsclient.WithLoadOptions(awsconfig.WithRegion("us-east-1"), awsconfig.WithBaseEndpoint(srv.URL()),
			awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, ""))))
	if err != nil {
		t.Fatal(err)
	}
	before := stats.Snapshot()
	if _, err := awsclient.Partition(context.Background(), sts.NewFromConfig(cfg)); err != nil {
		t.Fatal(err)
	}
	orgs := organizations.NewFromConfig(cfg)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := orgs.ListRoots(context.Background(), &organizations.ListRootsInput{}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	got := awsclient.Since(stats.Snapshot(), before)
	want := []awsclient.APICalls{
		{API: awsclient.API{Service: "Organizations", Operation: "ListRoots"}, Calls: 9},
		{API: awsclient.API{Service: "STS", Operation: "GetCallerIdentity"}, Calls: 3, Throttled: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("counts %+v; want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("counts[%d] = %+v; want %+v", i, got[i], want[i])
		}
	}
	if n := srv.Calls("GetCallerIdentity") + srv.Calls("ListRoots"); n != 12 {
		t.Errorf("the simulator received %d requests; the counts say 12", n)
	}
	if again := awsclient.Since(stats.Snapshot(), stats.Snapshot()); len(again) != 0 {
		t.Errorf("Since of two equal snapshots = %+v; want nothing", again)
	}
}
