// Package scan gathers the inventory configurations of every bucket of
// every account of an AWS Organization, as plain data (package
// internal/base/inventory) for the rules to evaluate.
//
// The data flow of one run:
//
//	OrganizationAccounts / StaticAccounts   accounts (ACTIVE, filtered)
//	  → RoleConnector.Connect               AssumeRole per account, credentials cached
//	    → ListBuckets paginator             buckets, each with its BucketRegion
//	      → listInventory                   every configuration, in the bucket's region
//	        → Handler.Bucket                one BucketResult per bucket, streamed
//	      → Handler.Account                 one AccountResult per account, last
//
// Scanner.Scan keeps one pool of AWS requests in flight
// (Options.MaxInFlight = AccountConcurrency × BucketConcurrency), shared by
// every account: AssumeRole, each ListBuckets page and each bucket's
// inventory reads take a place in it. At most AccountConcurrency accounts
// are being started (role, bucket listing, handing out their buckets) at
// once; an account whose buckets are all handed out lets the next one
// start while its last reads finish, so no account's setup or tail leaves
// places idle. A bucket is handed out only when a place is free, so
// memory is bounded by the pool, not by the number of buckets; results
// are streamed to the Handler as they come. awsclient.Load, given
// WithMaxInFlight(Options.MaxInFlight()), sizes the connection pool to
// match.
//
// Nothing fails silently. A role that cannot be assumed closes the account
// as ROLE_UNAVAILABLE (SCAN-001); a failed ListBuckets as BUCKETS_UNLISTED
// (SCAN-002), unless AWS was the trouble (throttling, 5xx answers or
// failed connections that outlasted every retry and every round:
// INCOMPLETE, SCAN-004); a bucket whose configurations cannot be read is
// delivered with a Failure (SCAN-003) and named in
// AccountResult.Unreadable; an account cut short by the deadline is
// INCOMPLETE (SCAN-004). One account's failure never stops the others.
//
// Every listing goes through one guard (pageGuard): ListBuckets, the
// Organizations listings and ListBucketInventoryConfigurations, whose
// continuation-token loop one function, listInventory, owns (the SDK has
// no paginator for it). A repeated token, a truncated page without a
// token or an endless stream of pages is ErrPagination, and fails the
// unit the listing belongs to (code InvalidPagination): a bucket is
// unreadable, an account's buckets unlisted, a discovery refused. Each
// bucket is called in its own region; when S3 answers that the bucket
// lives elsewhere (301 PermanentRedirect or 400
// AuthorizationHeaderMalformed with x-amz-bucket-region), the call is
// retried once in the region S3 names.
//
// Throttling never costs coverage. Three layers absorb it:
//
//   - The SDK's retryer, configured once by the caller
//     (awsclient.NewRetryer: no retry quota a storm could spend) retries
//     each call a few times with a short back-off.
//   - Each account has a pacer, one rate per API, that starts unlimited
//     and, once a window of calls shows the API over the account's limit
//     (more than a quarter of its attempts throttled), drops to the rate
//     the service accepted and grows back from there. The scanner waits
//     for the pacer before it takes a place in the shared pool, so a
//     slowed account holds no place and the other accounts run at full
//     speed.
//   - Work still throttled after the SDK's retries (or still meeting 5xx
//     answers or failed connections) is tried again,
//     Options.ThrottleRounds times with a growing back-off: AssumeRole and
//     ListBuckets pages in place, buckets put back in the account's queue
//     and read again once its other reads are done. Only then is it a
//     failure, with the code Throttled: a bucket is unreadable (SCAN-003),
//     an account whose role or bucket list stayed throttled is INCOMPLETE
//     (SCAN-004), never ROLE_UNAVAILABLE or BUCKETS_UNLISTED.
package scan
