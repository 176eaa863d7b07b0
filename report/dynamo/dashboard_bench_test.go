package dynamo

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

var (
	dashboardFindings = flag.Int("dashboard.findings", 100_000, "BenchmarkDashboardViews: findings in the table")
	dashboardAccounts = flag.Int("dashboard.accounts", 5_000, "BenchmarkDashboardViews: accounts they belong to")
)

// countingAPI counts the Query requests sent through it.
type countingAPI struct {
	API
	queries atomic.Int64
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.API.Query(ctx, in, optFns...)
}

// dashboardOUs are the benchmark organization's OUs.
var dashboardOUs = [][2]string{
	{"ou-bench-prod0001", "Production"}, {"ou-bench-stag0001", "Staging"}, {"ou-bench-devl0001", "Development"},
	{"ou-bench-sand0001", "Sandbox"}, {"ou-bench-secu0001", "Security"},
}

// fillDashboardTable writes a table as two scans left it, with
// BatchWriteItem directly (25 items a request, 8 requests in flight):
// n findings over the given accounts (20 rules' worth each), spread over
// the five severities and OUs; 1% coverage findings; 2% waived, a third
// of those ending within 30 days; the latest scan opened 1% of them and
// resolved 1% more; each account's last complete scan; the two runs.
func fillDashboardTable(b *testing.B, api API, table string, n, accounts int, now time.Time) (latest report.Run) {
	ctx := context.Background()
	t0 := now.Add(-24 * time.Hour).Truncate(time.Second)
	t1 := now.Add(-time.Hour).Truncate(time.Second)
	runs := []report.Run{
		{ScanID: "scan-1", Trigger: "schedule", StartedAt: t0, FinishedAt: t0.Add(10 * time.Minute), AccountsComplete: accounts},
		{ScanID: "scan-2", Trigger: "schedule", StartedAt: t1, FinishedAt: t1.Add(10 * time.Minute), AccountsComplete: accounts},
	}
	ruleIDs := []string{"INV-001", "INV-002", "INV-003", "INV-101", "INV-102", "INV-103", "INV-104", "INV-105", "INV-106", "INV-107"}
	items := make(chan map[string]types.AttributeValue, 1000)
	g, gctx := errgroup.WithContext(ctx)
	for range 8 {
		g.Go(func() error {
			batch := make([]types.WriteRequest, 0, 25)
			send := func() error {
				for len(batch) > 0 {
					out, err := api.BatchWriteItem(gctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: batch}})
					if err != nil {
						return err
					}
					batch = append(batch[:0], out.UnprocessedItems[table]...)
				}
				return nil
			}
			for av := range items {
				batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: av}})
				if len(batch) == 25 {
					if err := send(); err != nil {
						return err
					}
				}
			}
			return send()
		})
	}
	g.Go(func() error {
		defer close(items)
		put := func(av map[string]types.AttributeValue, err error) error {
			if err != nil {
				return err
			}
			select {
			case items <- av:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		open := map[string]int{}
		for i := range n {
			acct := fmt.Sprintf("%012d", 100000000000+i%accounts)
			ou := dashboardOUs[i%accounts%len(dashboardOUs)]
			sev := rules.Severities()[i%5]
			rule := ruleIDs[i%len(ruleIDs)]
			if i%100 == 7 {
				rule, sev = "SCAN-003", rules.SeverityMedium
			}
			bucket := fmt.Sprintf("bucket-%06d", i/len(ruleIDs))
			f := rules.Finding{FindingID: rules.FindingID(acct, bucket, "cfg", rule), AccountID: acct, AccountName: "account-" + acct[8:],
				OUID: ou[0], OUName: ou[1], Bucket: bucket, Region: "eu-west-1", ConfigID: "cfg", RuleID: rule, Severity: sev,
				Status: rules.StatusOpen, Title: "title of " + rule, Message: rule + " fails on " + bucket, ScanID: "scan-2", ObservedAt: t1}
			r := report.Record{Finding: f, FirstSeen: t0.Add(-time.Duration(i%1000) * time.Hour), LastSeen: t1, ChangedIn: "scan-1"}
			switch {
			case i%100 == 3: // opened by the latest scan
				r.FirstSeen, r.ChangedIn = t1, "scan-2"
			case i%100 == 5: // resolved by the latest scan
				r = report.Resolve(r, "scan-2", t1.Add(5*time.Minute), report.DefaultRetention, report.ResolutionNotSeen)
			case i%50 == 11: // waived; a third of the waivers end within 30 days
				r.Status = rules.StatusWaived
				days := []int{5, 60, 200}[i/50%3]
				r.Waiver = &rules.AppliedWaiver{Reason: "ticket", Expires: now.AddDate(0, 0, days).Format(time.DateOnly)}
			}
			if r.Status == rules.StatusOpen {
				open[acct]++
			}
			if err := put(encodeRecord(r)); err != nil {
				return err
			}
		}
		for a := range accounts {
			acct := fmt.Sprintf("%012d", 100000000000+a)
			ou := dashboardOUs[a%len(dashboardOUs)]
			if err := put(encodeAccountScan(report.AccountScan{AccountID: acct, AccountName: "account-" + acct[8:], OUID: ou[0], OUName: ou[1],
				ScanID: "scan-2", StartedAt: t1, FinishedAt: t1.Add(time.Minute), Buckets: 10, Configs: 12, Open: open[acct]})); err != nil {
				return err
			}
		}
		for _, r := range runs {
			if err := put(encodeRun(r, Stats{})); err != nil {
				return err
			}
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		b.Fatalf("fill the table: %v", err)
	}
	return runs[1]
}

// BenchmarkDashboardViews renders each view of the dashboard (its first
// page, and the page its More link leads to) over a dynalite table of
// -dashboard.findings findings (100,000 by default) across
// -dashboard.accounts accounts (5,000), and counts the Query requests
// each render sends: at most webui.MaxReads for the view and one for the
// latest run above it, an exact property that fails the benchmark. The
// handler time of each render is reported against the 1 s bound, as a
// ratio, not asserted; so is the time the table took to fill.
func BenchmarkDashboardViews(b *testing.B) {
	endpoint := testenv.Dynalite(b)
	ctx := context.Background()
	api := &countingAPI{API: testenv.DynamoClient(endpoint)}
	const table = "dashboard-bench"
	s, err := New(api, table, report.StoreOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.EnsureTable(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	start := time.Now()
	fillDashboardTable(b, api, table, *dashboardFindings, *dashboardAccounts, now)
	fill := time.Since(start)
	b.Logf("filled %d findings across %d accounts in %s (%.0f items/s with %d indexes)", *dashboardFindings, *dashboardAccounts,
		fill.Round(time.Millisecond), float64(*dashboardFindings+*dashboardAccounts)/fill.Seconds(), len(TableDefinition(table).GlobalSecondaryIndexes))

	d := &webui.Dashboard{Store: s, Now: func() time.Time { return now }}
	cases := []struct {
		name string
		q    webui.Query
	}{
		{"findings", webui.Query{View: webui.ViewFindings}},
		{"findings CRITICAL", webui.Query{View: webui.ViewFindings, Severity: rules.SeverityCritical}},
		{"findings OU Security", webui.Query{View: webui.ViewFindings, OU: "Security"}},
		{"findings rule INV-104", webui.Query{View: webui.ViewFindings, Rule: "INV-104"}},
		{"findings account", webui.Query{View: webui.ViewFindings, Account: "100000000042"}},
		{"changes", webui.Query{View: webui.ViewChanges}},
		{"changes HIGH, OU Staging", webui.Query{View: webui.ViewChanges, Severity: rules.SeverityHigh, OU: "ou-bench-stag0001"}},
		{"accounts", webui.Query{View: webui.ViewAccounts}},
		{"accounts OU Production", webui.Query{View: webui.ViewAccounts, OU: "Production"}},
		{"accounts by CRITICAL", webui.Query{View: webui.ViewAccounts, Severity: rules.SeverityCritical}},
		{"coverage", webui.Query{View: webui.ViewCoverage}},
		{"waivers", webui.Query{View: webui.ViewWaivers}},
		{"runs", webui.Query{View: webui.ViewRuns}},
	}
	type figure struct {
		queries    int64
		took       time.Duration
		more       bool
		moreQ      int64
		moreTook   time.Duration
		renderings int
	}
	figures := make([]figure, len(cases))
	var mu sync.Mutex
	render := func(q webui.Query) (int64, time.Duration, string) {
		mu.Lock()
		defer mu.Unlock()
		var next string
		d.Link = func(l webui.Query) string {
			if l.Next != "" && l.View == q.View {
				next = l.Next
			}
			return "?"
		}
		before := api.queries.Load()
		t := time.Now()
		if err := d.Render(ctx, io.Discard, q); err != nil {
			b.Fatalf("render %+v: %v", q, err)
		}
		return api.queries.Load() - before, time.Since(t), next
	}
	for b.Loop() {
		for i, c := range cases {
			f := &figures[i]
			n, took, next := render(c.q)
			f.queries, f.took, f.renderings = max(f.queries, n), max(f.took, took), f.renderings+1
			if next != "" {
				q := c.q
				q.Next = next
				n, took, _ := render(q)
				f.more, f.moreQ, f.moreTook = true, max(f.moreQ, n), max(f.moreTook, took)
			}
		}
	}
	b.StopTimer()
	const bound = time.Second
	b.Logf("%-26s %8s %10s %8s   %s", "view", "queries", "time", "/1 s", "next page (More): queries, time, /1 s")
	var worst time.Duration
	for i, c := range cases {
		f := figures[i]
		more := "—"
		if f.more {
			more = fmt.Sprintf("%d, %s, %.3f", f.moreQ, f.moreTook.Round(time.Microsecond), f.moreTook.Seconds()/bound.Seconds())
		}
		b.Logf("%-26s %8d %10s %8.3f   %s", c.name, f.queries, f.took.Round(time.Microsecond), f.took.Seconds()/bound.Seconds(), more)
		worst = max(worst, f.took, f.moreTook)
		// The one exact property: the reads of a render.
		if limit := int64(webui.MaxReads + 1); f.queries > limit || f.moreQ > limit {
			b.Errorf("%s: %d (More: %d) Query requests; want at most %d (%d pages of the view, 1 for the latest run)",
				c.name, f.queries, f.moreQ, limit, webui.MaxReads)
		}
	}
	b.ReportMetric(worst.Seconds()/bound.Seconds(), "worst/1s")
	b.ReportMetric(fill.Seconds(), "fill-s")
}
