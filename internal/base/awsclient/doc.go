// Package awsclient builds the one SDK configuration every AWS client of
// the scanner starts from, and answers the questions about the caller that
// the scan needs before it starts (its partition).
//
// Load is config.LoadDefaultConfig (the standard chain: credentials,
// region, AWS_ENDPOINT_URL*, profiles) with three choices of the scanner's
// own:
//
//   - An HTTP client sized for the scan's concurrency (NewHTTPClient): the
//     connection pool keeps a connection for every request in flight, and
//     a response that does not start within ResponseTimeout fails the
//     attempt, which the retryer then retries, so a stalled connection
//     costs one attempt, not the run.
//
//   - A retryer without a retry budget (NewRetryer). The SDK's standard
//     retryer shares a quota of 500 tokens per client: a throttling storm
//     spends it after about 100 throttled retries, and every later throttle
//     then fails at once, whatever AWS_MAX_ATTEMPTS says. Each member
//     account has its own S3 client, so the largest account, the one a
//     storm hits hardest, is also the one that runs dry. A quota protects a
//     service from a fleet of clients retrying into an outage; the scanner
//     is one client whose every call matters for coverage, and it paces
//     itself per account and API (package scan), so NewRetryer keeps the
//     standard retryer's retryable errors and drops the quota
//     (ratelimit.None). Its back-off is short (up to 250 ms for the first
//     retry of a throttle, 50 ms for other transient errors, doubling, at
//     most 5 s): a retry's job is to get past a transient error, while the
//     back-off from a sustained rate limit is the scanner's pacer (which
//     slows the throttled account and API only) and its re-queue of
//     throttled buckets (which waits without holding a place in the
//     request pool).
//
//   - AWS_MAX_ATTEMPTS and max_attempts are honoured: the SDK applies them
//     on top of any retryer. AWS_RETRY_MODE is not: "adaptive" would put
//     one client-side token bucket in each client that every throttle
//     shrinks, random ones included, and that is shared by every API of
//     the account; "standard" would bring the quota back.
//
// A configuration without a region is an error the caller can recognise
// (ErrNoRegion): a configuration mistake, not a failed run.
//
// S3PathStyle makes S3 clients address buckets by path when the endpoint
// is a custom one (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3): a custom host
// has no per-bucket DNS names.
//
// CallStats counts the requests every client of a configuration sends,
// by service and operation, and those answered with a throttle
// (WithCallStats): the Lambda function reports them as metrics after each
// run (package emf).
//
// Partition reads the partition (aws, aws-cn, aws-us-gov, aws-iso, …)
// from the caller's own ARN (sts:GetCallerIdentity), so the member roles'
// ARNs are built in the partition the credentials live in, whatever the
// Region's name looks like.
package awsclient
