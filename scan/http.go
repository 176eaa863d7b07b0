package scan

// MaxInFlight is the most AWS requests a Scanner with these options keeps
// in flight at once: AccountConcurrency × BucketConcurrency, shared by
// every account (role assumption, bucket listing and inventory reads all
// count).
func (o Options) MaxInFlight() int {
	o = o.withDefaults()
	return o.AccountConcurrency * o.BucketConcurrency
}
