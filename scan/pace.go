package scan

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
)

// The pacer's constants. A window closes after at least windowAttempts
// attempts and windowTime; what it saw sets the rate of the next one.
const (
	windowAttempts = 20
	windowTime     = time.Second
	// overLimit is the share of throttled attempts in a window above
	// which the API is taken to be over the account's limit. Below it,
	// throttles are noise (S3 throttles some requests of a partition that
	// is scaling, whatever the rate): cutting the rate for them would cost
	// time and save nothing, since those calls are retried anyway.
	overLimit = 0.25
	// Over the limit, the rate drops to decrease × the rate of calls the
	// service accepted in the window: the limit, measured. Otherwise a
	// limited rate grows by growth every window, and is lifted once it is
	// twice what the account asks for.
	decrease = 0.9
	growth   = 1.1
	minRate  = 1.0 // calls per second
)

// pacer paces the calls of one account, one rate per API. Nothing is
// paced until the API is throttled: a scan that is never throttled runs
// at the speed of its request pool. Each account has its own pacer, so
// a throttled account slows itself only, and the scanner waits for the
// pacer before it takes a place in the shared request pool, so a slowed
// account holds no place while it waits.
//
// It is the SDK's adaptive retry mode's idea (a client-side rate that
// drops when throttled and grows back) with three differences: it is
// keyed by account and API, not by client; it drops only when a window's
// share of throttled attempts says the rate is over a limit, so random
// throttling does not collapse it; and it drops to the rate the service
// actually accepted, so it settles near the limit in one step.
type pacer struct {
	mu   sync.Mutex
	apis map[string]*apiRate
}

func newPacer() *pacer { return &pacer{apis: map[string]*apiRate{}} }

func (p *pacer) api(op string) *apiRate {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.apis[op]
	if a == nil {
		a = &apiRate{}
		p.apis[op] = a
	}
	return a
}

// wait blocks until a call of op may start, or ctx ends.
func (p *pacer) wait(ctx context.Context, op string) error {
	d := p.api(op).reserve(time.Now())
	if d <= 0 {
		return ctx.Err()
	}
	return backoff.Sleep(ctx, d)
}

// done records how a call of op went: every attempt the SDK made (from the
// result's metadata), throttled or not.
func (p *pacer) done(op string, md middleware.Metadata, err error) {
	attempts, throttled := 1, 0
	if r, ok := retry.GetAttemptResults(md); ok && len(r.Results) > 0 {
		attempts = len(r.Results)
		for _, a := range r.Results {
			if awserr.Classify(a.Err) == awserr.Throttled {
				throttled++
			}
		}
	} else if awserr.Classify(err) == awserr.Throttled {
		throttled = 1 // a failed call's attempts are not reported
	}
	p.api(op).record(time.Now(), attempts, throttled)
}

// apiRate is the rate of one account's calls to one API.
type apiRate struct {
	mu   sync.Mutex
	rate float64   // calls per second; 0 while not limited
	next time.Time // when the next call may start

	start               time.Time // of the window
	attempts, throttled int
}

// reserve books the next start and returns how long to wait for it.
func (a *apiRate) reserve(now time.Time) time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.rate == 0 {
		return 0
	}
	t := a.next
	if t.Before(now) {
		t = now
	}
	a.next = t.Add(time.Duration(float64(time.Second) / a.rate))
	return t.Sub(now)
}

func (a *apiRate) record(now time.Time, attempts, throttled int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.start.IsZero() {
		a.start = now
	}
	a.attempts += attempts
	a.throttled += throttled
	elapsed := now.Sub(a.start)
	if a.attempts < windowAttempts || elapsed < windowTime {
		return
	}
	secs := elapsed.Seconds()
	switch {
	case float64(a.throttled) > overLimit*float64(a.attempts):
		a.rate = max(minRate, decrease*float64(a.attempts-a.throttled)/secs)
	case a.rate > 0:
		a.rate *= growth
		if a.rate > 2*float64(a.attempts)/secs {
			a.rate = 0 // no longer what limits the account
		}
	}
	a.start, a.attempts, a.throttled = now, 0, 0
}

// The APIs the pacer keys on.
const (
	opListBuckets     = "ListBuckets"
	opInventory       = "ListBucketInventoryConfigurations"
	opGetBucketPolicy = "GetBucketPolicy"
	opListObjects     = "ListObjectsV2"
	opDescribeKey     = "DescribeKey"
	opGetKeyPolicy    = "GetKeyPolicy"
)

// pacedS3 reports every call's attempts to the account's pacer.
type pacedS3 struct {
	S3API
	p *pacer
}

func (c pacedS3) ListBuckets(ctx context.Context, in *s3.ListBucketsInput, optFns ...func(*s3.Options)) (*s3.ListBucketsOutput, error) {
	out, err := c.S3API.ListBuckets(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opListBuckets, md, err)
	return out, err
}

func (c pacedS3) ListBucketInventoryConfigurations(ctx context.Context, in *s3.ListBucketInventoryConfigurationsInput, optFns ...func(*s3.Options)) (*s3.ListBucketInventoryConfigurationsOutput, error) {
	out, err := c.S3API.ListBucketInventoryConfigurations(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opInventory, md, err)
	return out, err
}

// errNoDestinationAPI is the error of a destination read through a client
// that cannot make it.
var errNoDestinationAPI = errors.New("the account's S3 client cannot read destinations")

func (c pacedS3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	d, ok := c.S3API.(DestinationS3API)
	if !ok {
		return nil, errNoDestinationAPI
	}
	out, err := d.GetBucketPolicy(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opGetBucketPolicy, md, err)
	return out, err
}

func (c pacedS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	d, ok := c.S3API.(DestinationS3API)
	if !ok {
		return nil, errNoDestinationAPI
	}
	out, err := d.ListObjectsV2(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opListObjects, md, err)
	return out, err
}

// KMS returns the account's KMS client, paced like its S3 calls; nil when
// the account's client has none.
func (c pacedS3) KMS() KMSAPI {
	kp, ok := c.S3API.(KMSProvider)
	if !ok || kp.KMS() == nil {
		return nil
	}
	return pacedKMS{KMSAPI: kp.KMS(), p: c.p}
}

// pacedKMS reports every KMS call's attempts to the account's pacer.
type pacedKMS struct {
	KMSAPI
	p *pacer
}

func (c pacedKMS) DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error) {
	out, err := c.KMSAPI.DescribeKey(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opDescribeKey, md, err)
	return out, err
}

func (c pacedKMS) GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, optFns ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error) {
	out, err := c.KMSAPI.GetKeyPolicy(ctx, in, optFns...)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	c.p.done(opGetKeyPolicy, md, err)
	return out, err
}
