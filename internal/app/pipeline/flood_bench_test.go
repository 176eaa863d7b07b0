//go:build unix

package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/liveheap"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// floodAccount is the one account of floodOrg.
const floodAccount = "677777777777"

// floodOrg is one account of buckets buckets, each with configs
// configurations that fail two configuration rules apiece: reports not
// encrypted (INV-101) and no destination AccountId (INV-103), both HIGH.
func floodOrg(buckets, configs int) *awssim.Fixture {
	bad := awssim.InventoryConfig{ID: "bad", Enabled: true, Frequency: "Daily", Versions: "All",
		Destination: awssim.Destination{Bucket: "arn:aws:s3:::flood-sink", Format: "CSV"}}
	a := awssim.Account{ID: floodAccount}
	for b := range buckets {
		a.Buckets = append(a.Buckets, awssim.Bucket{Name: fmt.Sprintf("flood-%06d", b),
			Inventory: []awssim.InventoryConfig{bad}, Generated: configs - 1})
	}
	return &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: fanRole, ExternalID: fanExternal},
		Accounts: []awssim.Account{a}}}
}

// floodHeap is what one flooded run cost.
type floodHeap struct {
	p95, max float64 // the live heap above the heap before the run, MiB
	findings int     // the run's findings
	written  int64   // items written to the table
	wall     time.Duration
}

// floodRun runs the production pipeline (the scan, the default policy
// without destination checks, the DynamoDB store on a fresh dynalite
// table and the log of its transitions) over floodOrg(buckets, configs),
// served by a process of its own, and samples its live heap.
func floodRun(b *testing.B, endpoint string, buckets, configs int) floodHeap {
	b.Helper()
	ctx := context.Background()
	sim := testenv.SimProcess(b, fmt.Sprintf("flood:%d,%d", buckets, configs))
	awsCfg, err := sim.AWSConfig(ctx, "us-east-1",
		awsconfig.WithHTTPClient(awsclient.NewHTTPClient(scan.Options{}.MaxInFlight(), awsclient.DefaultResponseTimeout)),
		awsconfig.WithRetryer(func() aws.Retryer { return awsclient.NewRetryer(awsclient.RetryOptions{}) }))
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = fanRole, fanExternal
	cfg.AccountSource, cfg.Accounts = config.SourceStatic, []string{floodAccount}
	log := &report.TransitionLog{}
	store, err := dynamo.New(testenv.DynamoClient(endpoint), fmt.Sprintf("flood-%d-%d-%d", buckets, configs, time.Now().UnixNano()),
		report.StoreOptions{OnTransition: log.Record})
	if err != nil {
		b.Fatal(err)
	}
	if err := store.EnsureTable(ctx); err != nil {
		b.Fatal(err)
	}
	s := pipeline.Settings{Config: cfg, Policy: fanPolicy(b), Trigger: "schedule", Sink: store, Transitions: log,
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){awsclient.S3PathStyle}}}
	base := liveheap.Now()
	stop := liveheap.Sample(50 * time.Millisecond)
	began := time.Now()
	sum, err := pipeline.Run(ctx, s)
	wall := time.Since(began)
	samples := stop()
	if err != nil {
		b.Fatal(err)
	}
	if sum.AccountsComplete != 1 || sum.Buckets != buckets || sum.Configs != buckets*configs {
		b.Fatalf("%d accounts complete, %d buckets, %d configurations read; want 1, %d, %d", sum.AccountsComplete, sum.Buckets, sum.Configs, buckets, buckets*configs)
	}
	// The exact property: each bucket has its two findings a
	// configuration up to the limit, and one SCAN-006 for the rest.
	perBucket, folds := 2*configs, 0
	if perBucket > rules.DefaultFindingsPerBucket {
		perBucket, folds = rules.DefaultFindingsPerBucket+1, buckets
	}
	if sum.Findings() != buckets*perBucket || sum.ByRule["SCAN-006"] != folds {
		b.Fatalf("%d findings, %d of them SCAN-006; want %d, %d", sum.Findings(), sum.ByRule["SCAN-006"], buckets*perBucket, folds)
	}
	slices.Sort(samples)
	above := func(v uint64) float64 { return float64(v-min(v, base)) / (1 << 20) }
	return floodHeap{p95: above(samples[len(samples)*95/100]), max: above(samples[len(samples)-1]),
		findings: sum.Findings(), written: store.Stats().Writes(), wall: wall}
}

// BenchmarkFindingsFlood measures the live heap of a run over one account
// of 1,000 buckets with 1,000 failing configurations each (2,000,000
// findings without the policy's limit) against one of 1,000 buckets with
// one, through the production pipeline on a fresh findings table (every
// finding is new, so every one is a change the run streams to its events
// and Security Hub), with the simulated organization in a process of its
// own. The exact property, asserted: each bucket has its 100 most severe
// findings and one SCAN-006, and the run completes. The heap is reported,
// not asserted (docs/reliability.md, "A hostile member account").
func BenchmarkFindingsFlood(b *testing.B) {
	sizes := [][2]int{{1000, 1}, {1000, 1000}}
	for range b.N {
		endpoint := testenv.Dynalite(b)
		floodRun(b, endpoint, 100, 1) // the process's and the SDK's one-time allocations
		var hs []floodHeap
		for _, n := range sizes {
			h := floodRun(b, endpoint, n[0], n[1])
			hs = append(hs, h)
			b.Logf("one account, %d buckets × %d configurations: %d findings, %d items written in %s; the run's live heap %.1f MiB (95th percentile), %.1f MiB at most",
				n[0], n[1], h.findings, h.written, h.wall.Round(time.Second), h.p95, h.max)
		}
		more := float64(hs[1].findings-hs[0].findings) / 1024
		b.Logf("memory ratio, %d × %d against %d × %d: %.2f of the 95th percentiles, %.2f of the maxima, for %.1f times the findings: %.2f KiB of the maximum a finding",
			sizes[1][0], sizes[1][1], sizes[0][0], sizes[0][1], hs[1].p95/max(hs[0].p95, 0.001), hs[1].max/max(hs[0].max, 0.001),
			float64(hs[1].findings)/float64(hs[0].findings), (hs[1].max-hs[0].max)/max(more, 0.001))
		b.ReportMetric(hs[1].max, "heap-MiB/1000x1000")
		b.ReportMetric(hs[1].max/max(hs[0].max, 0.001), "x-heap-1000x1000-vs-1000x1")
	}
}
