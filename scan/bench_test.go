//go:build unix

package scan_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/awssim"
	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/scan"
)

// benchLatency is the simulated round trip of every AWS call. It is above
// the CPU the SDK and the simulator spend per call on a small machine
// (about 0.4 ms each, both in this process, on 2 cores with 128 requests
// in flight: at 20 ms the CPU, not the schedule, would be the limit), and
// close to what S3 and STS answer in from inside a region.
const benchLatency = 50 * time.Millisecond

// benchOrg builds an organization of accounts × bucketsPerAccount. Every
// bucket has one configuration (one page), except the first bucket of
// every tenth account, which has 150 (two pages).
func benchOrg(accounts, bucketsPerAccount int) (*awssim.Fixture, int) {
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}}}
	regions := []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2"}
	inventoryCalls := 0
	for a := range accounts {
		acct := awssim.Account{ID: fmt.Sprintf("5%011d", a+1)}
		for b := range bucketsPerAccount {
			n := 1
			if b == 0 && a%10 == 0 {
				n = 150
			}
			inventoryCalls += max(1, int(math.Ceil(float64(n)/100)))
			acct.Buckets = append(acct.Buckets, awssim.Bucket{Name: fmt.Sprintf("b-%s-%03d", acct.ID, b), Region: regions[b%len(regions)], Generated: n})
		}
		fx.Organization.Accounts = append(fx.Organization.Accounts, acct)
	}
	return fx, inventoryCalls
}

// discard is a Handler that keeps nothing but counts.
type discard struct{ buckets, configs, accounts, failures atomic.Int64 }

func (d *discard) Bucket(_ context.Context, r inventory.BucketResult) error {
	d.buckets.Add(1)
	d.configs.Add(int64(len(r.Configs)))
	if r.Failure != nil {
		d.failures.Add(1)
	}
	return nil
}

func (d *discard) Account(_ context.Context, r inventory.AccountResult) error {
	d.accounts.Add(1)
	if r.Status != inventory.AccountComplete {
		d.failures.Add(1)
	}
	return nil
}

// heapPeak measures the live heap every 20 ms (forcing a GC, so that
// garbage not yet collected does not count) until stop is called, and
// returns the highest value seen.
func heapPeak() (stop func() uint64) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var (
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.GC()
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() uint64 { close(done); wg.Wait(); return peak }
}

type benchResult struct {
	accounts, bucketsPerAccount int
	wall                        time.Duration
	calls                       map[string]int
	minimum                     map[string]int
	inFlight                    int
	heapBase, heapPeak          uint64
	cpu                         time.Duration // CPU the process used, simulator included
	peakInFlight                int
	busy                        time.Duration
}

// cpuUsed is the CPU time (user and system) the process has used.
func cpuUsed() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runBench scans an organization of accounts × bucketsPerAccount. With
// memory set, it also samples the live heap, which costs CPU: the wall
// time of such a run is not comparable.
func runBench(b *testing.B, accounts, bucketsPerAccount int, memory bool) benchResult {
	b.Helper()
	ctx := context.Background()
	fx, inventoryCalls := benchOrg(accounts, bucketsPerAccount)
	srv, err := awssim.New(fx, awssim.WithLatency(benchLatency, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	opts := scan.Options{} // production defaults
	cfg, err := srv.AWSConfig(ctx, "us-east-1", awsconfig.WithHTTPClient(scan.NewHTTPClient(opts)))
	if err != nil {
		b.Fatal(err)
	}
	conn := &scan.RoleConnector{
		STS: sts.NewFromConfig(cfg), Base: cfg,
		Role:      scan.Role{Name: roleName, ExternalID: extID, SessionName: "s3inv-bench", Partition: "aws"},
		S3Options: []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }},
	}
	s, err := scan.New(conn, opts)
	if err != nil {
		b.Fatal(err)
	}
	targets := make([]inventory.Account, accounts)
	for i, a := range fx.Organization.Accounts {
		targets[i] = inventory.Account{ID: a.ID}
	}
	h := &discard{}
	runtime.GC()
	base := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(base)
	stop := func() uint64 { return 0 }
	if memory {
		stop = heapPeak()
	}
	cpu0 := cpuUsed()
	began := time.Now()
	if err := s.Scan(ctx, targets, h); err != nil {
		b.Fatal(err)
	}
	wall := time.Since(began)
	cpu := cpuUsed() - cpu0
	peakIn, busy := srv.InFlight()
	peak := stop()
	if got, want := h.buckets.Load(), int64(accounts*bucketsPerAccount); got != want || h.failures.Load() != 0 || h.accounts.Load() != int64(accounts) {
		b.Fatalf("delivered %d buckets (want %d), %d accounts, %d failures", got, want, h.accounts.Load(), h.failures.Load())
	}
	pageSize := 1000
	return benchResult{
		accounts: accounts, bucketsPerAccount: bucketsPerAccount, wall: wall, calls: srv.AllCalls(),
		minimum: map[string]int{
			"AssumeRole":                        accounts,
			"ListBuckets":                       accounts * int(math.Ceil(float64(bucketsPerAccount)/float64(pageSize))),
			"ListBucketInventoryConfigurations": inventoryCalls,
			"GetBucketLocation":                 0,
			"HeadBucket":                        0,
		},
		inFlight: opts.MaxInFlight(),
		heapBase: base[0].Value.Uint64(), heapPeak: peak, cpu: cpu, peakInFlight: peakIn, busy: busy,
	}
}

// BenchmarkScan scans simulated organizations through the real SDK with
// 50 ms per call, and reports the calls made against the minimum, the
// wall time against the latency bound, and the scanner's peak heap at two
// organization sizes.
//
// The latency bound is total calls × latency ÷ concurrency, where
// concurrency is the most requests the scanner keeps in flight
// (Options.MaxInFlight: AccountConcurrency × BucketConcurrency, every
// call counted: AssumeRole, ListBuckets and inventory reads). No
// schedule of those calls can finish sooner. The CPU floor (the CPU the
// run used ÷ GOMAXPROCS) is reported beside it: on a small machine the
// SDK's own work per call, not the scheduling, may be the limit.
func BenchmarkScan(b *testing.B) {
	for range b.N {
		r := runBench(b, 200, 50, false)
		total, minTotal := 0, 0
		b.Logf("organization: %d accounts × %d buckets, %s per call, %d requests in flight at most (AccountConcurrency × BucketConcurrency)",
			r.accounts, r.bucketsPerAccount, benchLatency, r.inFlight)
		for _, op := range []string{"AssumeRole", "ListBuckets", "ListBucketInventoryConfigurations", "GetBucketLocation", "HeadBucket"} {
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
		if total != minTotal {
			b.Errorf("%d calls; want the minimum %d", total, minTotal)
		}
		// No schedule beats the latency bound; the scheduler must come
		// within 1.5× of it. The CPU floor says how much of the gap the
		// machine, not the schedule, explains.
		if float64(r.wall) > 1.5*float64(bound) {
			b.Errorf("wall %s is more than 1.5× the latency bound %s (CPU floor %s)",
				r.wall.Round(time.Millisecond), bound.Round(time.Millisecond), cpuFloor.Round(time.Millisecond))
		}
		b.ReportMetric(r.wall.Seconds(), "wall-s")
		b.ReportMetric(float64(r.wall)/float64(bound), "x-latency-bound")

		// Memory: organizations of 2,500 and 10,000 buckets (50 and 200
		// accounts of 50 buckets). The scan's share of the live heap is
		// bounded by the requests in flight and the accounts open at
		// once, not by the number of buckets: 4× the buckets may not
		// take more than 1.25× the memory (plus 1 MiB of noise).
		var shares []float64
		for _, n := range []int{50, 200} {
			m := runBench(b, n, 50, true)
			share := float64(m.heapPeak-min(m.heapPeak, m.heapBase)) / (1 << 20)
			shares = append(shares, share)
			b.Logf("memory, %d accounts × %d buckets (%d buckets): live heap %.1f MiB before (the simulated organization), peak %.1f MiB, the scan's share %.1f MiB",
				m.accounts, m.bucketsPerAccount, m.accounts*m.bucketsPerAccount, float64(m.heapBase)/(1<<20), float64(m.heapPeak)/(1<<20), share)
		}
		b.Logf("memory ratio, 10,000 against 2,500 buckets: %.2f", shares[1]/shares[0])
		b.ReportMetric(shares[1], "scan-heap-MiB/10k-buckets")
		if shares[1] > 1.25*shares[0]+1 {
			b.Errorf("the scan's live heap grew from %.1f to %.1f MiB with 4× the buckets", shares[0], shares[1])
		}
	}
}
