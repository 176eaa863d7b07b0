package securityhub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/s3inv/scanner/internal/base/awserr"
	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/report"
)

// Limits of BatchImportFindings.
const (
	// MaxFindings is the most findings one call carries.
	MaxFindings = 100
	// MaxBatchSize is the largest request, in bytes.
	MaxBatchSize = 6 * 1024 * 1024
	// batchOverhead is kept free in each request for its framing.
	batchOverhead = 1024
)

// API is the part of the Security Hub client the exporter calls.
// *securityhub.Client implements it.
type API interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ API = (*securityhub.Client)(nil)

// Clients gives the Security Hub client that imports into an account's
// Security Hub in a Region. RoleClients is the production one.
type Clients interface {
	Client(ctx context.Context, account, region string) (API, error)
}

// Options configure an Exporter.
type Options struct {
	// Partition of the product and resource ARNs ("aws", "aws-cn", ...):
	// the caller's own.
	Partition string
	// HomeRegion is the Region account-level findings are imported in
	// (the scanner's own Region).
	HomeRegion string
	// Attempts is how many times a finding is sent at most (5 when zero).
	Attempts int
	// Backoff is the first wait before sending failed findings again; it
	// doubles with each attempt, up to MaxBackoff (200ms and 5s when
	// zero). Each wait is jittered (half fixed, half random).
	Backoff, MaxBackoff time.Duration
	// Concurrency is how many accounts are imported into at once (4 when
	// zero); each account's Regions are imported one after the other.
	Concurrency int
	// Logger receives a warning per account and Region where Security
	// Hub is not enabled and an error per finding that could not be
	// imported (default: slog.Default()).
	Logger *slog.Logger
}

// Exporter imports a run's changes into the member accounts' Security
// Hub. It is safe for sequential reuse across runs.
type Exporter struct {
	clients Clients
	opts    Options
}

// New returns an exporter that imports through clients.
func New(clients Clients, opts Options) (*Exporter, error) {
	if clients == nil {
		return nil, errors.New("security hub exporter: nil clients")
	}
	if opts.Partition == "" || opts.HomeRegion == "" {
		return nil, fmt.Errorf("security hub exporter: partition %q and home region %q; want both", opts.Partition, opts.HomeRegion)
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 200 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Exporter{clients: clients, opts: opts}, nil
}

// item is one finding to import, with its size as sent.
type item struct {
	finding types.AwsSecurityFinding
	size    int
}

func (it item) id() string { return aws.ToString(it.finding.Id) }

// tally is what an account's import came to.
type tally struct {
	report.SecurityHubCounts
	errs []error
}

func (t *tally) add(o tally) {
	t.Imported += o.Imported
	t.Failed += o.Failed
	t.NotEnabled += o.NotEnabled
	t.Skipped += o.Skipped
	t.errs = append(t.errs, o.errs...)
}

// Export imports the finding of each transition into its account's
// Security Hub, in its Region, in the state its record is in now (a
// finding changed twice in ts is sent once, as it was last). It returns
// the counts, and why findings could not be imported; Security Hub not
// being enabled somewhere is counted, not an error.
func (e *Exporter) Export(ctx context.Context, ts []report.Transition) (report.SecurityHubCounts, error) {
	byAccount := map[string]map[string][]item{}
	var total tally
	last := map[string]report.Record{}
	var order []string
	for _, t := range ts {
		if _, seen := last[t.Record.FindingID]; !seen {
			order = append(order, t.Record.FindingID)
		}
		last[t.Record.FindingID] = t.Record
	}
	for _, id := range order {
		r := last[id]
		it, err := e.item(r)
		if err != nil {
			total.Failed++
			total.errs = append(total.errs, err)
			e.opts.Logger.ErrorContext(ctx, "finding not imported into Security Hub", "finding_id", id, "account_id", r.AccountID, "error", err)
			continue
		}
		to := TargetOf(r, e.opts.HomeRegion)
		if byAccount[to.Account] == nil {
			byAccount[to.Account] = map[string][]item{}
		}
		byAccount[to.Account][to.Region] = append(byAccount[to.Account][to.Region], it)
	}

	accounts := slices.Sorted(maps.Keys(byAccount))
	results := make([]tally, len(accounts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.opts.Concurrency)
	for i, acct := range accounts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = e.account(ctx, acct, byAccount[acct])
		}()
	}
	wg.Wait()
	for _, r := range results {
		total.add(r)
	}
	return total.SecurityHubCounts, errors.Join(total.errs...)
}

// item maps a record and checks its size (the caps on ProductFields and
// texts keep every finding far below the limit; the check guards them).
func (e *Exporter) item(r report.Record) (item, error) {
	f := Finding(r, e.opts.Partition, e.opts.HomeRegion)
	size, err := Size(f)
	if err == nil && size > MaxFindingSize {
		err = fmt.Errorf("finding %s: %d bytes; Security Hub takes at most %d", r.FindingID, size, MaxFindingSize)
	}
	return item{finding: f, size: size}, err
}

// Size is the size of a finding as sent (its JSON form: the SDK's field
// names are ASFF's).
func Size(f types.AwsSecurityFinding) (int, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return 0, fmt.Errorf("finding %s: %w", aws.ToString(f.Id), err)
	}
	return len(b), nil
}

// account imports one account's findings, Region after Region. When the
// account's client cannot be had (its role cannot be assumed), none of
// its findings can be imported.
func (e *Exporter) account(ctx context.Context, acct string, byRegion map[string][]item) tally {
	var t tally
	regions := slices.Sorted(maps.Keys(byRegion))
	for i, region := range regions {
		api, err := e.clients.Client(ctx, acct, region)
		if err != nil {
			n := 0
			for _, r := range regions[i:] {
				n += len(byRegion[r])
			}
			t.Failed += n
			err = fmt.Errorf("account %s: %d findings not imported into Security Hub: %w", acct, n, err)
			t.errs = append(t.errs, err)
			e.opts.Logger.ErrorContext(ctx, "findings not imported into Security Hub", "account_id", acct, "findings", n, "error", err)
			return t
		}
		t.add(e.region(ctx, api, Target{acct, region}, byRegion[region]))
	}
	return t
}

// region imports one account's findings in one Region, in batches.
func (e *Exporter) region(ctx context.Context, api API, to Target, items []item) tally {
	var t tally
	bs := batches(items)
	for i, b := range bs {
		r, notEnabled := e.send(ctx, api, to, b)
		t.add(r)
		if notEnabled {
			rest := 0
			for _, b := range bs[i:] {
				rest += len(b)
			}
			t.NotEnabled++
			t.Skipped += rest
			e.opts.Logger.WarnContext(ctx, "Security Hub is not enabled: findings not imported", "account_id", to.Account,
				"region", to.Region, "findings", rest)
			return t
		}
	}
	return t
}

// batches groups items in order into calls of at most MaxFindings
// findings and MaxBatchSize bytes.
func batches(items []item) [][]item {
	var out [][]item
	var cur []item
	size := batchOverhead
	for _, it := range items {
		if len(cur) == MaxFindings || (len(cur) > 0 && size+it.size+1 > MaxBatchSize) {
			out = append(out, cur)
			cur, size = nil, batchOverhead
		}
		cur = append(cur, it)
		size += it.size + 1
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// permanent reports whether a finding that failed with code (one of
// FailedFindings) will fail again however often it is sent: the finding
// is invalid, or the caller may not import it.
func permanent(code string) bool {
	k := awserr.ClassifyCode(code)
	return k == awserr.Invalid || k == awserr.AccessDenied
}

// send imports one batch, sending its failed findings again while they
// may succeed and attempts remain. notEnabled is set, and nothing
// counted, when Security Hub is not enabled in the account and Region.
func (e *Exporter) send(ctx context.Context, api API, to Target, batch []item) (t tally, notEnabled bool) {
	var lastErr error
	for attempt := 1; len(batch) > 0; attempt++ {
		in := &securityhub.BatchImportFindingsInput{Findings: make([]types.AwsSecurityFinding, len(batch))}
		for i, it := range batch {
			in.Findings[i] = it.finding
		}
		out, err := api.BatchImportFindings(ctx, in)
		kind := awserr.Classify(err)
		var again []item
		switch {
		case err != nil && attempt == 1 && kind == awserr.NotEnabled:
			return t, true
		case err != nil && kind == awserr.AccessDenied:
			// The member role may not import (its SecurityHubExport
			// parameter is off): no retry will change that.
			lastErr = fmt.Errorf("BatchImportFindings into account %s, %s: %w", to.Account, to.Region, err)
			t.Failed += e.giveUp(ctx, to, batch, "", lastErr)
			batch = nil
			continue
		case err != nil:
			// The SDK's retryer has retried what it could (throttling
			// included); the call as a whole is tried again after a
			// back-off, like failed findings.
			again, lastErr = batch, fmt.Errorf("BatchImportFindings of %d findings into account %s, %s: %w", len(batch), to.Account, to.Region, err)
		default:
			failed := map[string]types.ImportFindingsError{}
			for _, f := range out.FailedFindings {
				failed[aws.ToString(f.Id)] = f
			}
			if n := int(aws.ToInt32(out.FailedCount)); n > len(failed) {
				// Failures the answer does not name: nothing tells which
				// finding failed, so the batch is sent again.
				again, lastErr = batch, fmt.Errorf("BatchImportFindings into account %s, %s: %d failed, %d named", to.Account, to.Region, n, len(failed))
				break
			}
			for _, it := range batch {
				f, bad := failed[it.id()]
				if !bad {
					t.Imported++
					continue
				}
				code := aws.ToString(f.ErrorCode)
				lastErr = fmt.Errorf("finding %s in account %s, %s: %s: %s", it.id(), to.Account, to.Region, code, aws.ToString(f.ErrorMessage))
				if permanent(code) {
					t.Failed += e.giveUp(ctx, to, []item{it}, code, lastErr)
					continue
				}
				again = append(again, it)
			}
		}
		if len(again) == 0 {
			break
		}
		if attempt >= e.opts.Attempts || ctx.Err() != nil {
			t.Failed += e.giveUp(ctx, to, again, "", lastErr)
			break
		}
		if err := backoff.Sleep(ctx, backoff.Equal(e.opts.Backoff, e.opts.MaxBackoff, attempt)); err != nil {
			lastErr = errors.Join(lastErr, err)
		}
		batch = again
	}
	if t.Failed > 0 {
		t.errs = append(t.errs, fmt.Errorf("%d findings not imported into Security Hub of account %s, %s; last error: %w", t.Failed, to.Account, to.Region, lastErr))
	}
	return t, false
}

func (e *Exporter) giveUp(ctx context.Context, to Target, items []item, code string, err error) int {
	for _, it := range items {
		e.opts.Logger.ErrorContext(ctx, "finding not imported into Security Hub", "finding_id", it.id(),
			"account_id", to.Account, "region", to.Region, "error_code", code, "error", err)
	}
	return len(items)
}
