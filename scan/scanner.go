package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/semaphore"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/internal/base/inventory"
)

// S3API is the part of the S3 client the scanner uses.
type S3API interface {
	s3.ListBucketsAPIClient
	ListBucketInventoryConfigurations(context.Context, *s3.ListBucketInventoryConfigurationsInput, ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Connector gives the S3 client of a member account. RoleConnector is the
// real one; tests use fakes.
type Connector interface {
	Connect(ctx context.Context, acct inventory.Account) (S3API, error)
}

// Handler consumes results as they are produced. Its methods are called
// from several goroutines at once, for different accounts and buckets.
// Every Bucket call of an account returns before that account's Account
// call. Results are streamed, never collected, so the scanner's memory does
// not grow with the number of buckets.
//
// A Handler error (a findings write that failed) marks the account
// INCOMPLETE, so that nothing is resolved on the strength of findings that
// were not stored, and is returned by Scan.
type Handler interface {
	Bucket(ctx context.Context, r inventory.BucketResult) error
	Account(ctx context.Context, r inventory.AccountResult) error
}

// Options tune a Scanner. The zero value is usable.
type Options struct {
	// AccountConcurrency is how many accounts are started at once
	// (default 8): role assumed, buckets listed and handed out for
	// reading. An account whose buckets are all handed out frees its
	// place for the next account while its last reads finish.
	AccountConcurrency int
	// BucketConcurrency sizes the pool of requests in flight (default
	// 16): at most AccountConcurrency × BucketConcurrency AWS requests
	// (MaxInFlight) are in flight at once, shared by every account, so
	// one account's setup or tail never leaves the others' reads waiting.
	BucketConcurrency int
	// PageSize is the ListBuckets page size, 1–10,000 (default 1,000).
	PageSize int
	// ThrottleRounds is how many times throttled work, and work that met
	// the service's own trouble (5xx answers, failed connections), is
	// tried again after the SDK's own retries gave up (default 4): an
	// AssumeRole or ListBuckets page after a back-off, a bucket put back
	// in its account's queue. Only then is it a failure, with the code
	// Throttled or the service's error code.
	ThrottleRounds int
	// ThrottleBackoff is the back-off before the first round (default
	// 1 s); it doubles every round, with jitter, up to a minute. A
	// re-queued bucket waits without holding a place in the request
	// pool.
	ThrottleBackoff time.Duration
	// DeadlineMargin is kept free before the context's deadline: the scan
	// stops calling AWS then, so results can still be written. Accounts
	// not finished by then are INCOMPLETE.
	DeadlineMargin time.Duration
	// Destinations turns on the destination reads of the destination
	// rules (see DestinationHandler): each account's enabled
	// configurations are followed to their destination bucket, KMS key
	// and reports before the account is closed. The handler must be a
	// DestinationHandler.
	Destinations bool
	// DestinationsPerBucket is how many enabled configurations of one
	// bucket are followed to their destinations, the first by ID
	// (default 100; a run passes its policy's limits.findings_per_bucket).
	// A member account decides how many configurations its buckets have:
	// the others of a bucket are one DestinationCheck whose Failure is
	// TooManyConfigurations, and nothing is read for them.
	DestinationsPerBucket int
	// Organization is the organization the accounts belong to: its ID,
	// and its members (a static list: the listed accounts), outside which
	// a destination is not read and no role is assumed
	// (OutsideOrganization; OutsideScope for a static list). The zero
	// value reads the destinations of the scanned accounts only.
	Organization inventory.Org
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives progress and failures (default: discard).
	Logger *slog.Logger
}

// Validate checks the options' ranges.
func (o Options) Validate() error {
	switch {
	case o.AccountConcurrency < 0 || o.AccountConcurrency > 256:
		return fmt.Errorf("account concurrency %d: want 1 to 256", o.AccountConcurrency)
	case o.BucketConcurrency < 0 || o.BucketConcurrency > 256:
		return fmt.Errorf("bucket concurrency %d: want 1 to 256", o.BucketConcurrency)
	case o.PageSize < 0 || o.PageSize > 10000:
		return fmt.Errorf("page size %d: want 1 to 10000", o.PageSize)
	case o.ThrottleRounds < 0 || o.ThrottleRounds > 20:
		return fmt.Errorf("throttle rounds %d: want 1 to 20 (0: the default, 4)", o.ThrottleRounds)
	case o.ThrottleBackoff < 0:
		return fmt.Errorf("throttle back-off %s: want a duration of 0 or more", o.ThrottleBackoff)
	case o.DeadlineMargin < 0:
		return fmt.Errorf("deadline margin %s: want a duration of 0 or more", o.DeadlineMargin)
	case o.DestinationsPerBucket < 0 || o.DestinationsPerBucket > 10000:
		return fmt.Errorf("destinations per bucket %d: want 1 to 10000 (0: the default, 100)", o.DestinationsPerBucket)
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.AccountConcurrency == 0 {
		o.AccountConcurrency = 8
	}
	if o.BucketConcurrency == 0 {
		o.BucketConcurrency = 16
	}
	if o.PageSize == 0 {
		o.PageSize = 1000
	}
	if o.ThrottleRounds == 0 {
		o.ThrottleRounds = 4
	}
	if o.ThrottleBackoff == 0 {
		o.ThrottleBackoff = time.Second
	}
	if o.DestinationsPerBucket == 0 {
		o.DestinationsPerBucket = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Scanner scans accounts for their buckets' inventory configurations.
type Scanner struct {
	conn Connector
	opts Options
}

// New returns a Scanner that reaches accounts through conn.
func New(conn Connector, opts Options) (*Scanner, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &Scanner{conn: conn, opts: opts.withDefaults()}, nil
}

// Scan scans the accounts and streams the results to h. A failing account
// never stops the others: its failure is recorded in its AccountResult.
// Scan returns when every account has been closed with h.Account; its error
// joins the handler's errors, if any.
//
// When ctx has a deadline, no AWS call is started after the deadline less
// Options.DeadlineMargin; the accounts cut short are closed as INCOMPLETE,
// and the handler still gets the parent ctx to write them.
func (s *Scanner) Scan(ctx context.Context, accounts []inventory.Account, h Handler) error {
	awsCtx, cancel := s.awsContext(ctx)
	defer cancel()

	var (
		mu      sync.Mutex
		errs    []error
		wg      sync.WaitGroup
		collect = func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}
		starts = semaphore.NewWeighted(int64(s.opts.AccountConcurrency))
		pool   = semaphore.NewWeighted(int64(s.opts.MaxInFlight()))
		dr     = s.destReads(h, pool, accounts)
	)
	for _, acct := range accounts {
		// Never fails: ctx is not the AWS context, every account is
		// closed, cut short or not.
		_ = starts.Acquire(context.WithoutCancel(ctx), 1)
		wg.Go(func() {
			collect(s.scanAccount(ctx, awsCtx, acct, h, pool, dr, func() { starts.Release(1) }))
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// destReads returns the destination reads of a scan of accounts, or nil
// when the scan reads no destination (Options.Destinations, and a
// handler that takes them).
func (s *Scanner) destReads(h Handler, pool *semaphore.Weighted, accounts []inventory.Account) *destReads {
	if dh, ok := h.(DestinationHandler); ok && s.opts.Destinations && dh != nil {
		return newDestReads(s, pool, accounts)
	}
	return nil
}

// awsContext returns the context for AWS calls: it ends DeadlineMargin
// before ctx's deadline.
func (s *Scanner) awsContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && s.opts.DeadlineMargin > 0 {
		return context.WithDeadline(ctx, d.Add(-s.opts.DeadlineMargin))
	}
	return context.WithCancel(ctx)
}

// accountScan is the state of one account's scan.
type accountScan struct {
	// only, when set, are the buckets to read (a chunk): the account's
	// buckets are not listed. split, when set, hands out the buckets of
	// an account that has too many (ScanSplit).
	only  []inventory.Bucket
	split *splitter

	mu         sync.Mutex
	res        inventory.AccountResult
	incomplete *inventory.Failure // first reason the account is not finished
	handlerErr error
	throttled  []inventory.BucketResult // reads to put back in the queue
	// pending are the enabled configurations whose destinations are read
	// once the buckets are (Options.Destinations).
	pending []pendingConfig
}

// requeue puts a throttled bucket back in the account's queue.
func (a *accountScan) requeue(r inventory.BucketResult) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.throttled = append(a.throttled, r)
}

// takeRequeued empties the queue of throttled buckets.
func (a *accountScan) takeRequeued() []inventory.BucketResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := a.throttled
	a.throttled = nil
	return out
}

func (a *accountScan) cutShort(f *inventory.Failure) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.incomplete == nil {
		a.incomplete = f
	}
}

var deadlineFailure = &inventory.Failure{Code: "Deadline", Message: "the run ended before the account was finished"}

// scanAccount scans one account and closes it with h.Account. Every AWS
// call holds a place in pool; started is called exactly once, when the
// account's buckets are all handed out (or none more will be). It returns
// the handler's errors.
func (s *Scanner) scanAccount(ctx, awsCtx context.Context, acct inventory.Account, h Handler, pool *semaphore.Weighted, dr *destReads, started func()) error {
	return s.scanOne(ctx, awsCtx, &accountScan{}, acct, h, pool, dr, started)
}

// scanOne scans one account as scanAccount does, with st's chunk or
// splitter, and reads the destinations of what it read when dr is set.
func (s *Scanner) scanOne(ctx, awsCtx context.Context, st *accountScan, acct inventory.Account, h Handler, pool *semaphore.Weighted, dr *destReads, started func()) error {
	log := s.opts.Logger.With("account", acct.ID)
	st.res = inventory.AccountResult{Account: acct, StartedAt: s.opts.Now()}
	if dr != nil {
		st.pending = []pendingConfig{}
	}
	status, fail := s.walkAccount(ctx, awsCtx, acct, h, st, pool, dr, started)
	if dr != nil && status == inventory.AccountComplete && st.incomplete == nil {
		s.readDestinations(ctx, awsCtx, acct, h.(DestinationHandler), st, dr)
	}

	res := st.res
	res.Status, res.Failure = status, fail
	if status == inventory.AccountComplete && st.incomplete != nil {
		res.Status, res.Failure = inventory.AccountIncomplete, st.incomplete
	}
	res.FinishedAt = s.opts.Now()
	switch res.Status {
	case inventory.AccountComplete:
		log.DebugContext(ctx, "account scanned", "buckets", res.Buckets, "configs", res.Configs, "unreadable", len(res.Unreadable))
	default:
		log.WarnContext(ctx, "account not fully scanned", "status", res.Status, "code", res.Failure.Code, "error", res.Failure.Message,
			"buckets", res.Buckets, "visited", res.Visited)
	}
	err := h.Account(ctx, res)
	if err != nil {
		err = fmt.Errorf("account %s: %w", acct.ID, err)
	}
	return errors.Join(st.handlerErr, err)
}

// walkAccount assumes the role, lists the buckets and reads each one. It
// returns the account's status as far as AWS is concerned, once every read
// it started has finished.
//
// Throttling and the service's trouble (5xx answers, failed connections)
// that outlast the SDK's retries are tried again, up to ThrottleRounds
// times with a growing back-off: AssumeRole and ListBuckets in place (an
// account still failing so is INCOMPLETE, with the code Throttled or the
// service's error code, never ROLE_UNAVAILABLE or BUCKETS_UNLISTED), and
// buckets by putting them back in the account's queue, to be read again
// once the account's other reads are done (a bucket failing every round
// is delivered unreadable, code Throttled or the service's).
func (s *Scanner) walkAccount(ctx, awsCtx context.Context, acct inventory.Account, h Handler, st *accountScan, pool *semaphore.Weighted, dr *destReads, started func()) (status inventory.AccountStatus, fail *inventory.Failure) {
	// The account's destinations wait for its listing to end, complete or
	// not.
	defer func() { dr.listed(acct.ID, false) }()
	// Deferred functions run last in, first out: the next account may
	// start as soon as this one hands out no more buckets, and this one
	// returns only when its reads are over (no goroutine outlives it).
	var reads sync.WaitGroup // bounded by the pool: a read starts only with a place
	defer reads.Wait()
	var startedOnce sync.Once
	release := func() { startedOnce.Do(started) }
	defer release()

	api, pace, err := s.connectAccount(awsCtx, acct, pool, dr)
	if err != nil {
		switch awserr.Classify(err) {
		case awserr.Canceled:
			return inventory.AccountIncomplete, deadlineFailure
		case awserr.Throttled, awserr.Transient: // AWS's trouble, not the role's
			return inventory.AccountIncomplete, failure(err)
		}
		return inventory.AccountRoleUnavailable, failure(err)
	}

	// dispatch hands a bucket to a reader once the account's pace and a
	// place in the pool allow; the pace is waited for first, so a slowed
	// account holds no place while it waits.
	dispatch := func(b inventory.Bucket) {
		if pace.wait(awsCtx, opInventory) != nil || pool.Acquire(awsCtx, 1) != nil {
			st.cutShort(deadlineFailure)
			return
		}
		reads.Go(func() {
			defer pool.Release(1)
			s.visitBucket(ctx, awsCtx, api, acct, b, h, st)
		})
	}

	if st.only != nil {
		for _, b := range st.only {
			st.res.Buckets++
			dispatch(b)
		}
		return s.readAgain(ctx, awsCtx, acct, h, st, &reads, dispatch, release)
	}

	if status, fail := s.listBuckets(ctx, awsCtx, acct, api, pace, pool, st, dispatch); fail != nil {
		return status, fail
	}
	dr.listed(acct.ID, true)
	if sp := st.split; sp != nil {
		if err := sp.flush(ctx, acct); err != nil {
			st.res.Chunks = sp.sent
			return inventory.AccountIncomplete, &inventory.Failure{Code: "ChunkNotQueued", Message: err.Error()}
		}
		if sp.sent > 0 {
			st.res.Chunks = sp.sent
			return inventory.AccountComplete, nil
		}
		for _, b := range sp.buf { // few enough to read here
			dispatch(b)
		}
		sp.buf = nil
	}
	return s.readAgain(ctx, awsCtx, acct, h, st, &reads, dispatch, release)
}

// connectAccount assumes the account's role, or shares the destination
// reads' connection to it (dr set), and returns its S3 client paced by
// the account's pacer. Every AWS call takes a place in the pool first; a
// failed Acquire means the AWS context is over.
func (s *Scanner) connectAccount(awsCtx context.Context, acct inventory.Account, pool *semaphore.Weighted, dr *destReads) (S3API, *pacer, error) {
	if dr != nil {
		// Shared with the destination reads in this account.
		return dr.connectTarget(awsCtx, acct.ID)
	}
	var api S3API
	err := s.throttleRounds(awsCtx, func() error {
		if err := pool.Acquire(awsCtx, 1); err != nil {
			return err
		}
		defer pool.Release(1)
		var err error
		api, err = s.conn.Connect(awsCtx, acct)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	pace := newPacer()
	return pacedS3{S3API: api, p: pace}, pace, nil
}

// listBuckets lists the account's buckets page by page and hands each to
// dispatch, or to the account's splitter; it returns a failure when the
// listing did not end.
func (s *Scanner) listBuckets(ctx, awsCtx context.Context, acct inventory.Account, api S3API, pace *pacer, pool *semaphore.Weighted, st *accountScan, dispatch func(inventory.Bucket)) (inventory.AccountStatus, *inventory.Failure) {
	pages := s3.NewListBucketsPaginator(api,
		&s3.ListBucketsInput{MaxBuckets: aws.Int32(int32(s.opts.PageSize))},
		func(o *s3.ListBucketsPaginatorOptions) { o.Limit = int32(s.opts.PageSize) })
	guard := newPageGuard("list buckets of "+acct.ID, maxBucketPages(s.opts.PageSize))
	for pages.HasMorePages() {
		var page *s3.ListBucketsOutput
		err := s.throttleRounds(awsCtx, func() error {
			if err := pace.wait(awsCtx, opListBuckets); err != nil {
				return err
			}
			if err := pool.Acquire(awsCtx, 1); err != nil {
				return err
			}
			defer pool.Release(1)
			var err error
			page, err = pages.NextPage(awsCtx) // a failed page is asked again
			return err
		})
		if err == nil {
			err = guard.next(aws.ToString(page.ContinuationToken))
		}
		if err != nil {
			switch awserr.Classify(err) {
			case awserr.Canceled:
				return inventory.AccountIncomplete, deadlineFailure
			case awserr.Throttled, awserr.Transient:
				return inventory.AccountIncomplete, failure(fmt.Errorf("list buckets of %s: %w", acct.ID, err))
			}
			return inventory.AccountBucketsUnlisted, failure(fmt.Errorf("list buckets of %s: %w", acct.ID, err))
		}
		for _, b := range page.Buckets {
			st.res.Buckets++ // only this goroutine counts listed buckets
			bucket := inventory.Bucket{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)}
			if st.split == nil {
				dispatch(bucket)
				continue
			}
			if err := st.split.add(ctx, acct, bucket); err != nil {
				st.res.Chunks = st.split.sent
				return inventory.AccountIncomplete, &inventory.Failure{Code: "ChunkNotQueued", Message: err.Error()}
			}
		}
	}
	return inventory.AccountComplete, nil
}

// readAgain waits for the account's reads, and reads the buckets put
// back in its queue again, round after round (walkAccount).
func (s *Scanner) readAgain(ctx, awsCtx context.Context, acct inventory.Account, h Handler, st *accountScan, reads *sync.WaitGroup, dispatch func(inventory.Bucket), release func()) (inventory.AccountStatus, *inventory.Failure) {
	release()

	for round := 1; ; round++ {
		reads.Wait()
		again := st.takeRequeued()
		if len(again) == 0 {
			break
		}
		if round > s.opts.ThrottleRounds {
			for _, r := range again {
				s.deliver(ctx, acct, r, h, st)
			}
			break
		}
		s.opts.Logger.DebugContext(ctx, "buckets throttled, put back in the queue", "account", acct.ID, "buckets", len(again), "round", round)
		if backoff.Sleep(awsCtx, s.throttleBackoff(round)) != nil {
			st.cutShort(deadlineFailure)
			break
		}
		for _, r := range again {
			dispatch(r.Bucket)
		}
	}
	return inventory.AccountComplete, nil
}

// passing reports whether err is worth another round: a throttle, or the
// service's trouble (5xx, a failed connection).
func passing(err error) bool {
	k := awserr.Classify(err)
	return k == awserr.Throttled || k == awserr.Transient
}

// throttleRounds calls fn until it returns anything but a passing error
// (a throttle, a 5xx, a failed connection), or has failed so
// ThrottleRounds+1 times, backing off in between.
func (s *Scanner) throttleRounds(ctx context.Context, fn func() error) error {
	for round := 1; ; round++ {
		err := fn()
		if err == nil || !passing(err) || round > s.opts.ThrottleRounds {
			return err
		}
		if err := backoff.Sleep(ctx, s.throttleBackoff(round)); err != nil {
			return err
		}
	}
}

// throttleBackoff is the back-off before round (1-based): ThrottleBackoff
// doubled each round up to a minute, between half and all of it.
func (s *Scanner) throttleBackoff(round int) time.Duration {
	return backoff.Equal(s.opts.ThrottleBackoff, time.Minute, round)
}

// visitBucket reads one bucket and hands the result to h; a read that
// was throttled or met the service's trouble is put back in the
// account's queue instead.
func (s *Scanner) visitBucket(ctx, awsCtx context.Context, api S3API, acct inventory.Account, b inventory.Bucket, h Handler, st *accountScan) {
	if awsCtx.Err() != nil {
		st.cutShort(deadlineFailure)
		return
	}
	res, err := readBucket(awsCtx, api, acct, b)
	switch awserr.Classify(err) {
	case awserr.Canceled:
		st.cutShort(deadlineFailure) // not unreadable: not finished
		return
	case awserr.Throttled, awserr.Transient:
		st.requeue(res)
		return
	}
	s.deliver(ctx, acct, res, h, st)
}

// deliver hands a bucket's result to h and counts it.
func (s *Scanner) deliver(ctx context.Context, acct inventory.Account, res inventory.BucketResult, h Handler, st *accountScan) {
	if res.Failure != nil {
		s.opts.Logger.WarnContext(ctx, "bucket unreadable", "account", acct.ID, "bucket", res.Bucket.Name, "region", res.Bucket.Region,
			"code", res.Failure.Code, "error", res.Failure.Message)
	}
	herr := h.Bucket(ctx, res)

	st.mu.Lock()
	defer st.mu.Unlock()
	if herr != nil {
		if st.handlerErr == nil {
			st.handlerErr = fmt.Errorf("bucket %s/%s: %w", acct.ID, res.Bucket.Name, herr)
		}
		if st.incomplete == nil {
			st.incomplete = &inventory.Failure{Code: "WriteFailed", Message: "findings could not be stored: " + herr.Error()}
		}
		return
	}
	st.res.Visited++
	st.res.Configs += len(res.Configs)
	if res.Failure != nil {
		st.res.Unreadable = append(st.res.Unreadable, res.Bucket.Name)
	}
	if st.pending != nil {
		st.pending = appendPending(st.pending, res, s.opts.DestinationsPerBucket)
	}
}

// appendPending appends to pending the enabled configurations of a bucket
// that name a destination, the first limit by ID; the others are one
// pendingConfig that stands for them all (Options.DestinationsPerBucket).
func appendPending(pending []pendingConfig, res inventory.BucketResult, limit int) []pendingConfig {
	var cs []inventory.Config
	for _, c := range res.Configs {
		if c.Enabled && c.Destination.BucketARN != "" {
			cs = append(cs, c)
		}
	}
	var rest *pendingConfig
	if len(cs) > limit {
		slices.SortStableFunc(cs, func(a, b inventory.Config) int { return cmp.Compare(a.ID, b.ID) })
		rest = &pendingConfig{bucket: res.Bucket, config: cs[limit], skipped: len(cs) - limit}
		cs = cs[:limit]
	}
	for _, c := range cs {
		pending = append(pending, pendingConfig{bucket: res.Bucket, config: c})
	}
	if rest != nil {
		pending = append(pending, *rest)
	}
	return pending
}

// readDestinations reads the destinations of the account's enabled
// configurations and hands them to h; an account whose reads the
// deadline cut short is INCOMPLETE, one whose handler failed too.
func (s *Scanner) readDestinations(ctx, awsCtx context.Context, acct inventory.Account, h DestinationHandler, st *accountScan, dr *destReads) {
	checks, done := dr.check(awsCtx, acct, st.pending)
	st.pending = nil
	if !done {
		st.cutShort(deadlineFailure)
		return
	}
	if err := h.Destinations(ctx, acct, checks); err != nil {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.handlerErr == nil {
			st.handlerErr = fmt.Errorf("destinations of %s: %w", acct.ID, err)
		}
		if st.incomplete == nil {
			st.incomplete = &inventory.Failure{Code: "WriteFailed", Message: "findings could not be stored: " + err.Error()}
		}
	}
}
