package remediate

import (
	"sync"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// Reads is what one scan read, the planner's only input besides the
// policy.
type Reads struct {
	ScanID   string
	Org      inventory.Org
	Buckets  []inventory.BucketResult
	Checks   []inventory.DestinationCheck
	Accounts []inventory.AccountResult
}

// Collector keeps what a run reads (it is a pipeline.Tap), safe for the
// scanner's goroutines.
type Collector struct {
	mu sync.Mutex
	r  Reads
}

// Begin records the organization and the scan's ID.
func (c *Collector) Begin(org inventory.Org, scanID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Org, c.r.ScanID = org, scanID
}

// Bucket records a bucket's configurations.
func (c *Collector) Bucket(r inventory.BucketResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Buckets = append(c.r.Buckets, r)
}

// Destinations records an account's destination checks.
func (c *Collector) Destinations(_ inventory.Account, checks []inventory.DestinationCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Checks = append(c.r.Checks, checks...)
}

// Account records an account's close.
func (c *Collector) Account(r inventory.AccountResult) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.r.Accounts = append(c.r.Accounts, r)
}

// Reads returns what was recorded.
func (c *Collector) Reads() Reads {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.r
}
