// Package awssim is a simulated AWS organization on one loopback HTTP
// server that speaks the real wire protocols, so the real SDK clients run
// end to end in tests, the demo and the benchmark:
//
//   - STS (query protocol): AssumeRole, GetCallerIdentity. AssumeRole
//     checks the role exists and its ExternalId, and issues credentials of
//     their own (a distinct access key per call, with an Expiration) that
//     act in the role's account only.
//   - Organizations (JSON 1.1): DescribeOrganization, ListAccounts,
//     ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent,
//     with MaxResults 1–20 enforced and, optionally, empty pages that
//     still carry a NextToken.
//   - S3 (REST XML, path-style): ListBuckets (paginated, BucketRegion only
//     for paginated requests), List/Get/Put/DeleteBucketInventoryConfiguration
//     (100 a page, continuation tokens), GetBucketLocation, HeadBucket,
//     GetBucketPolicy (404 NoSuchBucketPolicy without one) and
//     ListObjectsV2 (prefix, delimiter and CommonPrefixes, start-after,
//     max-keys up to 1000, continuation tokens, KeyCount) over the
//     objects a bucket declares and its Reports series: inventory
//     deliveries generated on demand as
//     <prefix>/<source>/<config>/YYYY-MM-DDTHH-MMZ/manifest.json (and
//     manifest.checksum), so a series of any length costs constant memory.
//     A bucket answers only in its own region (301 PermanentRedirect or
//     400 AuthorizationHeaderMalformed with x-amz-bucket-region) and only
//     to the credentials of its account (403 AccessDenied otherwise, and
//     on an x-amz-expected-bucket-owner mismatch).
//   - KMS (JSON 1.1): DescribeKey (key ID or key ARN) and GetKeyPolicy of
//     the keys an account declares, Enabled, Disabled or PendingDeletion.
//     Key policies are served, not evaluated: a key answers only callers
//     of its own account (its member role), in its own region; a key ARN
//     of another account is AccessDeniedException, an unknown key or one
//     of another region NotFoundException.
//
// The service is told from the SigV4 credential scope of the
// Authorization header, and the region of an S3 call from the same scope.
// Signatures are not verified. Credentials the simulator did not issue
// are the management credentials: they may call Organizations and STS, and
// act as the management account in S3.
//
// A Fixture (YAML or Go structs) describes the organization (its
// partition, OU tree, accounts, member roles, buckets and inventory
// configurations) and the faults to inject, each matched by operation,
// account and bucket, always or N times: AccessDenied, throttling
// (SlowDown, Throttling, TooManyRequestsException, KMS's
// ThrottlingException), NoSuchBucket, 500
// InternalError and 503 ServiceUnavailable bursts, connection resets (the
// connection closed without an answer), late answers (Delay), and
// misbehaving pagination (a repeated continuation token in any listing,
// an inventory page truncated without a token).
//
// Server-wide behaviour comes from options: WithLatency adds a round trip
// to every call; WithThrottle throttles any call at random with a given
// probability and seed; WithAccountRateLimit gives each account a token
// bucket (requests per second and burst) shared by all its APIs, answered
// with each service's own throttling error. Server.Calls counts requests
// per operation (retries included), safely under concurrency.
//
//	srv, err := awssim.New(fx)
//	defer srv.Close()
//	// AWS_ENDPOINT_URL=srv.URL(), credentials from srv.ManagementCredentials()
package awssim
