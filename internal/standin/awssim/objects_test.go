package awssim

import (
	"testing"
	"time"
)

// TestReportSeriesIsNotMaterialized checks that a long series of report
// deliveries is held as one generator, and that listing a folder in its
// middle finds exactly that delivery.
func TestReportSeriesIsNotMaterialized(t *testing.T) {
	fx := &Fixture{Organization: Organization{Accounts: []Account{{ID: "100000000001", Buckets: []Bucket{{
		Name:    "reports",
		Reports: []Reports{{SourceBucket: "src", ConfigID: "daily", Last: time.Date(2026, 5, 3, 1, 0, 0, 0, time.UTC), Count: maxReports}},
	}}}}}}
	srv, err := New(fx)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := srv.buckets["reports"]
	if len(b.objects) != 1 {
		t.Fatalf("%d object sources; want the one series", len(b.objects))
	}
	s, ok := b.objects[0].(reportSeries)
	if !ok || s.len() != 2*maxReports {
		t.Fatalf("object source %T with %d objects; want a reportSeries of %d", b.objects[0], b.objects[0].len(), 2*maxReports)
	}
	const folder = "src/daily/2000-01-01T01-00Z/"
	page := listObjects(b.objects, folder, folder, "/", 1000)
	if len(page.objects) != 2 || page.objects[1].key != folder+"manifest.json" || page.truncated {
		t.Errorf("listing %s: %+v; want its manifest.checksum and manifest.json", folder, page)
	}
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{{"a/", "a0", true}, {"a\xff", "b", true}, {"\xff\xff", "", false}} {
		if got, ok := prefixEnd(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("prefixEnd(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
