package dynamo

import (
	"fmt"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
)

// BenchmarkScan writes one scan of an account with 1,000 findings per
// iteration (the first new, the rest seen again), and reports the
// requests per scan, the fence's included.
func BenchmarkScan(b *testing.B) {
	const n = 1000
	s := newTestStore(b, report.StoreOptions{}, nil)
	var calls, items, queries, fences int64
	b.ResetTimer()
	for i := range b.N {
		at := sinktest.T0.Add(time.Duration(i) * time.Hour)
		id := fmt.Sprintf("s%d", i)
		fs := sinktest.Generate(sinktest.AccountA, n, 7, id, at)
		if err := scanOnce(b, s, id, at, sinktest.AccountA, fs, inventory.AccountComplete); err != nil {
			b.Fatal(err)
		}
		st := s.Stats()
		calls += st.BatchCalls
		items += st.Items + st.PutItems
		queries += st.Queries
		fences += st.Fences
	}
	b.ReportMetric(float64(calls)/float64(b.N), "batchcalls/scan")
	b.ReportMetric(float64(items)/float64(b.N), "writes/scan")
	b.ReportMetric(float64(queries)/float64(b.N), "querypages/scan")
	b.ReportMetric(float64(fences)/float64(b.N), "fencecalls/scan")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "us/finding")
}
