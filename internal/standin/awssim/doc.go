// Package awssim is a simulated AWS organization on one loopback HTTP
// server that speaks the real wire protocols, so the real SDK clients run
// end to end in tests, the demo and the benchmark:
//
//   - STS (query protocol): AssumeRole, GetCallerIdentity. AssumeRole
//     checks the role exists (the account's member role or one of its
//     further roles, such as a remediation role) and its ExternalId, and
//     issues credentials of their own (a distinct access key per call,
//     with an Expiration) that act in the role's account only, as the
//     role's assumed-role session (GetCallerIdentity's ARN).
//   - Organizations (JSON 1.1): DescribeOrganization, ListAccounts,
//     ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent,
//     with MaxResults 1–20 enforced and, optionally, empty pages that
//     still carry a NextToken.
//   - S3 (REST XML, path-style): ListBuckets (paginated, BucketRegion only
//     for paginated requests), List/Get/Put/DeleteBucketInventoryConfiguration
//     (100 a page, continuation tokens), GetBucketLocation, HeadBucket,
//     GetBucketPolicy (404 NoSuchBucketPolicy without one), PutBucketPolicy
//     and
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
//   - KMS (JSON 1.1): DescribeKey (key ID or key ARN), GetKeyPolicy and
//     PutKeyPolicy of the keys an account declares, Enabled, Disabled or
//     PendingDeletion. Key policies are served, not evaluated for the
//     calls: a key answers only callers of its own account (its roles),
//     in its own region; a key ARN of another account is
//     AccessDeniedException, an unknown key or one of another region
//     NotFoundException.
//
// # Writes
//
// The writes change what later reads return, and validate as AWS does:
//
//   - PutBucketInventoryConfiguration replaces the configuration of its
//     Id whole. MalformedXML for what S3's schema forbids (a required
//     element missing: Id, IsEnabled, the destination's Bucket and
//     Format, Schedule/Frequency, IncludedObjectVersions; a Format,
//     Frequency or IncludedObjectVersions S3 does not know; both or
//     neither of SSE-S3 and SSE-KMS; SSE-KMS without KeyId);
//     InvalidArgument for an Id of the query that is not the document's,
//     an Id outside 1-64 of letters, digits, '.', '_' and '-', a
//     destination AccountId that is not 12 digits, a destination Bucket
//     that is not a plain arn:<partition>:s3:::name ("should not specify
//     a namespace" when it names a Region or account), or a destination
//     bucket of the organization in another region than the source;
//     TooManyConfigurations for the 1,001st. Optional fields S3 does not
//     know are kept, standing for fields newer than the SDK.
//   - PutBucketPolicy replaces the policy whole: MalformedPolicy for a
//     document that is not a JSON object, that iampolicy.Parse refuses
//     (a statement without Principal, say), with an action outside s3:
//     or a resource outside the bucket and its objects; PolicyTooLarge
//     above 20 KB, counted as S3 does once the whitespace outside
//     strings is removed. The policy is stored without that whitespace,
//     so GetBucketPolicy may return another text than was put.
//   - PutKeyPolicy (policy name default only) replaces the key policy,
//     kept as sent: ValidationException without a policy,
//     LimitExceededException above 32 KB, MalformedPolicyDocumentException
//     for a character outside printable ASCII and Latin-1 (tab, line feed
//     and carriage return allowed), a policy iampolicy.Parse refuses, or
//     one that fails KMS's lockout check (unless
//     BypassPolicyLockoutSafetyCheck, counted by Server.LockoutBypasses):
//     the new policy must Allow the caller's session kms:PutKeyPolicy on
//     the key, as iampolicy decides; KMSInvalidStateException for a key
//     pending deletion.
//
// Each write is answered only to the credentials of the account that
// owns the bucket or key, and only to a role that is not ReadOnly: a
// read-only role (the scanner's member role, in a fixture that says so)
// gets AccessDenied (S3, 403) or AccessDeniedException (KMS), naming the
// IAM action (s3:PutInventoryConfiguration, which also covers
// DeleteBucketInventoryConfiguration, s3:PutBucketPolicy,
// kms:PutKeyPolicy) and the session. Every fault applies to the writes
// as to the reads, matched by operation, account and bucket.
//
// The service is told from the SigV4 credential scope of the
// Authorization header, and the region of an S3 call from the same scope.
// Signatures are not verified. Credentials the simulator did not issue
// are the management credentials: they may call Organizations and STS, and
// act as the management account in S3.
//
// A Fixture (YAML or Go structs) describes the organization (its
// partition, OU tree, accounts, member roles and further roles, which
// of them are read-only, buckets and inventory configurations) and the
// faults to inject, each matched by operation,
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
