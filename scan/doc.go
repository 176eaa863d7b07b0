// Package scan gathers the inventory configurations of every bucket of
// every account of an AWS Organization, as plain data (package
// internal/inventory) for the rules to evaluate.
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
// are streamed to the Handler as they come. NewHTTPClient sizes the
// connection pool to match.
//
// Nothing fails silently. A role that cannot be assumed closes the account
// as ROLE_UNAVAILABLE (SCAN-001); a failed ListBuckets as BUCKETS_UNLISTED
// (SCAN-002); a bucket whose configurations cannot be read is delivered with
// a Failure (SCAN-003) and named in AccountResult.Unreadable; an account cut
// short by the deadline is INCOMPLETE (SCAN-004). One account's failure
// never stops the others.
//
// The SDK has no paginator for ListBucketInventoryConfigurations: one
// function, listInventory, owns that continuation-token loop and refuses a
// truncated page without a token, a repeated token, or an endless stream of
// pages (ErrPagination). Each bucket is called in its own region; when S3
// answers that the bucket lives elsewhere (301 PermanentRedirect or 400
// AuthorizationHeaderMalformed with x-amz-bucket-region), the call is
// retried once in the region S3 names. Throttling is retried by the SDK's
// retryer, configured once by the caller.
package scan
