package scan_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/scan"
)

// checks is a DestinationHandler that keeps the destination checks.
type checks struct {
	mu sync.Mutex
	cs []inventory.DestinationCheck
}

func (c *checks) Bucket(context.Context, inventory.BucketResult) error   { return nil }
func (c *checks) Account(context.Context, inventory.AccountResult) error { return nil }
func (c *checks) Destinations(_ context.Context, _ inventory.Account, cs []inventory.DestinationCheck) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.cs = append(c.cs, cs...)
	return nil
}

// TestReportsHostileListings reads the reports of one Daily configuration
// from a destination whose owner wrote what it liked there: folders dated
// in the future, empty manifests, manifests whose LastModified disagrees
// with their folder's date, names that are not deliveries, and a great
// many keys. Only a delivery that agrees with itself and with the scan's
// clock is the newest report; a listing the scanner cannot finish is a
// failure (SCAN-005), never a fresh report.
func TestReportsHostileListings(t *testing.T) {
	now := time.Date(2026, 5, 10, 6, 0, 0, 0, time.UTC)
	const base = "inv/src-data/daily/"
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// manifest is the manifest.json of the folder named folder, written at
	// mod with size bytes.
	manifest := func(folder, mod string, size int64) awssim.Object {
		return awssim.Object{Key: base + folder + "/manifest.json", LastModified: at(mod), Size: size}
	}
	real := manifest("2026-05-09T01-00Z", "2026-05-09T03:10:00Z", 512)
	many := func(n int, name func(int) string) []awssim.Object {
		out := make([]awssim.Object, n)
		for i := range out {
			out[i] = awssim.Object{Key: base + name(i), LastModified: now.Add(-time.Hour), Size: 512}
		}
		return out
	}
	cases := []struct {
		name    string
		objects []awssim.Object
		series  []awssim.Reports
		newest  string // RFC 3339; "" for none
		ignored int
		failure string // the failure's code
		calls   int    // ListObjectsV2 calls, when checked
	}{
		{name: "a delivery", objects: []awssim.Object{real}, newest: "2026-05-09T01:00:00Z", calls: 2},
		{name: "the issue's empty manifest dated 2099", objects: []awssim.Object{manifest("2099-01-01T00-00Z", "2026-05-10T05:00:00Z", 0)},
			ignored: 1, calls: 1},
		{name: "a future folder before a real delivery", objects: []awssim.Object{real, manifest("2026-05-11T00-00Z", "2026-05-10T05:59:00Z", 512)},
			newest: "2026-05-09T01:00:00Z", ignored: 1, calls: 2},
		{name: "within the clock skew", objects: []awssim.Object{real, manifest("2026-05-10T06-10Z", "2026-05-10T06:12:00Z", 512)},
			newest: "2026-05-10T06:10:00Z"},
		{name: "just beyond the clock skew", objects: []awssim.Object{real, manifest("2026-05-10T06-16Z", "2026-05-10T06:14:00Z", 512)},
			newest: "2026-05-09T01:00:00Z", ignored: 1},
		{name: "an empty manifest", objects: []awssim.Object{manifest("2026-05-09T01-00Z", "2026-05-09T03:10:00Z", 0)}, ignored: 1},
		{name: "LastModified before its folder's date", objects: []awssim.Object{manifest("2026-05-09T01-00Z", "2026-05-09T00:59:00Z", 512)}, ignored: 1},
		{name: "LastModified beyond its folder's window", objects: []awssim.Object{manifest("2026-05-01T01-00Z", "2026-05-03T01:01:00Z", 512)}, ignored: 1},
		{name: "LastModified at the window's end", objects: []awssim.Object{manifest("2026-05-01T01-00Z", "2026-05-03T01:00:00Z", 512)},
			newest: "2026-05-01T01:00:00Z"},
		{name: "LastModified after the scan's clock", objects: []awssim.Object{manifest("2026-05-10T05-00Z", "2026-05-10T06:20:00Z", 512)}, ignored: 1},
		{name: "a forged folder hides no older delivery", objects: []awssim.Object{real, manifest("2026-05-10T05-00Z", "2026-05-01T00:00:00Z", 512)},
			newest: "2026-05-09T01:00:00Z", ignored: 1},
		{name: "manifest.json.bak is no manifest", objects: []awssim.Object{{Key: base + "2026-05-09T01-00Z/manifest.json.bak", LastModified: at("2026-05-09T03:00:00Z"), Size: 512}}},
		{name: "names that are not a delivery's date", objects: []awssim.Object{
			manifest("2026-05-09T01-00Z-copy", "2026-05-09T03:00:00Z", 512),
			manifest("2026-5-09T01-00Z", "2026-05-09T03:00:00Z", 512),
			manifest("2026-05-09T25-00Z", "2026-05-09T03:00:00Z", 512),
			manifest("2026-05-09t01-00z", "2026-05-09T03:00:00Z", 512),
			manifest("latest", "2026-05-09T03:00:00Z", 512),
			{Key: base + "2026-05-09T02-00Z", LastModified: at("2026-05-09T03:00:00Z"), Size: 512},
		}},
		{name: "names almost a delivery's date take no delivery's place", objects: []awssim.Object{real,
			manifest("2026-05-09T5-00Z", "2026-05-09T05:10:00Z", 512), manifest("2026-05-09T6-00Z", "2026-05-09T06:10:00Z", 512),
			manifest("2026-05-09T7-00Z", "2026-05-09T07:10:00Z", 512)},
			newest: "2026-05-09T01:00:00Z", calls: 2},
		{name: "thousands of future folders cost one page", objects: []awssim.Object{real},
			series: []awssim.Reports{{SourceBucket: "src-data", ConfigID: "daily", Prefix: "inv", Last: at("2046-01-01T00:00:00Z"), Count: 5000}},
			newest: "2026-05-09T01:00:00Z", ignored: 999, calls: 2},
		{name: "a year of deliveries", series: []awssim.Reports{{SourceBucket: "src-data", ConfigID: "daily", Prefix: "inv", Last: at("2026-05-09T01:00:00Z"), Count: 365}},
			newest: "2026-05-09T01:00:00Z", calls: 2},
		{name: "thousands of names in the window", objects: append(many(12000, func(i int) string { return fmt.Sprintf("2026-05-01T00-00Z-%05d/manifest.json", i) }), real),
			failure: "InvalidPagination"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, calls := readReports(t, now, c.objects, c.series)
			if got.Failure != nil || c.failure != "" {
				if got.Failure == nil || got.Failure.Code != c.failure {
					t.Fatalf("failure %+v; want code %q", got.Failure, c.failure)
				}
				if !got.Newest.IsZero() {
					t.Errorf("a failed listing found the report of %s", got.Newest)
				}
				return
			}
			newest := ""
			if !got.Newest.IsZero() {
				newest = got.Newest.Format(time.RFC3339)
			}
			if newest != c.newest || got.Ignored != c.ignored {
				t.Errorf("newest %q, %d ignored; want %q, %d ignored", newest, got.Ignored, c.newest, c.ignored)
			}
			if c.calls > 0 && calls != c.calls {
				t.Errorf("%d ListObjectsV2 calls; want %d", calls, c.calls)
			}
		})
	}
}

// readReports scans a source account whose one Daily configuration
// delivers under inv/ to a bucket of another account holding objects and
// series, at now, and returns what the scan read of its reports and the
// ListObjectsV2 calls it made.
func readReports(t *testing.T, now time.Time, objects []awssim.Object, series []awssim.Reports) (inventory.ReportsRead, int) {
	t.Helper()
	const src, dst = "111111111111", "222222222222"
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}, Accounts: []awssim.Account{
		{ID: src, Buckets: []awssim.Bucket{{Name: "src-data", Inventory: []awssim.InventoryConfig{{ID: "daily", Enabled: true, Frequency: "Daily",
			Destination: awssim.Destination{AccountID: dst, Bucket: "arn:aws:s3:::reports", Prefix: "inv"}}}}}},
		{ID: dst, Buckets: []awssim.Bucket{{Name: "reports", Objects: objects, Reports: series}}},
	}}}
	e := newEnv(t, fx)
	org := inventory.Org{ID: "o-sim0example", FromOrganizations: true, Members: map[string]bool{src: true, dst: true},
		Targets: []inventory.Account{{ID: src}, {ID: dst}}}
	s, err := scan.New(e.conn, scan.Options{Destinations: true, Organization: org, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := &checks{}
	if err := s.Scan(context.Background(), org.Targets, h); err != nil {
		t.Fatal(err)
	}
	if len(h.cs) != 1 || h.cs[0].Reports == nil {
		t.Fatalf("destination checks %+v; want one, with its reports read", h.cs)
	}
	return *h.cs[0].Reports, e.srv.Calls("ListObjectsV2")
}

// TestDestinationsPerBucket: a bucket of more enabled configurations than
// Options.DestinationsPerBucket has the destinations of the first (by ID)
// read, and the others stand in one check that reads nothing, whose
// failure says how many were skipped.
func TestDestinationsPerBucket(t *testing.T) {
	const src, dst = "111111111111", "222222222222"
	tmpl := awssim.InventoryConfig{ID: "a-first", Enabled: true, Frequency: "Daily",
		Destination: awssim.Destination{AccountID: dst, Bucket: "arn:aws:s3:::reports", Prefix: "inv"}}
	fx := &awssim.Fixture{Organization: awssim.Organization{Role: &awssim.Role{Name: roleName, ExternalID: extID}, Accounts: []awssim.Account{
		{ID: src, Buckets: []awssim.Bucket{
			{Name: "flooded", Inventory: []awssim.InventoryConfig{tmpl}, Generated: 999},
			{Name: "plain", Inventory: []awssim.InventoryConfig{tmpl}},
		}},
		{ID: dst, Buckets: []awssim.Bucket{{Name: "reports"}}},
	}}}
	e := newEnv(t, fx)
	org := inventory.Org{ID: "o-sim0example", FromOrganizations: true, Members: map[string]bool{src: true, dst: true},
		Targets: []inventory.Account{{ID: src}, {ID: dst}}}
	s, err := scan.New(e.conn, scan.Options{Destinations: true, DestinationsPerBucket: 3, Organization: org})
	if err != nil {
		t.Fatal(err)
	}
	h := &checks{}
	if err := s.Scan(context.Background(), org.Targets, h); err != nil {
		t.Fatal(err)
	}
	var read []string
	var skipped []inventory.DestinationCheck
	for _, c := range h.cs {
		switch {
		case c.Failure != nil:
			skipped = append(skipped, c)
		case c.Reports != nil:
			read = append(read, c.Bucket.Name+"/"+c.Config.ID)
		}
	}
	slices.Sort(read)
	if want := []string{"flooded/a-first", "flooded/gen-0001", "flooded/gen-0002", "plain/a-first"}; !slices.Equal(read, want) {
		t.Errorf("destinations read of %v; want %v", read, want)
	}
	if len(skipped) != 1 || skipped[0].Bucket.Name != "flooded" || skipped[0].Config.ID != "gen-0003" || skipped[0].Failure.Code != "TooManyConfigurations" ||
		!strings.Contains(skipped[0].Failure.Message, `the destinations of 997, from "gen-0003" on, were not read`) {
		t.Errorf("skipped checks %+v", skipped)
	}
	if n := e.srv.Calls("ListObjectsV2"); n != 4 {
		t.Errorf("%d ListObjectsV2 calls; want 4, one a configuration read", n)
	}
	if _, err := scan.New(e.conn, scan.Options{DestinationsPerBucket: 10001}); err == nil || !strings.Contains(err.Error(), "destinations per bucket 10001: want 1 to 10000") {
		t.Errorf("DestinationsPerBucket 10001: %v", err)
	}
}
