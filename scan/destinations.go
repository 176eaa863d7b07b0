package scan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/inventory"
)

// The destination reads follow each enabled configuration of a scanned
// account to its destination, for the destination rules (INV-110 to
// INV-115). They run once the account's buckets have all been read, and
// before the account is closed, so the account stays one unit of work:
//
//   - each destination bucket's policy is read once per scan
//     (GetBucketPolicy in the owner account, through its member role:
//     NoSuchBucketPolicy is no policy, NoSuchBucket a missing bucket),
//     shared by every configuration and account that delivers there;
//   - each KMS key once per scan (DescribeKey, then GetKeyPolicy), in the
//     account and Region its ARN names;
//   - each configuration's newest report with at most 1 + maxReportFolders
//     ListObjectsV2 calls under <prefix>/<source-bucket>/<config-id>/: one
//     listing with Delimiter "/" and StartAfter the look-back's first
//     folder name finds the dated folders of the last reportLookBack (it
//     ends at the first name dated after the scan's clock plus
//     inventory.ReportClockSkew: those never count), and one listing per
//     folder, newest first, asks for its manifest.json, which counts only
//     when its LastModified agrees with the folder's date
//     (inventory.ReportsRead).
//
// An owner's member role is assumed once per scan, by its own scan or by
// the first destination read that needs it, whichever comes first, and
// its client and pacer are shared. An owner outside the scan's scope is
// not read at all, and its role never assumed: outside the organization
// (OutsideOrganization), or, with a static account list, not one of the
// listed accounts (OutsideScope). Only a missing bucket
// (NoSuchBucket) waits for its owner's listing to end, since INV-110
// needs the owner listed completely. Every call takes the owner's
// pace and a place in the shared request pool, and goes through the same
// throttle rounds as the bucket reads.

// reportLookBack is how far back the reports of a configuration are
// listed: more than the largest window INV-114 accepts (31 days).
const reportLookBack = 32 * 24 * time.Hour

// reportFolder is the layout of an inventory delivery's folder name.
const reportFolder = "2006-01-02T15-04Z"

// maxReportFolders is how many dated folders, newest first, are asked for
// their manifest.json: a delivery in progress has no manifest yet.
const maxReportFolders = 3

// maxReportPages caps the folder listing: 32 days of daily folders fit in
// one page of 1,000. A destination that holds more names than that
// between the look-back's start and now (names that are not deliveries,
// written to hide them) is InvalidPagination: the reports are
// unverifiable (SCAN-005), never fresh.
const maxReportPages = 10

// DestinationHandler is the Handler of a scan that reads destinations
// (Options.Destinations). Destinations is called once per account whose
// scan is complete, after its last Bucket call and before its Account
// call, with one check per enabled configuration that names a
// destination bucket. An error marks the account INCOMPLETE, like a
// Bucket error.
type DestinationHandler interface {
	Destinations(ctx context.Context, acct inventory.Account, checks []inventory.DestinationCheck) error
}

// DestinationS3API is the part of the S3 client the destination reads
// use. The S3API a Connector returns offers it when it can read
// destinations (RoleConnector's does).
type DestinationS3API interface {
	GetBucketPolicy(context.Context, *s3.GetBucketPolicyInput, ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	s3.ListObjectsV2APIClient
}

var _ DestinationS3API = (*s3.Client)(nil)

// KMSAPI is the part of the KMS client the destination reads use.
type KMSAPI interface {
	DescribeKey(context.Context, *kms.DescribeKeyInput, ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetKeyPolicy(context.Context, *kms.GetKeyPolicyInput, ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

var _ KMSAPI = (*kms.Client)(nil)

// KMSProvider is offered by the S3API a Connector returns when it can
// also read the account's KMS keys (RoleConnector's does).
type KMSProvider interface {
	KMS() KMSAPI
}

// pendingConfig is an enabled configuration waiting for its destination
// reads; or, when skipped is set, the first of the skipped configurations
// of a bucket that has more than Options.DestinationsPerBucket, standing
// for them all: none of them is read.
type pendingConfig struct {
	bucket  inventory.Bucket
	config  inventory.Config
	skipped int
}

// owner is an account whose destinations are read. Its member role is
// assumed once per scan, by whichever comes first: its own scan or a
// destination read.
type owner struct {
	id       string
	acct     inventory.Account // as the scan lists it; only the ID for others
	target   bool              // one of the scan's accounts
	byName   bool              // a target whose buckets this scan does not list (a chunk)
	connOnce sync.Once
	api      S3API // paced; nil when the role could not be used
	pace     *pacer
	err      error              // why the role could not be used
	failure  *inventory.Failure // the account cannot be read
	// listed is closed when a target's listing ended; complete says
	// whether every page of its buckets was read.
	listed     chan struct{}
	listedOnce sync.Once
	complete   bool
}

// listedHere says whether this scan lists the owner's buckets itself:
// one of its accounts, and not a chunk's.
func (o *owner) listedHere() bool { return o.target && !o.byName }

// shared is a value read once and shared by every reader.
type shared[T any] struct {
	done   chan struct{}
	v      T
	region string // the bucket's region, as S3 corrected it
	// listed: a missing bucket's owner, not one of the scan's accounts,
	// has no bucket of that name (listByName).
	listed bool
}

// destReads are the destination reads of one scan.
type destReads struct {
	s    *Scanner
	pool *semaphore.Weighted
	org  inventory.Org

	mu       sync.Mutex
	owners   map[string]*owner
	policies map[string]*shared[inventory.PolicyRead]
	keys     map[string]*shared[inventory.KeyRead]
}

func newDestReads(s *Scanner, pool *semaphore.Weighted, targets []inventory.Account) *destReads {
	d := &destReads{s: s, pool: pool, org: s.opts.Organization, owners: make(map[string]*owner, len(targets)),
		policies: map[string]*shared[inventory.PolicyRead]{}, keys: map[string]*shared[inventory.KeyRead]{}}
	for _, a := range targets {
		d.owners[a.ID] = &owner{id: a.ID, acct: a, target: true, listed: make(chan struct{})}
	}
	return d
}

// connect returns the account's paced client and pacer, assuming its
// member role the first time (in throttle rounds, with a place in the
// pool); the error is the first attempt's.
func (d *destReads) connect(awsCtx context.Context, o *owner) (S3API, *pacer, error) {
	o.connOnce.Do(func() {
		if !o.target && !d.org.Members[o.id] {
			o.err, o.failure = errOutside, outside(d.org, o.id)
			return
		}
		var api S3API
		o.err = d.s.throttleRounds(awsCtx, func() error {
			if err := d.pool.Acquire(awsCtx, 1); err != nil {
				return err
			}
			defer d.pool.Release(1)
			var err error
			api, err = d.s.conn.Connect(awsCtx, o.acct)
			return err
		})
		if o.err != nil {
			o.failure = failure(o.err)
			return
		}
		o.pace = newPacer()
		o.api = pacedS3{S3API: api, p: o.pace}
	})
	return o.api, o.pace, o.err
}

var errOutside = errors.New("account outside the scan's scope")

// outside is why account id, neither one of the scan's accounts nor a
// member, is not read: outside the organization, or (a static list) not
// one of the accounts the scan was asked to scan. Its role is never
// assumed.
func outside(org inventory.Org, id string) *inventory.Failure {
	if org.FromOrganizations {
		return &inventory.Failure{Code: "OutsideOrganization", Message: "account " + id + " is not an account of the organization"}
	}
	return &inventory.Failure{Code: "OutsideScope", Message: "account " + id + " is not one of the accounts the scan was asked to scan: its role is not assumed"}
}

// connectTarget connects one of the scan's accounts for its own scan.
func (d *destReads) connectTarget(awsCtx context.Context, id string) (S3API, *pacer, error) {
	d.mu.Lock()
	o := d.owners[id]
	d.mu.Unlock()
	return d.connect(awsCtx, o)
}

// listed closes a scanned account's listing: complete when every page of
// its buckets was read. Only the first call counts.
func (d *destReads) listed(id string, complete bool) {
	if d == nil {
		return
	}
	d.mu.Lock()
	o := d.owners[id]
	d.mu.Unlock()
	o.listedOnce.Do(func() {
		o.complete = complete
		close(o.listed)
	})
}

// owner returns the account id, connected. It fails only when awsCtx
// ends.
func (d *destReads) owner(awsCtx context.Context, id string) (*owner, error) {
	d.mu.Lock()
	o := d.owners[id]
	if o == nil {
		o = &owner{id: id, acct: inventory.Account{ID: id}}
		d.owners[id] = o
	}
	d.mu.Unlock()
	if _, _, err := d.connect(awsCtx, o); err != nil && awsCtx.Err() != nil {
		return nil, awsCtx.Err()
	}
	return o, nil
}

// ownerListed waits for a scanned owner's listing to end and says
// whether it was complete; false for an account this scan does not list.
func (d *destReads) ownerListed(awsCtx context.Context, o *owner) bool {
	if !o.listedHere() {
		return false
	}
	select {
	case <-o.listed:
		return o.complete
	case <-awsCtx.Done():
		return false
	}
}

// call makes one call of op in o's account: the owner's pace, then a
// place in the pool, in throttle rounds.
func (d *destReads) call(awsCtx context.Context, o *owner, op string, fn func() error) error {
	return d.s.throttleRounds(awsCtx, func() error {
		if err := o.pace.wait(awsCtx, op); err != nil {
			return err
		}
		if err := d.pool.Acquire(awsCtx, 1); err != nil {
			return err
		}
		defer d.pool.Release(1)
		return fn()
	})
}

// inRegion makes an S3 call of op in *region; when S3 answers that the
// bucket lives elsewhere, once more in the region it names, which it
// records in *region.
func (d *destReads) inRegion(awsCtx context.Context, o *owner, op string, region *string, fn func(func(*s3.Options)) error) error {
	at := func(r string) func(*s3.Options) {
		return func(opt *s3.Options) {
			if r != "" {
				opt.Region = r
			}
		}
	}
	err := d.call(awsCtx, o, op, func() error { return fn(at(*region)) })
	if err != nil && awserr.Classify(err) == awserr.WrongRegion {
		if r := awserr.BucketRegion(err); r != "" && r != *region {
			*region = r
			err = d.call(awsCtx, o, op, func() error { return fn(at(r)) })
		}
	}
	return err
}

// check reads the destinations of one account's enabled configurations,
// concurrently: as many at once as the pool has places (which bound the
// calls in flight), so an account of many configurations costs that many
// goroutines, not one a configuration. It returns false when awsCtx
// ended before every read was made.
func (d *destReads) check(awsCtx context.Context, acct inventory.Account, pending []pendingConfig) ([]inventory.DestinationCheck, bool) {
	out := make([]inventory.DestinationCheck, len(pending))
	var g errgroup.Group
	g.SetLimit(d.s.opts.MaxInFlight())
	for i := range pending {
		g.Go(func() error { out[i] = d.checkOne(awsCtx, acct, pending[i]); return nil })
	}
	_ = g.Wait() // checkOne returns no error
	return out, awsCtx.Err() == nil
}

func (d *destReads) checkOne(awsCtx context.Context, acct inventory.Account, p pendingConfig) inventory.DestinationCheck {
	dest := p.config.Destination
	dc := inventory.DestinationCheck{Account: acct, Bucket: p.bucket, Config: p.config,
		Owner: orDefault(dest.AccountID, acct.ID), OrgID: d.org.ID, Partition: partitionOf(dest.BucketARN)}
	if p.skipped > 0 {
		dc.Failure = &inventory.Failure{Code: "TooManyConfigurations", Message: fmt.Sprintf(
			"bucket %s has more enabled configurations than the scan follows to their destinations (%d, the first by ID): "+
				"the destinations of %d, from %q on, were not read", p.bucket.Name, d.s.opts.DestinationsPerBucket, p.skipped, p.config.ID)}
		return dc
	}
	if dest.Encryption == inventory.EncryptionSSEKMS && dest.KMSKeyID != "" {
		dc.Key = d.key(awsCtx, dest.KMSKeyID)
	}
	o, err := d.owner(awsCtx, dc.Owner)
	if err != nil {
		dc.Failure = failure(err)
		return dc
	}
	if o.failure != nil {
		dc.Failure = o.failure
		return dc
	}
	pol, region, listedByName := d.policy(awsCtx, o, dest.BucketARN, p.bucket.Region)
	if dest.AccountID == "" && pol.Failure != nil && pol.Failure.Code == "AccessDenied" {
		// Without AccountId the source account was asked as the owner,
		// and S3 denies a bucket another account owns: say so, rather
		// than blame the member role.
		dc.Failure = &inventory.Failure{Code: "OwnerUnknown", Message: "the configuration names no destination AccountId (INV-103), and the bucket is not account " +
			acct.ID + "'s, so its owner could not be asked"}
		return dc
	}
	dc.Policy = &pol
	if pol.Missing {
		// Only a missing bucket waits for its owner's listing (INV-110).
		dc.OwnerListed = listedByName || d.ownerListed(awsCtx, o)
	} else {
		r := d.reports(awsCtx, o, dest, region, p.bucket.Name, p.config.ID)
		dc.Reports = &r
	}
	return dc
}

// policy returns the destination bucket's policy, read once per scan, and
// the bucket's region; for a missing bucket whose owner is not one of the
// scan's accounts, whether the owner has no bucket of that name
// (listByName).
func (d *destReads) policy(awsCtx context.Context, o *owner, bucketARN, region string) (pol inventory.PolicyRead, _ string, listedByName bool) {
	key := o.id + "\x00" + bucketARN
	d.mu.Lock()
	e := d.policies[key]
	first := e == nil
	if first {
		e = &shared[inventory.PolicyRead]{done: make(chan struct{}), region: region}
		d.policies[key] = e
	}
	d.mu.Unlock()
	if first {
		e.v = d.readPolicy(awsCtx, o, bucketARN, &e.region)
		if e.v.Missing && !o.listedHere() {
			e.listed = d.listByName(awsCtx, o, bucketARN)
		}
		close(e.done)
	}
	select {
	case <-e.done:
		return e.v, e.region, e.listed
	case <-awsCtx.Done():
		return inventory.PolicyRead{Failure: deadlineFailure}, region, false
	}
}

// listByName lists the buckets of an owner this scan does not list (an
// account outside its filters, or any other account in a fan-out
// worker, which scans one) from a missing bucket's name on, one bucket:
// buckets are listed by name, so the listing is complete for that name.
// It reports whether the owner has no such bucket; false when the
// listing failed, or found the bucket S3 just called missing.
func (d *destReads) listByName(awsCtx context.Context, o *owner, bucketARN string) bool {
	name, ok := bucketOf(bucketARN)
	if !ok || o.api == nil {
		return false
	}
	var out *s3.ListBucketsOutput
	err := d.call(awsCtx, o, "ListBuckets", func() (err error) {
		out, err = o.api.ListBuckets(awsCtx, &s3.ListBucketsInput{Prefix: aws.String(name), MaxBuckets: aws.Int32(1)})
		return err
	})
	if err != nil {
		d.s.opts.Logger.WarnContext(awsCtx, "owner's buckets not listed", "account", o.id, "bucket", name, "error", err.Error())
		return false
	}
	return len(out.Buckets) == 0 || aws.ToString(out.Buckets[0].Name) != name
}

func (d *destReads) readPolicy(awsCtx context.Context, o *owner, bucketARN string, region *string) inventory.PolicyRead {
	api, ok := o.api.(DestinationS3API)
	if !ok {
		return inventory.PolicyRead{Failure: notSupported}
	}
	name, ok := bucketOf(bucketARN)
	if !ok {
		return inventory.PolicyRead{Failure: &inventory.Failure{Code: "InvalidDestination", Message: "destination " + bucketARN + ": want a bucket ARN such as arn:aws:s3:::name"}}
	}
	in := &s3.GetBucketPolicyInput{Bucket: aws.String(name), ExpectedBucketOwner: aws.String(o.id)}
	var out *s3.GetBucketPolicyOutput
	err := d.inRegion(awsCtx, o, opGetBucketPolicy, region, func(opt func(*s3.Options)) error {
		var err error
		out, err = api.GetBucketPolicy(awsCtx, in, opt)
		return err
	})
	switch {
	case err == nil:
		return inventory.PolicyRead{Policy: aws.ToString(out.Policy)}
	case awserr.Classify(err) == awserr.NotConfigured: // NoSuchBucketPolicy
		return inventory.PolicyRead{}
	case awserr.Classify(err) == awserr.NotFound: // NoSuchBucket
		return inventory.PolicyRead{Missing: true}
	}
	return inventory.PolicyRead{Failure: failure(err)}
}

// reports finds the newest delivery of one configuration that counts
// (inventory.ReportsRead): a dated folder from the look-back's start to
// the scan's clock plus inventory.ReportClockSkew, newest first, whose
// manifest.json agrees with the folder's date.
func (d *destReads) reports(awsCtx context.Context, o *owner, dest inventory.Destination, region, srcBucket, configID string) inventory.ReportsRead {
	now := d.s.opts.Now().UTC()
	since := now.Add(-reportLookBack).Truncate(time.Minute)
	out := inventory.ReportsRead{Since: since}
	api, ok := o.api.(DestinationS3API)
	name, okName := bucketOf(dest.BucketARN)
	switch {
	case !ok:
		out.Failure = notSupported
		return out
	case !okName:
		out.Failure = &inventory.Failure{Code: "InvalidDestination", Message: "destination " + dest.BucketARN + ": want a bucket ARN"}
		return out
	}
	l := reportListing{d: d, o: o, api: api, bucket: name, region: region,
		base: reportBase(dest.Prefix, srcBucket, configID), since: since, latest: now.Add(inventory.ReportClockSkew)}
	folders, err := l.folders(awsCtx, dest.BucketARN)
	if err != nil {
		out.Failure = failure(err)
		return out
	}
	out.Ignored = l.future
	for _, t := range folders[:min(len(folders), maxReportFolders)] {
		present, counts, err := l.manifest(awsCtx, t)
		if err != nil {
			out.Failure = failure(err)
			return out
		}
		if counts {
			out.Newest = t
			break
		}
		if present {
			out.Ignored++
		}
	}
	return out
}

// reportListing lists the deliveries of one configuration in its
// destination bucket.
type reportListing struct {
	d      *destReads
	o      *owner
	api    DestinationS3API
	bucket string
	region string // the bucket's, as S3 corrects it
	base   string // <prefix>/<source-bucket>/<config-id>/
	// since and latest bound the folders that count.
	since, latest time.Time
	// future counts the folders dated after latest that were listed.
	future int
}

// list makes one ListObjectsV2 call in the bucket's region.
func (l *reportListing) list(awsCtx context.Context, in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
	var page *s3.ListObjectsV2Output
	err := l.d.inRegion(awsCtx, l.o, opListObjects, &l.region, func(opt func(*s3.Options)) error {
		var err error
		page, err = l.api.ListObjectsV2(awsCtx, in, opt)
		return err
	})
	return page, err
}

// folders lists the delivery folders dated from since to latest, newest
// first, with Delimiter "/" from since's folder name on. Folder names sort
// by their dates, so the listing ends at the first name after latest's:
// folders dated in the future cost one page at most, and never count.
// Names that are not a delivery's date (YYYY-MM-DDTHH-MMZ, written
// exactly so) are not folders of a delivery.
func (l *reportListing) folders(awsCtx context.Context, destARN string) ([]time.Time, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(l.base), Delimiter: aws.String("/"),
		StartAfter: aws.String(l.base + l.since.Format(reportFolder)), ExpectedBucketOwner: aws.String(l.o.id)}
	end := l.base + l.latest.Format(reportFolder) + "/"
	guard := newPageGuard("list reports under "+destARN+"/"+l.base, maxReportPages)
	var folders []time.Time
	for {
		page, err := l.list(awsCtx, in)
		if err != nil {
			return nil, err
		}
		next := ""
		if aws.ToBool(page.IsTruncated) {
			if next = aws.ToString(page.NextContinuationToken); next == "" {
				return nil, errors.Join(ErrPagination, errors.New("a truncated page without a continuation token"))
			}
		}
		past := false
		for _, p := range page.CommonPrefixes {
			name := aws.ToString(p.Prefix)
			t, ok := folderTime(strings.TrimPrefix(name, l.base))
			switch {
			case name > end:
				past = true
				if ok {
					l.future++
				}
			case ok && !t.Before(l.since):
				folders = append(folders, t)
			}
		}
		for _, c := range page.Contents {
			past = past || aws.ToString(c.Key) > end
		}
		if next == "" || past {
			break
		}
		if err := guard.next(next); err != nil {
			return nil, err
		}
		in.ContinuationToken = aws.String(next)
	}
	slices.SortFunc(folders, func(a, b time.Time) int { return b.Compare(a) })
	return folders, nil
}

// folderTime returns the date of a delivery folder's name
// ("2026-05-03T01-00Z/"); false when the name is not one, exactly.
func folderTime(name string) (time.Time, bool) {
	f, ok := strings.CutSuffix(name, "/")
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(reportFolder, f)
	if err != nil || t.Format(reportFolder) != f {
		return time.Time{}, false
	}
	return t, true
}

// manifest asks the folder of time t for its manifest.json: present when
// the folder holds one, counts when it is not empty and was last modified
// no earlier than t, at most inventory.ManifestWindow after it, and not
// after latest.
func (l *reportListing) manifest(awsCtx context.Context, t time.Time) (present, counts bool, _ error) {
	key := l.base + t.Format(reportFolder) + "/manifest.json"
	page, err := l.list(awsCtx, &s3.ListObjectsV2Input{Bucket: aws.String(l.bucket), Prefix: aws.String(key),
		MaxKeys: aws.Int32(1), ExpectedBucketOwner: aws.String(l.o.id)})
	if err != nil {
		return false, false, err
	}
	if len(page.Contents) == 0 || aws.ToString(page.Contents[0].Key) != key {
		return false, false, nil // a delivery in progress (or manifest.json.bak)
	}
	m := page.Contents[0]
	mod := aws.ToTime(m.LastModified)
	counts = aws.ToInt64(m.Size) > 0 && !mod.Before(t) && !mod.After(t.Add(inventory.ManifestWindow)) && !mod.After(l.latest)
	return true, counts, nil
}

// key returns a KMS key's state and policy, read once per scan in the
// account and Region of its ARN.
func (d *destReads) key(awsCtx context.Context, keyID string) *inventory.KeyRead {
	d.mu.Lock()
	e := d.keys[keyID]
	first := e == nil
	if first {
		e = &shared[inventory.KeyRead]{done: make(chan struct{})}
		d.keys[keyID] = e
	}
	d.mu.Unlock()
	if first {
		e.v = d.readKey(awsCtx, keyID)
		close(e.done)
	}
	select {
	case <-e.done:
		k := e.v
		return &k
	case <-awsCtx.Done():
		return &inventory.KeyRead{ARN: keyID, Failure: deadlineFailure}
	}
}

func (d *destReads) readKey(awsCtx context.Context, keyID string) inventory.KeyRead {
	kr := inventory.KeyRead{ARN: keyID}
	a, err := arn.Parse(keyID)
	if err != nil || a.Service != "kms" || a.Region == "" || !ValidAccountID(a.AccountID) {
		kr.Failure = &inventory.Failure{Code: "InvalidKeyId", Message: "KMS key " + keyID + ": want a key ARN, which names the key's account and Region"}
		return kr
	}
	o, err := d.owner(awsCtx, a.AccountID)
	if err != nil {
		kr.Failure = failure(err)
		return kr
	}
	if o.failure != nil {
		kr.Failure = o.failure
		return kr
	}
	kp, ok := o.api.(KMSProvider)
	if !ok || kp.KMS() == nil {
		kr.Failure = notSupported
		return kr
	}
	api := kp.KMS()
	inRegion := func(opt *kms.Options) { opt.Region = a.Region }
	var desc *kms.DescribeKeyOutput
	err = d.call(awsCtx, o, opDescribeKey, func() error {
		var err error
		desc, err = api.DescribeKey(awsCtx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)}, inRegion)
		return err
	})
	switch {
	case awserr.Classify(err) == awserr.NotFound:
		kr.Missing = true
		return kr
	case err != nil:
		kr.Failure = failure(err)
		return kr
	case desc.KeyMetadata == nil:
		kr.Failure = &inventory.Failure{Code: "Error", Message: "DescribeKey answered without KeyMetadata"}
		return kr
	}
	if full := aws.ToString(desc.KeyMetadata.Arn); full != "" {
		kr.ARN = full
	}
	kr.State = string(desc.KeyMetadata.KeyState)
	var pol *kms.GetKeyPolicyOutput
	err = d.call(awsCtx, o, opGetKeyPolicy, func() error {
		var err error
		pol, err = api.GetKeyPolicy(awsCtx, &kms.GetKeyPolicyInput{KeyId: aws.String(kr.ARN), PolicyName: aws.String("default")}, inRegion)
		return err
	})
	if err != nil {
		kr.Failure = failure(err)
		return kr
	}
	kr.Policy = aws.ToString(pol.Policy)
	return kr
}

var notSupported = &inventory.Failure{Code: "NotSupported", Message: "the account's client cannot read destinations"}

// reportBase is the folder of one configuration's reports:
// <prefix>/<source-bucket>/<config-id>/ (no leading slash without a
// prefix).
func reportBase(prefix, srcBucket, configID string) string {
	base := srcBucket + "/" + configID + "/"
	if p := strings.Trim(prefix, "/"); p != "" {
		base = p + "/" + base
	}
	return base
}

// bucketOf returns the bucket name of an S3 bucket ARN.
func bucketOf(bucketARN string) (string, bool) {
	a, err := arn.Parse(bucketARN)
	if err != nil || a.Service != "s3" || a.Resource == "" || strings.ContainsAny(a.Resource, "/*?") {
		return "", false
	}
	return a.Resource, true
}

// partitionOf returns the partition of an ARN, "" when it is not one.
func partitionOf(s string) string {
	a, err := arn.Parse(s)
	if err != nil {
		return ""
	}
	return a.Partition
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
