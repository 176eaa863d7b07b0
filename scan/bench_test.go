//go:build unix

package scan_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/liveheap"
	"github.com/s3inv/scanner/scan"
)

// benchLatency is the simulated round trip of every AWS call. It is above
// the CPU the SDK and the simulator spend per call on a small machine
// (about 0.4 ms each, both in this process, on 2 cores with 128 requests
// in flight: at 20 ms the CPU, not the schedule, would be the limit), and
// close to what S3 and STS answer in from inside a region.
const benchLatency = 50 * time.Millisecond

// benchLogArchive is the account that holds the bench's destinations.
const benchLogArchive = "599999999999"

// benchOrg builds an organization of accounts × bucketsPerAccount and a
// log-archive account. Every bucket has one configuration (one page),
// except the first bucket of every tenth account, which has 150 (two
// pages). Every configuration delivers, SSE-KMS, to the log archive's
// bucket and key of its bucket's region; the first configuration of each
// account's second bucket has a fresh report there. It returns the
// fixture and the minimum number of calls of each API (see
// BenchmarkScan).
func benchOrg(accounts, bucketsPerAccount int) (*awssim.Fixture, map[string]int) {
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}}}
	regions := []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"}
	archive := awssim.Account{ID: benchLogArchive, Name: "log-archive"}
	fresh := time.Now().UTC().Add(-6 * time.Hour)
	for i, r := range regions {
		name := "bench-inventory-" + r
		archive.Buckets = append(archive.Buckets, awssim.Bucket{Name: name, Region: r,
			Policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + name + `/*","Condition":{"StringLike":{"aws:SourceAccount":"5*"}}}]}`})
		archive.Keys = append(archive.Keys, awssim.Key{ID: fmt.Sprintf("0000000%d-1111-2222-3333-444444444444", i), Region: r})
	}
	minimum := map[string]int{
		"AssumeRole":  accounts + 1,
		"ListBuckets": (accounts + 1) * int(math.Ceil(float64(bucketsPerAccount)/1000)),
		// The log archive's buckets hold no configuration: one call each.
		"ListBucketInventoryConfigurations": len(regions),
		"GetBucketPolicy":                   len(regions),
		"DescribeKey":                       len(regions),
		"GetKeyPolicy":                      len(regions),
	}
	for a := range accounts {
		acct := awssim.Account{ID: fmt.Sprintf("5%011d", a+1)}
		for b := range bucketsPerAccount {
			n := 1
			if b == 0 && a%10 == 0 {
				n = 150
			}
			minimum["ListBucketInventoryConfigurations"] += max(1, int(math.Ceil(float64(n)/100)))
			// The scan follows at most DestinationsPerBucket (100) of a
			// bucket's configurations to their reports.
			minimum["ListObjectsV2"] += min(n, benchDestinationsPerBucket)
			r := b % len(regions)
			name := fmt.Sprintf("b-%s-%03d", acct.ID, b)
			tmpl := awssim.InventoryConfig{ID: "gen-template", Enabled: true, Frequency: "Daily", Versions: "All",
				Destination: awssim.Destination{AccountID: benchLogArchive, Bucket: "arn:aws:s3:::bench-inventory-" + regions[r], Format: "CSV",
					Encryption: "SSE-KMS", KMSKeyID: fmt.Sprintf("arn:aws:kms:%s:%s:key/0000000%d-1111-2222-3333-444444444444", regions[r], benchLogArchive, r)}}
			acct.Buckets = append(acct.Buckets, awssim.Bucket{Name: name, Region: regions[r], Inventory: []awssim.InventoryConfig{tmpl}, Generated: n - 1})
			if b == 1 {
				// A fresh report: its folder's manifest is asked for too.
				archive.Buckets[r].Reports = append(archive.Buckets[r].Reports, awssim.Reports{SourceBucket: name, ConfigID: "gen-template", Last: fresh, Count: 3})
				minimum["ListObjectsV2"]++
			}
		}
		fx.Organization.Accounts = append(fx.Organization.Accounts, acct)
	}
	fx.Organization.Accounts = append(fx.Organization.Accounts, archive)
	return fx, minimum
}

// benchDestinationsPerBucket is scan.Options' default DestinationsPerBucket.
const benchDestinationsPerBucket = 100

// discard is a Handler that keeps nothing but counts.
type discard struct {
	buckets, bucketFailures, configs, accounts, failures atomic.Int64
	checks, fresh, skipped                               atomic.Int64
}

// Destinations counts the destination checks; one that could not be read
// is a failure, but the check that stands for a bucket's configurations
// past DestinationsPerBucket (skipped).
func (d *discard) Destinations(_ context.Context, _ inventory.Account, cs []inventory.DestinationCheck) error {
	d.checks.Add(int64(len(cs)))
	for _, c := range cs {
		if c.Failure != nil && c.Failure.Code == "TooManyConfigurations" {
			d.skipped.Add(1)
			continue
		}
		if c.Failure != nil || c.Policy.Failure != nil || c.Key != nil && c.Key.Failure != nil || c.Reports != nil && c.Reports.Failure != nil {
			d.failures.Add(1)
		}
		if c.Reports != nil && !c.Reports.Newest.IsZero() {
			d.fresh.Add(1)
		}
	}
	return nil
}

func (d *discard) Bucket(_ context.Context, r inventory.BucketResult) error {
	d.buckets.Add(1)
	d.configs.Add(int64(len(r.Configs)))
	if r.Failure != nil {
		d.failures.Add(1)
		d.bucketFailures.Add(1)
	}
	return nil
}

// check fails the benchmark if a single bucket was lost: not read, or
// any account not COMPLETE (the exact property).
func (d *discard) check(b *testing.B, buckets, accounts int) {
	b.Helper()
	if got := d.buckets.Load() - d.bucketFailures.Load(); got != int64(buckets) || d.failures.Load() != 0 || d.accounts.Load() != int64(accounts) {
		b.Fatalf("%d of %d buckets read (%d lost), %d of %d accounts closed, %d failures (accounts not COMPLETE or buckets unreadable)",
			got, buckets, int64(buckets)-got, d.accounts.Load(), accounts, d.failures.Load())
	}
}

func (d *discard) Account(_ context.Context, r inventory.AccountResult) error {
	d.accounts.Add(1)
	if r.Status != inventory.AccountComplete {
		d.failures.Add(1)
	}
	return nil
}

type benchResult struct {
	accounts, bucketsPerAccount int
	wall                        time.Duration
	calls                       map[string]int
	minimum                     map[string]int
	inFlight                    int
	cpu                         time.Duration // CPU the process used, simulator included
	peakInFlight                int
	busy                        time.Duration
	srv                         *awssim.Server
	fresh                       int64 // destination checks with a fresh report
	skipped                     int64 // buckets with configurations past DestinationsPerBucket
}

// cpuUsed is the CPU time (user and system) the process has used.
func cpuUsed() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runBench scans an organization of accounts × bucketsPerAccount.
func runBench(b *testing.B, accounts, bucketsPerAccount int, simOpts ...awssim.Option) benchResult {
	b.Helper()
	fx, minimum := benchOrg(accounts, bucketsPerAccount)
	r := scanFixture(b, fx, simOpts...)
	r.accounts, r.bucketsPerAccount = accounts, bucketsPerAccount
	minimum["GetBucketLocation"], minimum["HeadBucket"] = 0, 0
	r.minimum = minimum
	if want := int64(accounts); r.fresh != want {
		b.Fatalf("%d fresh reports found; want %d", r.fresh, want)
	}
	if want := int64((accounts + 9) / 10); r.skipped != want {
		b.Fatalf("%d buckets with configurations not followed to their destinations; want %d (the 150-configuration buckets)", r.skipped, want)
	}
	return r
}

// scanFixture scans every account of fx with the production settings
// (scan.Options defaults, awsclient's HTTP client and retryer) and fails
// the benchmark if a single bucket is lost: not read, or any account not
// COMPLETE.
func scanFixture(b *testing.B, fx *awssim.Fixture, simOpts ...awssim.Option) benchResult {
	b.Helper()
	ctx := context.Background()
	srv, err := awssim.New(fx, append([]awssim.Option{awssim.WithLatency(benchLatency, 0)}, simOpts...)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(ctx, "us-east-1", benchClient()...)
	if err != nil {
		b.Fatal(err)
	}
	s, opts := benchScanner(b, cfg)
	targets, total := benchTargets(fx)
	h := &discard{}
	cpu0 := cpuUsed()
	began := time.Now()
	if err := s.Scan(ctx, targets, h); err != nil {
		b.Fatal(err)
	}
	wall := time.Since(began)
	cpu := cpuUsed() - cpu0
	peakIn, busy := srv.InFlight()
	h.check(b, total, len(targets))
	return benchResult{
		fresh: h.fresh.Load(), skipped: h.skipped.Load(),
		wall: wall, calls: srv.AllCalls(), inFlight: opts.MaxInFlight(),
		cpu: cpu, peakInFlight: peakIn, busy: busy, srv: srv,
	}
}

// benchClient are the production client's load options: awsclient's
// HTTP client and retryer.
func benchClient() []func(*awsconfig.LoadOptions) error {
	return []func(*awsconfig.LoadOptions) error{
		awsconfig.WithHTTPClient(awsclient.NewHTTPClient(scan.Options{}.MaxInFlight(), awsclient.DefaultResponseTimeout)),
		awsconfig.WithRetryer(func() aws.Retryer { return awsclient.NewRetryer(awsclient.RetryOptions{}) }),
	}
}

// benchScanner is a scanner with the production settings (scan.Options
// defaults, destinations read) through the member roles of cfg's
// organization.
func benchScanner(b *testing.B, cfg aws.Config) (*scan.Scanner, scan.Options) {
	b.Helper()
	opts := scan.Options{Destinations: true}
	conn := &scan.RoleConnector{
		STS: sts.NewFromConfig(cfg), Base: cfg,
		Role:      scan.Role{Name: roleName, ExternalID: extID, SessionName: "s3inv-bench", Partition: "aws"},
		S3Options: []func(*s3.Options){awsclient.S3PathStyle},
	}
	s, err := scan.New(conn, opts)
	if err != nil {
		b.Fatal(err)
	}
	return s, opts
}

// benchTargets are the accounts of fx and their number of buckets.
func benchTargets(fx *awssim.Fixture) (targets []inventory.Account, buckets int) {
	for _, a := range fx.Organization.Accounts {
		targets = append(targets, inventory.Account{ID: a.ID})
		buckets += len(a.Buckets)
	}
	return targets, buckets
}

// scanMemory scans an organization of accounts × bucketsPerAccount served
// by a process of its own (testenv.SimProcess: in this process its
// heap would lengthen every GC cycle, and what is allocated while a
// cycle marks counts as live) and returns the scan's live heap above the
// heap before it, in MiB: its 95th percentile and maximum, sampled every
// 20 ms.
func scanMemory(b *testing.B, accounts, bucketsPerAccount int) (p95, peak float64) {
	b.Helper()
	ctx := context.Background()
	fx, _ := benchOrg(accounts, bucketsPerAccount)
	targets, total := benchTargets(fx)
	remote := testenv.SimProcess(b, fmt.Sprintf("%d,%d", accounts, bucketsPerAccount))
	cfg, err := remote.AWSConfig(ctx, "us-east-1", benchClient()...)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := benchScanner(b, cfg)
	h := &discard{}
	base := liveheap.Now()
	stop := liveheap.Sample(20 * time.Millisecond)
	if err := s.Scan(ctx, targets, h); err != nil {
		b.Fatal(err)
	}
	samples := stop()
	h.check(b, total, len(targets))
	if want := int64(accounts); h.fresh.Load() != want {
		b.Fatalf("%d fresh reports found; want %d", h.fresh.Load(), want)
	}
	slices.Sort(samples)
	above := func(v uint64) float64 { return float64(v-min(v, base)) / (1 << 20) }
	return above(samples[len(samples)*95/100]), above(samples[len(samples)-1])
}

// benchOrgProcess is the organization a process started by scanMemory
// serves: "accounts,bucketsPerAccount".
func benchOrgProcess(arg string) (*awssim.Fixture, []awssim.Option, error) {
	var accounts, buckets int
	if _, err := fmt.Sscanf(arg, "%d,%d", &accounts, &buckets); err != nil {
		return nil, nil, fmt.Errorf("want accounts,buckets: %w", err)
	}
	fx, _ := benchOrg(accounts, buckets)
	return fx, []awssim.Option{awssim.WithLatency(benchLatency, 0)}, nil
}

// TestMain runs the tests, or serves the simulated organization of the
// memory benchmark in a process of its own (scanMemory).
func TestMain(m *testing.M) { os.Exit(testenv.ServeSimOrRun(m, benchOrgProcess)) }

// BenchmarkScan scans simulated organizations through the real SDK with
// 50 ms per call, and reports the calls made against the minimum, the
// wall time against the latency bound, and the scanner's peak heap at two
// organization sizes.
//
// The minimum, for A accounts (the log archive included) of B buckets
// listed P = 1,000 a page, C_b configurations in bucket b, D distinct
// destination buckets, K distinct KMS keys and F configurations with a
// report in the last 32 days:
//
//	AssumeRole A + ListBuckets A×⌈B/P⌉ + ListBucketInventoryConfigurations Σ max(1, ⌈C_b/100⌉)
//	+ GetBucketPolicy D + DescribeKey K + GetKeyPolicy K + ListObjectsV2 (Σ min(C_b, 100) + F)
//
// (one folder listing per enabled configuration followed to its
// destination, at most DestinationsPerBucket (100) of a bucket, one
// manifest listing per configuration whose newest folder holds its
// manifest), plus one
// ListBuckets for each missing destination bucket whose owner the scan
// does not list itself (none here; in a fan-out worker, any other
// account).
//
// The latency bound is total calls × latency ÷ concurrency, where
// concurrency is the most requests the scanner keeps in flight
// (Options.MaxInFlight: AccountConcurrency × BucketConcurrency, every
// call counted: AssumeRole, ListBuckets, inventory and destination reads). No
// schedule of those calls can finish sooner. The CPU floor (the CPU the
// run used ÷ GOMAXPROCS) is reported beside it: on a small machine the
// SDK's own work per call, not the scheduling, may be the limit.
func BenchmarkScan(b *testing.B) {
	for range b.N {
		r := runBench(b, 200, 50)
		total, minTotal := 0, 0
		b.Logf("organization: %d accounts × %d buckets, %s per call, %d requests in flight at most (AccountConcurrency × BucketConcurrency)",
			r.accounts, r.bucketsPerAccount, benchLatency, r.inFlight)
		for _, op := range []string{"AssumeRole", "ListBuckets", "ListBucketInventoryConfigurations", "GetBucketPolicy", "DescribeKey", "GetKeyPolicy", "ListObjectsV2", "GetBucketLocation", "HeadBucket"} {
			ratio := "-"
			if r.minimum[op] > 0 {
				ratio = fmt.Sprintf("%.2f", float64(r.calls[op])/float64(r.minimum[op]))
			}
			b.Logf("  %-34s %6d calls, minimum %6d, ratio %s", op, r.calls[op], r.minimum[op], ratio)
			total += r.calls[op]
			minTotal += r.minimum[op]
		}
		bound := time.Duration(total) * benchLatency / time.Duration(r.inFlight)
		cpuFloor := r.cpu / time.Duration(runtime.GOMAXPROCS(0))
		b.Logf("  all calls %d, minimum %d, ratio %.2f", total, minTotal, float64(total)/float64(minTotal))
		b.Logf("  wall %s, latency bound %s, ratio %.2f", r.wall.Round(time.Millisecond), bound.Round(time.Millisecond), float64(r.wall)/float64(bound))
		b.Logf("  requests in flight at the simulator: peak %d, average %.1f", r.peakInFlight, float64(r.busy)/float64(r.wall))
		b.Logf("  CPU used %s (SDK clients and simulator), %s on %d cores: the CPU floor", r.cpu.Round(time.Millisecond),
			cpuFloor.Round(time.Millisecond), runtime.GOMAXPROCS(0))
		// The one exact property: the minimum number of calls. Timing is
		// reported, never asserted: a busy machine must not fail the
		// benchmark. No schedule beats the latency bound; the scheduler
		// aims for within 1.5× of it, and the CPU floor says how much of
		// any gap the machine, not the schedule, explains.
		if total != minTotal {
			b.Errorf("%d calls; want the minimum %d", total, minTotal)
		}
		b.ReportMetric(r.wall.Seconds(), "wall-s")
		b.ReportMetric(float64(r.wall)/float64(bound), "x-latency-bound")

		// Memory: organizations of 2,500 and 10,000 buckets (50 and 200
		// accounts of 50 buckets). The scan's share of the live heap is
		// bounded by the requests in flight and the accounts open at
		// once, not by the number of buckets: 4× the buckets should take
		// no more than 1.25× the memory. Reported, not asserted (the GC's
		// timing makes it a measurement).
		scanMemory(b, 50, 50) // the process's and the SDK's one-time allocations
		var p95s, peaks []float64
		for _, n := range []int{50, 200} {
			p95, peak := scanMemory(b, n, 50)
			p95s, peaks = append(p95s, p95), append(peaks, peak)
			b.Logf("memory, %d accounts × 50 buckets (%d buckets): the scan's live heap %.1f MiB (95th percentile), %.1f MiB at most",
				n, n*50, p95, peak)
		}
		b.Logf("memory ratio, 10,000 against 2,500 buckets: %.2f of the 95th percentiles, %.2f of the maxima (aim: at most 1.25)", p95s[1]/max(p95s[0], 0.001), peaks[1]/max(peaks[0], 0.001))
		b.ReportMetric(peaks[1], "scan-heap-MiB/10k-buckets")
		b.ReportMetric(p95s[1]/max(p95s[0], 0.001), "x-heap-4x-buckets")
	}
}

// BenchmarkThrottling scans through throttling storms with the production
// settings and reports how much they cost. The exact property, asserted:
// not one bucket lost. The figures, reported (the bounds in
// brackets):
//
//   - random: 15% of every call to every API throttled, against the same
//     organization unthrottled in the same run [wall ≤ 3× unthrottled];
//   - rate limit: every account limited to 50 requests/s, burst 20, in an
//     organization whose largest account needs 30× the calls of the
//     others, against the rate-limit bound (the largest account's calls ÷
//     50/s) [wall ≤ 1.5× the bound].
func BenchmarkThrottling(b *testing.B) {
	for range b.N {
		b.Run("random-15pct", func(b *testing.B) {
			clean := runBench(b, 100, 50)
			total, minTotal := 0, 0
			for op, n := range clean.minimum {
				total += clean.calls[op]
				minTotal += n
			}
			if total != minTotal {
				b.Errorf("unthrottled: %d calls; want the minimum %d", total, minTotal)
			}
			storm := runBench(b, 100, 50, awssim.WithThrottle(0.15, 1))
			stormTotal := 0
			for _, n := range storm.calls {
				stormTotal += n
			}
			ratio := float64(storm.wall) / float64(clean.wall)
			b.Logf("organization: 100 accounts × 50 buckets, %s per call, 15%% of calls throttled at random", benchLatency)
			b.Logf("  unthrottled: wall %s, %d calls (the minimum)", clean.wall.Round(time.Millisecond), total)
			b.Logf("  throttled:   wall %s, %d calls (%.2f× the minimum), 0 buckets lost", storm.wall.Round(time.Millisecond), stormTotal, float64(stormTotal)/float64(minTotal))
			b.Logf("  wall ratio %.2f (bound 3)", ratio)
			b.ReportMetric(ratio, "x-unthrottled-wall")
			b.ReportMetric(float64(stormTotal)/float64(minTotal), "x-minimum-calls")
		})
		b.Run("rate-limit-50rps", func(b *testing.B) {
			const rate, burst = 50, 20
			fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}}}
			sizes := []int{600}
			for range 20 {
				sizes = append(sizes, 20)
			}
			for i, n := range sizes {
				a := awssim.Account{ID: fmt.Sprintf("6%011d", i+1)}
				for j := range n {
					a.Buckets = append(a.Buckets, awssim.Bucket{Name: fmt.Sprintf("r-%s-%03d", a.ID, j), Region: "us-east-1", Generated: 1})
				}
				fx.Organization.Accounts = append(fx.Organization.Accounts, a)
			}
			r := scanFixture(b, fx, awssim.WithAccountRateLimit(rate, burst))
			big := fx.Organization.Accounts[0].ID
			minCalls := 1 + 1 + sizes[0] // AssumeRole, one ListBuckets page, one read per bucket
			bound := time.Duration(float64(minCalls) / rate * float64(time.Second))
			bigCalls := 0
			for _, op := range []string{"AssumeRole", "ListBuckets", "ListBucketInventoryConfigurations"} {
				bigCalls += r.srv.CallsFor(op, big)
			}
			ratio := float64(r.wall) / float64(bound)
			b.Logf("organization: 1 account of %d buckets and 20 of 20, %s per call, %d requests/s per account, burst %d", sizes[0], benchLatency, rate, burst)
			b.Logf("  largest account: %d calls needed, %d made (%.2f×, the rest throttled and retried)", minCalls, bigCalls, float64(bigCalls)/float64(minCalls))
			b.Logf("  wall %s, rate-limit bound %s (%d calls ÷ %d/s), ratio %.2f (bound 1.5), 0 buckets lost",
				r.wall.Round(time.Millisecond), bound.Round(time.Millisecond), minCalls, rate, ratio)
			b.ReportMetric(ratio, "x-rate-limit-bound")
			b.ReportMetric(float64(bigCalls)/float64(minCalls), "x-minimum-calls")
		})
	}
}
