package pipeline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/inventory"
)

// recordingTap keeps what a run's Tap receives.
type recordingTap struct {
	mu       sync.Mutex
	begins   int
	scanID   string
	org      inventory.Org
	buckets  []inventory.BucketResult
	checks   []inventory.DestinationCheck
	accounts []inventory.AccountResult
}

func (r *recordingTap) Begin(org inventory.Org, scanID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.begins, r.org, r.scanID = r.begins+1, org, scanID
}

func (r *recordingTap) Bucket(b inventory.BucketResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.buckets = append(r.buckets, b)
}

func (r *recordingTap) Destinations(_ inventory.Account, cs []inventory.DestinationCheck) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, cs...)
}

func (r *recordingTap) Account(a inventory.AccountResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accounts = append(r.accounts, a)
}

// TestTapSeesWhatTheRunRead: the tap of a dry run receives the scan's ID,
// the organization, every bucket and configuration the run counted, the
// destination checks with the policies as read, and every account closed.
func TestTapSeesWhatTheRunRead(t *testing.T) {
	_, settings := golden(t)
	tap := &recordingTap{}
	settings.Tap, settings.Now = tap, func() time.Time { return goldenNow }
	sum, err := pipeline.Run(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	if tap.begins != 1 || tap.scanID != sum.Run.ScanID || len(tap.org.Targets) != len(tap.accounts) {
		t.Errorf("begin %d times, scan %q (run %q), %d targets, %d accounts closed",
			tap.begins, tap.scanID, sum.Run.ScanID, len(tap.org.Targets), len(tap.accounts))
	}
	configs := 0
	for _, b := range tap.buckets {
		configs += len(b.Configs)
	}
	if len(tap.buckets) != sum.Buckets || configs != sum.Configs {
		t.Errorf("tap saw %d buckets, %d configurations; the run counted %d, %d", len(tap.buckets), configs, sum.Buckets, sum.Configs)
	}
	policies := 0
	for _, c := range tap.checks {
		if c.Policy != nil && c.Policy.Policy != "" {
			policies++
		}
	}
	if len(tap.checks) == 0 || policies == 0 {
		t.Errorf("tap saw %d destination checks, %d with a bucket policy", len(tap.checks), policies)
	}
}
