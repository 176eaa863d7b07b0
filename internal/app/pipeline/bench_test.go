//go:build unix

package pipeline_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/internal/testenv/liveheap"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// The fan-out benchmark (docs/scale.md "Measured"): an in-process
// fan-out of W workers over a simulated organization with 50 ms per AWS
// call, dynalite as the findings table, and an in-memory queue that
// delivers each message to one worker (a failed message is delivered
// again, as SQS does after the visibility timeout).

const (
	fanLatency   = 50 * time.Millisecond
	fanRole      = "S3InventoryScannerMember"
	fanExternal  = "bench-external-id"
	orgPageLimit = 20 // the most accounts a ListAccounts page holds
)

// bigAccount is the account of fanOrg's big buckets.
const bigAccount = "699999999999"

// fanOrg is an organization of accounts × buckets, each bucket with one
// inventory configuration; big adds one account of that many buckets.
func fanOrg(accounts, buckets, big int) *awssim.Fixture {
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: fanRole, ExternalID: fanExternal}}}
	add := func(id string, n int) {
		a := awssim.Account{ID: id}
		for b := range n {
			a.Buckets = append(a.Buckets, awssim.Bucket{Name: fmt.Sprintf("b-%s-%06d", id, b), Generated: 1})
		}
		fx.Organization.Accounts = append(fx.Organization.Accounts, a)
	}
	for i := range accounts {
		add(fmt.Sprintf("6%011d", i+1), buckets)
	}
	if big > 0 {
		add(bigAccount, big)
	}
	return fx
}

// memQueue is SQS for the benchmark: SendMessageBatch puts the bodies on
// a channel, from which workers take them.
type memQueue struct {
	ch    chan string
	sends atomic.Int64
}

func (q *memQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	q.sends.Add(1)
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		q.ch <- *e.MessageBody
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// wcuTable counts the write capacity units DynamoDB reports for every
// write (ReturnConsumedCapacity TOTAL; dynalite computes them from the
// items' sizes as DynamoDB does).
type wcuTable struct {
	dynamo.API
	units atomic.Int64 // in tenths
	calls atomic.Int64
	busy  atomic.Int64 // nanoseconds spent in DynamoDB calls, every worker's added up
}

func (w *wcuTable) since(t time.Time) { w.busy.Add(int64(time.Since(t))) }

func (w *wcuTable) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	defer w.since(time.Now())
	return w.API.Query(ctx, in, o...)
}

func (w *wcuTable) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	defer w.since(time.Now())
	return w.API.GetItem(ctx, in, o...)
}

func (w *wcuTable) add(cs ...ddbtypes.ConsumedCapacity) {
	w.calls.Add(1)
	for _, c := range cs {
		w.units.Add(int64(math.Round(aws.ToFloat64(c.CapacityUnits) * 10)))
	}
}

func (w *wcuTable) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	defer w.since(time.Now())
	in.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
	out, err := w.API.BatchWriteItem(ctx, in, o...)
	if err == nil {
		w.add(out.ConsumedCapacity...)
	}
	return out, err
}

func (w *wcuTable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	defer w.since(time.Now())
	in.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
	out, err := w.API.PutItem(ctx, in, o...)
	if err == nil && out.ConsumedCapacity != nil {
		w.add(*out.ConsumedCapacity)
	}
	return out, err
}

func (w *wcuTable) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	defer w.since(time.Now())
	in.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
	out, err := w.API.UpdateItem(ctx, in, o...)
	if err == nil && out.ConsumedCapacity != nil {
		w.add(*out.ConsumedCapacity)
	}
	return out, err
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fanSettings are the production settings of one process (the
// coordinator or a worker) against the simulator.
// fanPolicy is the default policy without the destination checks: this
// benchmark measures the fan-out (its minimum counts no destination
// read); BenchmarkScan in package scan measures the destination reads.
func fanPolicy(b *testing.B) *rules.Policy {
	b.Helper()
	var doc strings.Builder
	doc.WriteString("version: 1\nrules:\n")
	for _, id := range []string{"INV-110", "INV-111", "INV-112", "INV-113", "INV-114", "INV-115"} {
		doc.WriteString("  " + id + ": {enabled: false}\n")
	}
	p, err := rules.LoadPolicy([]byte(doc.String()), "fan-out benchmark policy")
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func fanSettings(b *testing.B, awsCfg aws.Config, table dynamo.API) (pipeline.Settings, *dynamo.Store) {
	b.Helper()
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = fanRole, fanExternal
	cfg.Mode, cfg.FanoutThreshold = config.ModeFanout, 1
	log := &report.TransitionLog{}
	store, err := dynamo.New(table, "bench", report.StoreOptions{OnTransition: log.Record})
	if err != nil {
		b.Fatal(err)
	}
	return pipeline.Settings{
		Config: cfg, Policy: fanPolicy(b), Trigger: "schedule",
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){awsclient.S3PathStyle}},
		Sink: store, Transitions: log,
	}, store
}

type fanResult struct {
	accounts, buckets, workers, inFlight int
	wall, cpu                            time.Duration
	calls                                map[string]int
	wcu                                  float64
	tableBusy                            time.Duration
	writes                               int64
	messages                             int64
	complete                             int
}

// runFanout runs one fan-out over fx with W workers and returns what it
// cost; it fails the benchmark if any account is not complete or any
// bucket not read.
func runFanout(b *testing.B, fx *awssim.Fixture, workers int) fanResult {
	b.Helper()
	ctx := context.Background()
	endpoint := testenv.Dynalite(b)
	srv, err := awssim.New(fx, awssim.WithLatency(fanLatency, 0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	inFlight := scan.Options{}.MaxInFlight()
	awsCfg, err := srv.AWSConfig(ctx, "us-east-1",
		awsconfig.WithHTTPClient(awsclient.NewHTTPClient(workers*inFlight, awsclient.DefaultResponseTimeout)),
		awsconfig.WithRetryer(func() aws.Retryer { return awsclient.NewRetryer(awsclient.RetryOptions{}) }))
	if err != nil {
		b.Fatal(err)
	}
	table := &wcuTable{API: testenv.DynamoClient(endpoint)}
	q := &memQueue{ch: make(chan string, len(fx.Organization.Accounts)*4+1000)}
	finished := make(chan pipeline.Finished, 1)
	fan := func() pipeline.Fanout {
		return pipeline.Fanout{Queue: q, QueueURL: "https://sqs.us-east-1.amazonaws.com/111122223333/bench", Ledger: nil,
			Finished: func(_ context.Context, r pipeline.Finished) { finished <- r }}
	}
	cs, store := fanSettings(b, awsCfg, table)
	if err := store.EnsureTable(ctx); err != nil {
		b.Fatal(err)
	}
	cf := fan()
	cf.Ledger = dynamo.NewLedger(store)
	srv.ResetCalls()
	table.units.Store(0)
	table.calls.Store(0)
	table.busy.Store(0)

	cpu0, began := cpuNow(), time.Now()
	_, coord, err := pipeline.Schedule(ctx, cs, cf)
	if err != nil || coord == nil {
		b.Fatalf("coordinator: %v", err)
	}
	var (
		wg   sync.WaitGroup
		stop = make(chan struct{})
		n    atomic.Int64
	)
	for w := range workers {
		s, st := fanSettings(b, awsCfg, table)
		f := fan()
		f.Ledger = dynamo.NewLedger(st)
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case body := <-q.ch:
					id := fmt.Sprintf("w%d-%d", w, n.Add(1))
					resp := pipeline.HandleBatch(ctx, s, f, events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: body, EventSource: "aws:sqs"}}})
					if len(resp.BatchItemFailures) > 0 {
						q.ch <- body // comes back, as after SQS's visibility timeout
					}
				}
			}
		})
	}
	var r pipeline.Finished
	select {
	case r = <-finished:
	case <-time.After(30 * time.Minute):
		b.Fatal("the fan-out run was not finalized within 30 minutes")
	}
	wall := time.Since(began)
	cpu := cpuNow() - cpu0
	close(stop)
	wg.Wait()
	total := 0
	for _, a := range fx.Organization.Accounts {
		total += len(a.Buckets)
	}
	if r.Summary.AccountsComplete != len(fx.Organization.Accounts) || r.Summary.Buckets != total {
		b.Fatalf("fan-out run: %d of %d accounts complete, %d of %d buckets read", r.Summary.AccountsComplete, len(fx.Organization.Accounts), r.Summary.Buckets, total)
	}
	return fanResult{accounts: len(fx.Organization.Accounts), buckets: total, workers: workers, inFlight: inFlight,
		wall: wall, cpu: cpu, calls: srv.AllCalls(), wcu: float64(table.units.Load()) / 10, tableBusy: time.Duration(table.busy.Load()), writes: table.calls.Load(),
		messages: n.Load(), complete: r.Summary.AccountsComplete}
}

// BenchmarkFanout runs an organization of 1,000 accounts × 20 buckets
// plus one account of 12,000 buckets (split into 3 chunks) through a
// fan-out of 4 workers, and reports the calls against the minimum
// (asserted: exactly), the wall time against the latency bound with
// W × MaxInFlight requests in flight, the CPU per API call, and the
// DynamoDB write units of the run (BenchmarkFanoutWorkerMemory measures
// one worker's memory).
func BenchmarkFanout(b *testing.B) {
	const (
		accounts = 1000
		perAcct  = 20
		big      = 12000
		workers  = 4
		chunk    = 5000
	)
	for range b.N {
		r := runFanout(b, fanOrg(accounts, perAcct, big), workers)
		chunks := int(math.Ceil(float64(big) / chunk))
		min := map[string]int{
			"ListAccounts":                      int(math.Ceil(float64(r.accounts) / orgPageLimit)),
			"AssumeRole":                        r.accounts + chunks, // a chunk's worker assumes the role again
			"ListBuckets":                       accounts*1 + int(math.Ceil(float64(big)/1000)),
			"ListBucketInventoryConfigurations": r.buckets,
		}
		b.Logf("organization: %d accounts (%d × %d buckets, one of %d in %d chunks of %d), %d buckets; %s per call; %d workers × %d requests in flight",
			r.accounts, accounts, perAcct, big, chunks, chunk, r.buckets, fanLatency, r.workers, r.inFlight)
		total, minTotal := 0, 0
		ops := slices.Sorted(func(yield func(string) bool) {
			for op := range r.calls {
				if !yield(op) {
					return
				}
			}
		})
		for _, op := range ops {
			m, known := min[op]
			ratio := "-"
			if known {
				ratio = fmt.Sprintf("%.2f", float64(r.calls[op])/float64(m))
				minTotal += m
			} else {
				minTotal += r.calls[op] // the organization's description: once, by the coordinator
			}
			total += r.calls[op]
			b.Logf("  %-34s %7d calls, minimum %7d, ratio %s", op, r.calls[op], m, ratio)
		}
		bound := time.Duration(total) * fanLatency / time.Duration(r.workers*r.inFlight)
		b.Logf("  all calls %d, minimum %d, ratio %.2f", total, minTotal, float64(total)/float64(minTotal))
		b.Logf("  wall %s, latency bound %s (%d calls × %s ÷ %d in flight), ratio %.2f", r.wall.Round(time.Millisecond), bound.Round(time.Millisecond),
			total, fanLatency, r.workers*r.inFlight, float64(r.wall)/float64(bound))
		chain := time.Duration(r.accounts) * 3 * fanLatency / time.Duration(r.workers)
		b.Logf("  per-account chain: AssumeRole, ListBuckets, then the reads: 3 round trips an account at least, one account a worker at a time: %s for %d accounts on %d workers, DynamoDB's round trips not counted (ratio %.2f)",
			chain.Round(time.Millisecond), r.accounts, r.workers, float64(r.wall)/float64(chain))
		b.Logf("  CPU %s on %d cores (scanner, SDK, simulator; dynalite not included): %.2f ms per API call, CPU floor %s",
			r.cpu.Round(time.Millisecond), runtime.GOMAXPROCS(0), float64(r.cpu)/float64(total)/1e6, (r.cpu / time.Duration(runtime.GOMAXPROCS(0))).Round(time.Millisecond))
		b.Logf("  time in DynamoDB calls (dynalite, one Node.js process): %s, %.0f%% of the workers' time (%d workers × wall)",
			r.tableBusy.Round(time.Millisecond), 100*float64(r.tableBusy)/float64(time.Duration(r.workers)*r.wall), r.workers)
		b.Logf("  DynamoDB: %.0f write units in %d write calls (%.2f per bucket, %.1f per account); %d messages handled",
			r.wcu, r.writes, r.wcu/float64(r.buckets), r.wcu/float64(r.accounts), r.messages)
		for op, m := range min {
			if r.calls[op] != m {
				b.Errorf("%s: %d calls; want the minimum %d", op, r.calls[op], m)
			}
		}
		b.ReportMetric(r.wall.Seconds(), "wall-s")
		b.ReportMetric(float64(r.wall)/float64(bound), "x-latency-bound")
		b.ReportMetric(float64(r.cpu)/float64(total)/1e6, "cpu-ms/call")
		b.ReportMetric(r.wcu, "WCU/run")
	}
}

// BenchmarkFanoutWorkerMemory measures the live heap of one worker while
// it lists an account of 10,000 and of 100,000 buckets and sends its
// chunks (5,000 buckets each), after a first such run (the SDK's and
// the process's one-time allocations are not the account's), with the
// simulated organization in a process of its own. The live heap is
// sampled after a GC every 20 ms; the 100,000-bucket account takes ten
// times as long, so its maximum is the extreme of ten times as many
// samples: the ratio compares the 95th percentile of the samples, the
// working set most of the time, and the maxima are reported beside it.
func BenchmarkFanoutWorkerMemory(b *testing.B) {
	for range b.N {
		workerHeap(b, 10000)
		var hs []heapShare
		for _, n := range []int{10000, 100000} {
			h := workerHeap(b, n)
			hs = append(hs, h)
			b.Logf("one worker, account of %d buckets (%d chunks sent): live heap above the worker's before it: 95th percentile %.2f MiB, maximum %.2f MiB, over %d samples",
				n, h.chunks, h.p95, h.max, h.samples)
		}
		// Reported, not asserted: the GC's timing makes it a measurement,
		// and below 1 MiB a chunk's message (5,000 names, about 400 KB)
		// caught or not at a sample is most of the difference.
		p95 := hs[1].p95 / max(hs[0].p95, 0.001)
		b.Logf("memory ratio, 100,000 against 10,000 buckets: %.2f of the 95th percentiles, %.2f of the maxima (at most 1.1)", p95, hs[1].max/max(hs[0].max, 0.001))
		b.ReportMetric(p95, "x-worker-heap-10x-buckets")
		b.ReportMetric(hs[1].max, "worker-heap-max-MiB/100k-buckets")
	}
}

// heapShare is one worker's live heap above what it held before, in
// MiB: its 95th percentile and maximum over the samples.
type heapShare struct {
	p95, max float64
	samples  int
	chunks   int
}

// simulatorOrg is the organization a simulator process serves for the
// memory benchmarks (awssim.ServeProcess): one account of arg buckets
// (BenchmarkFanoutWorkerMemory), or "flood:B,C", floodOrg(B, C)
// (BenchmarkFindingsFlood).
func simulatorOrg(arg string) (*awssim.Fixture, []awssim.Option, error) {
	opts := []awssim.Option{awssim.WithLatency(fanLatency, 0)}
	if rest, ok := strings.CutPrefix(arg, "flood:"); ok {
		var buckets, configs int
		if _, err := fmt.Sscanf(rest, "%d,%d", &buckets, &configs); err != nil {
			return nil, nil, fmt.Errorf("want flood:buckets,configurations: %w", err)
		}
		return floodOrg(buckets, configs), opts, nil
	}
	n, err := strconv.Atoi(arg)
	if err != nil {
		return nil, nil, fmt.Errorf("want a number of buckets")
	}
	return fanOrg(0, 0, n), opts, nil // one account: bigAccount
}

// workerHeap measures the live heap of one worker handling the message
// of an account of n buckets (listing it and sending its chunks), above
// the heap before it started; the simulated organization runs in a
// process of its own.
func workerHeap(b *testing.B, n int) heapShare {
	b.Helper()
	ctx := context.Background()
	sim := testenv.SimProcess(b, strconv.Itoa(n))
	awsCfg, err := sim.AWSConfig(ctx, "us-east-1",
		awsconfig.WithHTTPClient(awsclient.NewHTTPClient(scan.Options{}.MaxInFlight(), awsclient.DefaultResponseTimeout)))
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.RoleName, cfg.ExternalID = fanRole, fanExternal
	s := pipeline.Settings{Config: cfg, Policy: fanPolicy(b), Sink: nopSink{},
		Connector: &scan.RoleConnector{STS: sts.NewFromConfig(awsCfg), Base: awsCfg, Role: cfg.Role("aws"),
			S3Options: []func(*s3.Options){awsclient.S3PathStyle}}}
	q := &countQueue{}
	f := pipeline.Fanout{Queue: q, QueueURL: "https://sqs.us-east-1.amazonaws.com/111122223333/bench", Ledger: &openLedger{}}
	base := liveheap.Now()
	stop := liveheap.Sample(20 * time.Millisecond)
	err = pipeline.Work(ctx, s, f, pipeline.Message{ScanID: "20260101T000000.000Z-abcdef", Account: inventory.Account{ID: bigAccount}})
	samples := stop()
	if err != nil {
		b.Fatal(err)
	}
	slices.Sort(samples)
	above := func(v uint64) float64 { return float64(v-min(v, base)) / (1 << 20) }
	return heapShare{p95: above(samples[len(samples)*95/100]), max: above(samples[len(samples)-1]),
		samples: len(samples), chunks: int(q.n.Load())}
}

// countQueue counts the messages sent and keeps none (SQS holds them,
// not the worker).
type countQueue struct{ n atomic.Int64 }

func (q *countQueue) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		q.n.Add(1)
		out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// nopSink writes nothing (the worker's memory without the table's).
type nopSink struct{}

func (nopSink) Begin(context.Context, report.Run) error                            { return nil }
func (nopSink) Put(context.Context, []rules.Finding) error                         { return nil }
func (nopSink) AccountDone(context.Context, string, inventory.AccountResult) error { return nil }
func (nopSink) End(context.Context, report.Run) error                              { return nil }

// openLedger is a run that is open, whose accounts and chunks are never
// all recorded.
type openLedger struct{ report.Ledger }

func (*openLedger) FanoutRun(_ context.Context, id string) (report.FanoutRun, bool, error) {
	return report.FanoutRun{ScanID: id, Deadline: time.Now().Add(time.Hour), Expected: 1}, true, nil
}

func (*openLedger) SetChunks(context.Context, string, int, string, int, []byte) (bool, error) {
	return false, nil
}

func (*openLedger) Record(context.Context, string, int, string, []byte) (bool, bool, error) {
	return true, false, nil
}

// TestMain runs the tests, or serves the simulated organization of the
// memory benchmark in a process of its own (testenv.SimProcess).
func TestMain(m *testing.M) { os.Exit(testenv.ServeSimOrRun(m, simulatorOrg)) }
