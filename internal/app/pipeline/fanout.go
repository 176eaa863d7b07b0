package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/base/backoff"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/base/strictjson"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// A fan-out run (docs/scale.md): the scheduled invocation, the
// coordinator, discovers the accounts once, records the run in a
// report.Ledger, sends one SQS message per account and returns; workers
// (HandleBatch) scan one account each through the same per-account path
// as Run, record it on the run, and the worker that records the last one
// finalizes the run. A run past its deadline is closed by the next
// coordinator, its missing accounts INCOMPLETE.

// QueueAPI is the SQS call the coordinator makes. *sqs.Client
// implements it.
type QueueAPI interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ QueueAPI = (*sqs.Client)(nil)

// Fanout is what a fan-out run needs besides Settings.
type Fanout struct {
	// Queue and QueueURL receive the coordinator's messages (unused by
	// workers).
	Queue    QueueAPI
	QueueURL string
	// Ledger keeps the runs (dynamo.Ledger on the findings table).
	Ledger report.Ledger
	// Finished, when set, is called with each run this process
	// finalizes (the Lambda function prints its metrics).
	Finished func(context.Context, Finished)
	// SendAttempts bounds the sends of one message (default 5).
	SendAttempts int
	// Refused, when set, is called with each message a worker dropped
	// because its run does not expect its account (in the message's
	// shard): nothing of it was scanned, written or resolved. The Lambda
	// function counts them (the metric MessagesRefused).
	Refused func(context.Context, Message)
}

// Finished is a fan-out run that was finalized.
type Finished struct {
	Summary report.Summary
	// Open counts the run's open findings by rule and severity.
	Open map[OpenKey]int
	// Swept is true when the run was closed past its deadline.
	Swept bool
}

// OpenKey is a rule at a severity.
type OpenKey struct {
	Rule     string
	Severity rules.Severity
}

// Message is the body of one SQS message: one account of one run.
type Message struct {
	ScanID  string            `json:"scan_id"`
	Shard   int               `json:"shard"`
	Account inventory.Account `json:"account"`
	// Chunk, when set, is a chunk of a split account: the worker reads
	// these buckets only (docs/scale.md).
	Chunk *Chunk `json:"chunk,omitempty"`
}

// Chunk is the index-th run of a split account's buckets, in listing
// order.
type Chunk struct {
	Index   int                `json:"index"`
	Buckets []inventory.Bucket `json:"buckets"`
}

// maxChunkBuckets bounds a chunk message's buckets (the configuration's
// SCANNER_CHUNK_BUCKETS at most).
const maxChunkBuckets = 10000

// scanIDForm is the form of NewScanID's IDs.
var scanIDForm = regexp.MustCompile(`^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}$`)

const messageHelp = `want {"scan_id": "20260101T000000.000Z-abcdef", "shard": 0, "account": {"id": "123456789012", ...}}`

// ParseMessage reads a message body strictly: an unknown field, a key
// given twice, a bad scan ID or account ID is a one-line error.
func ParseMessage(body string) (Message, error) {
	var m Message
	if err := strictjson.Decode([]byte(body), &m); err != nil {
		return Message{}, fmt.Errorf("message: %v; %s", err, messageHelp)
	}
	switch {
	case !scanIDForm.MatchString(m.ScanID):
		return Message{}, fmt.Errorf("message: scan_id %q: %s", strictjson.Echo(m.ScanID), messageHelp)
	case m.Shard < 0:
		return Message{}, fmt.Errorf("message: shard %d: want 0 or more", m.Shard)
	case !scan.ValidAccountID(m.Account.ID):
		return Message{}, fmt.Errorf("message: account id %q is not a 12-digit account ID", strictjson.Echo(m.Account.ID))
	}
	if c := m.Chunk; c != nil {
		if c.Index < 0 || len(c.Buckets) == 0 || len(c.Buckets) > maxChunkBuckets {
			return Message{}, fmt.Errorf("message: chunk %d of %d buckets: want an index of 0 or more and 1 to %d buckets", c.Index, len(c.Buckets), maxChunkBuckets)
		}
		for _, b := range c.Buckets {
			if b.Name == "" || len(b.Name) > 255 {
				return Message{}, fmt.Errorf("message: chunk %d: bucket name %q: want 1 to 255 characters", c.Index, strictjson.Echo(b.Name))
			}
		}
	}
	return m, nil
}

// Coordination is what a coordinator did.
type Coordination struct {
	ScanID string `json:"scan_id"`
	// Accounts is the number of accounts of the run; Queued the messages
	// SQS accepted. NotQueued are the accounts whose message could not
	// be sent: they are recorded INCOMPLETE at once.
	Accounts  int      `json:"accounts"`
	Queued    int      `json:"queued"`
	NotQueued []string `json:"not_queued,omitempty"`
	// Deadline is when the run is closed whatever is missing.
	Deadline time.Time `json:"deadline"`
	// Swept are the earlier runs this coordinator closed past their
	// deadline.
	Swept []string `json:"swept,omitempty"`
}

// sweepRuns is how many of the latest runs a coordinator looks at for
// runs past their deadline.
const sweepRuns = 20

// Schedule runs a scheduled or manual invocation in the configured mode:
// it closes the fan-out runs past their deadline (when f.Ledger is set),
// discovers the accounts, and either scans them here (Run: sum is set) or
// fans them out (coord is set). A run limited to some accounts, or a dry
// run, is never fanned out.
func Schedule(ctx context.Context, s Settings, f Fanout) (sum report.Summary, coord *Coordination, err error) {
	s = withDefaults(s)
	var swept []string
	if f.Ledger != nil && s.Sink != nil {
		swept, err = Sweep(ctx, s, f)
		if err != nil {
			s.Logger.ErrorContext(ctx, "fan-out runs past their deadline not closed", "error", err.Error())
		}
	}
	org, err := discover(ctx, s)
	if err != nil {
		return report.Summary{}, nil, err
	}
	if f.Ledger == nil || s.Sink == nil || len(s.OnlyAccounts) > 0 || !s.Config.FansOut(len(org.Targets)) {
		s.discovered = &org
		sum, err := Run(ctx, s)
		return sum, nil, err
	}
	c, err := coordinate(ctx, s, f, org)
	if c != nil {
		c.Swept = swept
	}
	return report.Summary{}, c, err
}

func withDefaults(s Settings) Settings {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	return s
}

// coordinate records the run and sends one message per account.
func coordinate(ctx context.Context, s Settings, f Fanout, org inventory.Org) (*Coordination, error) {
	if f.Queue == nil || f.QueueURL == "" {
		return nil, errors.New("fan out: no SQS queue")
	}
	started := s.Now().UTC()
	run := report.Run{ScanID: NewScanID(started), Trigger: s.Trigger, StartedAt: started}
	log := s.Logger.With("scan_id", run.ScanID)
	if err := s.Sink.Begin(ctx, run); err != nil {
		return nil, fmt.Errorf("begin scan %s: %w", run.ScanID, err)
	}
	ids := make([]string, len(org.Targets))
	for i, a := range org.Targets {
		ids[i] = a.ID
	}
	fr := report.FanoutRun{ScanID: run.ScanID, Trigger: run.Trigger, StartedAt: started,
		Deadline: started.Add(s.Config.FanoutDeadline), Accounts: ids, Expected: len(ids),
		Members: slices.Sorted(maps.Keys(org.Members)), FromOrganizations: org.FromOrganizations, OrgID: org.ID, WholeScope: true}
	if err := f.Ledger.OpenRun(ctx, fr); err != nil {
		return nil, err
	}
	c := &Coordination{ScanID: run.ScanID, Accounts: len(ids), Deadline: fr.Deadline}
	log.InfoContext(ctx, "fan-out run started", "trigger", s.Trigger, "accounts", len(ids), "deadline", fr.Deadline)

	// Accounts out of scope are closed once, here, as a single
	// invocation would.
	if closed, err := closeOutOfScope(ctx, s, org, run.ScanID); err != nil {
		log.ErrorContext(ctx, "findings of accounts out of scope not closed", "closed", closed, "error", err.Error())
	}

	var unsent []int
	for lo := 0; lo < len(org.Targets); lo += 10 {
		hi := min(lo+10, len(org.Targets))
		failed, err := f.send(ctx, run.ScanID, org.Targets, lo, hi)
		if err != nil {
			log.ErrorContext(ctx, "fan-out messages not sent", "accounts", len(failed), "error", err.Error())
		}
		unsent = append(unsent, failed...)
	}
	c.Queued = len(ids) - len(unsent)
	if len(unsent) == 0 {
		return c, nil
	}
	// An account whose message could not be sent is recorded INCOMPLETE
	// now, so that the run can still close when the others report.
	var errs []error
	for _, i := range unsent {
		a := org.Targets[i]
		c.NotQueued = append(c.NotQueued, a.ID)
		errs = append(errs, recordMissing(ctx, s, f, fr, i, a, "NotQueued", "the account's fan-out message could not be sent"))
	}
	return c, errors.Join(fmt.Errorf("fan out: %d of %d accounts not queued (recorded INCOMPLETE)", len(unsent), len(ids)), errors.Join(errs...))
}

// send sends the messages of accounts [lo, hi) in one SendMessageBatch,
// resending the entries SQS failed with back-off, and returns the
// indexes of those it could not send.
func (f Fanout) send(ctx context.Context, scanID string, accounts []inventory.Account, lo, hi int) ([]int, error) {
	left := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		left = append(left, i)
	}
	attempts := cmp.Or(f.SendAttempts, 5)
	var (
		last    error
		refused []int // the sender's fault: resending cannot help
	)
	for attempt := 1; len(left) > 0; attempt++ {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(f.QueueURL)}
		for _, i := range left {
			body, err := json.Marshal(Message{ScanID: scanID, Shard: report.Shard(i), Account: accounts[i]})
			if err != nil {
				return left, err
			}
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := f.Queue.SendMessageBatch(ctx, in)
		if err == nil {
			left = left[:0]
			for _, e := range out.Failed {
				i, _ := strconv.Atoi(aws.ToString(e.Id))
				last = fmt.Errorf("send message of account %s: %s: %s", accounts[i].ID, aws.ToString(e.Code), aws.ToString(e.Message))
				if e.SenderFault {
					refused = append(refused, i)
					continue
				}
				left = append(left, i)
			}
		} else {
			last = fmt.Errorf("send messages to %s: %w", f.QueueURL, err)
		}
		if len(left) == 0 || attempt >= attempts {
			break
		}
		if err := backoff.Sleep(ctx, backoff.Equal(100*time.Millisecond, 5*time.Second, attempt)); err != nil {
			return append(left, refused...), errors.Join(last, err)
		}
	}
	if left = append(left, refused...); len(left) > 0 {
		slices.Sort(left)
		return left, last
	}
	return nil, nil
}

// part is one account's outcome as the ledger keeps it.
type part struct {
	Summary report.Summary `json:"summary"`
	Open    []openCount    `json:"open,omitempty"`
}

type openCount struct {
	Rule     string         `json:"rule"`
	Severity rules.Severity `json:"severity"`
	N        int            `json:"n"`
}

// HandleBatch handles an SQS batch of fan-out messages, one at a time,
// and returns the messages to try again (ReportBatchItemFailures): a
// malformed message (it ends in the dead-letter queue, and never scans
// anything), and a message whose account could not be recorded. A
// message of a run that is closed or past its deadline is dropped.
func HandleBatch(ctx context.Context, s Settings, f Fanout, ev events.SQSEvent) events.SQSEventResponse {
	s = withDefaults(s)
	var resp events.SQSEventResponse
	resp.BatchItemFailures = []events.SQSBatchItemFailure{}
	for _, rec := range ev.Records {
		log := s.Logger.With("message_id", rec.MessageId)
		if ctx.Err() != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		m, err := ParseMessage(rec.Body)
		if err != nil {
			log.ErrorContext(ctx, "rejected message", "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			continue
		}
		if err := Work(ctx, s, f, m); err != nil {
			log.ErrorContext(ctx, "account not recorded; the message comes back", "scan_id", m.ScanID, "account", m.Account.ID, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp
}

// Work scans the account of one message, writes its findings (resolving
// its stale ones only if its scan was complete), records it on the run,
// and finalizes the run when it was the last account. A message of a run
// that is gone, closed or past its deadline is dropped (nil), and so is a
// message naming an account the run does not expect in that shard
// (Ledger.Expects: a forged or misrouted message; f.Refused is told):
// nothing is scanned, written or resolved for either. An error means the
// account is not recorded: the message is to come back.
func Work(ctx context.Context, s Settings, f Fanout, m Message) error {
	s = withDefaults(s)
	log := s.Logger.With("scan_id", m.ScanID, "account", m.Account.ID)
	if s.Sink == nil || f.Ledger == nil {
		return errors.New("fan-out worker: no findings table")
	}
	fr, ok, err := f.Ledger.FanoutRun(ctx, m.ScanID)
	if err != nil {
		return err
	}
	if now := s.Now(); !ok || !fr.Open(now) {
		log.WarnContext(ctx, "message of a closed or unknown run dropped", "known", ok, "closed", !fr.ClosedAt.IsZero(), "deadline", fr.Deadline)
		return nil
	}
	if expected, err := f.Ledger.Expects(ctx, m.ScanID, m.Shard, m.Account.ID); err != nil {
		return err
	} else if !expected {
		log.ErrorContext(ctx, "message of an account the run does not expect dropped", "shard", m.Shard, "chunk", m.Chunk != nil)
		if f.Refused != nil {
			f.Refused(ctx, m)
		}
		return nil
	}
	org := runOrg(fr)
	org.Targets = []inventory.Account{m.Account}
	eval, scanner, err := newScanner(s, org)
	if err != nil {
		return err
	}
	run := report.Run{ScanID: fr.ScanID, Trigger: fr.Trigger, StartedAt: fr.StartedAt}
	if err := report.Join(ctx, s.Sink, run); err != nil {
		return fmt.Errorf("join scan %s: %w", run.ScanID, err)
	}
	writeCtx, stopWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWrites()
	defer context.AfterFunc(ctx, func() { time.AfterFunc(writeGrace, stopWrites) })()
	open := &openTally{}
	h := &handler{eval: eval, sink: report.Fanout(s.Sink, open), writeCtx: writeCtx,
		scanID: run.ScanID, now: s.Now, count: report.NewSummaryCounter(1, s.Progress), log: s.Logger}
	changes := streamChanges(writeCtx, s, run.ScanID, log)
	defer changes.stop()
	if m.Chunk != nil {
		return workChunk(ctx, writeCtx, s, f, fr, m, scanner, h, open, changes)
	}
	lister := &splitListing{handler: h}
	send := func(ctx context.Context, a inventory.Account, i int, bs []inventory.Bucket) error {
		return f.sendChunk(ctx, Message{ScanID: m.ScanID, Shard: m.Shard, Account: a, Chunk: &Chunk{Index: i, Buckets: bs}})
	}
	chunk := cmp.Or(s.Config.ChunkBuckets, config.Default().ChunkBuckets) // settings not from the configuration: its default
	if err := scanner.ScanSplit(ctx, m.Account, chunk, send, lister); err != nil {
		return fmt.Errorf("scan account %s: %w", m.Account.ID, err)
	}
	if lister.split != nil {
		return splitDone(ctx, writeCtx, s, f, fr, m, *lister.split)
	}
	sum := h.count.Summary(run)
	publishChanges(writeCtx, s, &sum, changes, log)
	p, err := json.Marshal(part{Summary: sum, Open: open.counts()})
	if err != nil {
		return err
	}
	recorded, check, err := f.Ledger.Record(writeCtx, m.ScanID, m.Shard, m.Account.ID, p)
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "account recorded", "recorded", recorded, "status", statusOf(sum), "buckets", sum.Buckets, "findings", sum.Findings())
	if !check {
		return nil
	}
	return finishIfDone(writeCtx, s, f, fr)
}

// statusOf is the status of the one account a summary counts.
func statusOf(sum report.Summary) inventory.AccountStatus {
	if sum.AccountsComplete == 1 {
		return inventory.AccountComplete
	}
	if len(sum.Failed) > 0 {
		return sum.Failed[0].Status
	}
	return inventory.AccountIncomplete
}

// finishIfDone finalizes the run when no account is pending.
func finishIfDone(ctx context.Context, s Settings, f Fanout, fr report.FanoutRun) error {
	pending, err := f.Ledger.Pending(ctx, fr.ScanID)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return nil
	}
	return finalize(ctx, s, f, fr, false)
}

// publishChanges exports a worker's changes to Security Hub (those its
// change stream, if any, did not hand over already), publishes them when
// the publisher can publish changes alone, and counts them all in the
// summary.
func publishChanges(ctx context.Context, s Settings, sum *report.Summary, changes *changeStream, log *slog.Logger) {
	if s.Transitions == nil {
		return
	}
	changes.stop()
	ts, stale := s.Transitions.Take(sum.ScanID)
	sum.Changes = report.CountTransitions(ts)
	if stale += changes.addTo(sum); stale > 0 {
		log.WarnContext(ctx, "changes of an earlier run not published", "changes", stale)
	}
	export(ctx, s, ts, sum, log)
	cp, ok := s.Publisher.(ChangePublisher)
	if !ok || len(ts) == 0 {
		return
	}
	pubCtx, cancel := context.WithTimeout(ctx, writeGrace)
	defer cancel()
	failed, err := cp.PublishChanges(pubCtx, ts)
	sum.EventsFailed += failed
	if err != nil {
		log.ErrorContext(ctx, "events not published", "events_failed", failed, "error", err.Error())
	}
}

// ChangePublisher is a Publisher that can publish findings' changes
// alone: a fan-out worker publishes its account's changes, and the worker
// that finalizes the run publishes the run's summary (Publish).
type ChangePublisher interface {
	PublishChanges(ctx context.Context, ts []report.Transition) (failed int, err error)
}

// Sweep closes the fan-out runs past their deadline among the latest
// runs, their missing accounts INCOMPLETE, and returns their scan IDs.
func Sweep(ctx context.Context, s Settings, f Fanout) ([]string, error) {
	s = withDefaults(s)
	runs, err := f.Ledger.Unclosed(ctx, sweepRuns)
	if err != nil {
		return nil, err
	}
	var (
		swept []string
		errs  []error
	)
	now := s.Now()
	for _, fr := range runs {
		if now.Before(fr.Deadline) {
			continue
		}
		if err := finalize(ctx, s, f, fr, true); err != nil {
			errs = append(errs, fmt.Errorf("close run %s: %w", fr.ScanID, err))
			continue
		}
		swept = append(swept, fr.ScanID)
	}
	return swept, errors.Join(errs...)
}

// finalize closes the run (once: the ledger's Close decides who) and, if
// this call closed it, writes the coverage findings of the accounts still
// pending, completes the run record, publishes the summary and reports it
// to f.Finished.
func finalize(ctx context.Context, s Settings, f Fanout, fr report.FanoutRun, swept bool) error {
	now := s.Now().UTC()
	closed, err := f.Ledger.Close(ctx, fr.ScanID, now)
	if err != nil || !closed {
		return err
	}
	log := s.Logger.With("scan_id", fr.ScanID)
	raw, err := f.Ledger.Parts(ctx, fr.ScanID)
	if err != nil {
		return err
	}
	pending, err := f.Ledger.Pending(ctx, fr.ScanID)
	if err != nil {
		return err
	}
	run := report.Run{ScanID: fr.ScanID, Trigger: fr.Trigger, StartedAt: fr.StartedAt}
	if err := report.Join(ctx, s.Sink, run); err != nil {
		return fmt.Errorf("join scan %s: %w", run.ScanID, err)
	}
	var (
		parts []report.Summary
		open  = map[OpenKey]int{}
		errs  []error
	)
	for acct, b := range raw {
		if slices.Contains(pending, acct) {
			continue // a late worker's part; the run counts the account missing
		}
		var p part
		if err := json.Unmarshal(b, &p); err != nil {
			errs = append(errs, fmt.Errorf("part of account %s: %w", acct, err))
			pending = append(pending, acct)
			continue
		}
		parts = append(parts, p.Summary)
		for _, o := range p.Open {
			open[OpenKey{o.Rule, o.Severity}] += o.N
		}
	}
	if len(pending) > 0 {
		slices.Sort(pending)
		accts := make([]inventory.Account, len(pending))
		for i, id := range pending {
			accts[i] = inventory.Account{ID: id}
		}
		p, err := missing(ctx, s, fr, accts, "NotReported", "the account's worker did not report before the run's deadline")
		errs = append(errs, err)
		parts = append(parts, p.Summary)
		log.WarnContext(ctx, "fan-out run closed with accounts missing", "accounts_missing", len(pending))
	}
	sum := report.MergeSummaries(run, parts...)
	sum.FinishedAt = now
	endCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeGrace)
	defer cancel()
	if err := s.Sink.End(endCtx, sum.Run); err != nil {
		errs = append(errs, fmt.Errorf("end scan %s: %w", run.ScanID, err))
	}
	if s.Publisher != nil {
		failed, err := s.Publisher.Publish(endCtx, nil, sum)
		sum.EventsFailed += failed
		if err != nil {
			log.ErrorContext(ctx, "events not published", "events_failed", failed, "error", err.Error())
		}
	}
	if f.Finished != nil {
		f.Finished(ctx, Finished{Summary: sum, Open: open, Swept: swept})
	}
	log.InfoContext(ctx, "scan finished", "trigger", fr.Trigger, "fanout", true, "swept", swept,
		"accounts_complete", sum.AccountsComplete, "accounts_failed", sum.AccountsFailed, "accounts_incomplete", sum.AccountsIncomplete,
		"buckets", sum.Buckets, "configs", sum.Configs, "findings", sum.Findings(), "findings_open", sum.Open(),
		"findings_opened", sum.Changes.Opened, "findings_reopened", sum.Changes.Reopened, "findings_resolved", sum.Changes.Resolved,
		"duration_ms", sum.Duration().Milliseconds())
	return errors.Join(errs...)
}

// missing closes accounts that were not scanned as INCOMPLETE with the
// given failure: their coverage finding is written (nothing of theirs is
// resolved), and their outcome returned. The sink has joined the run.
func missing(ctx context.Context, s Settings, fr report.FanoutRun, accts []inventory.Account, code, msg string) (part, error) {
	open := &openTally{}
	h := &handler{eval: rules.NewEvaluator(s.Policy, runOrg(fr)), sink: report.Fanout(s.Sink, open), writeCtx: ctx,
		scanID: fr.ScanID, now: s.Now, count: report.NewSummaryCounter(len(accts), nil), log: s.Logger}
	for _, a := range accts {
		_ = h.Account(ctx, inventory.AccountResult{Account: a, Status: inventory.AccountIncomplete,
			Failure: &inventory.Failure{Code: code, Message: msg}, StartedAt: fr.StartedAt, FinishedAt: s.Now().UTC()})
	}
	sum := h.count.Summary(report.Run{ScanID: fr.ScanID})
	var err error
	for _, a := range accts {
		if f := h.failure(a.ID); f != nil {
			err = errors.Join(err, fmt.Errorf("account %s: %s", a.ID, f.Message))
		}
	}
	return part{Summary: sum, Open: open.counts()}, err
}

// recordMissing records one account of the run that will not be scanned
// (its message could not be sent) as INCOMPLETE, and finalizes the run if
// it was the last.
func recordMissing(ctx context.Context, s Settings, f Fanout, fr report.FanoutRun, i int, a inventory.Account, code, msg string) error {
	p, err := missing(ctx, s, fr, []inventory.Account{a}, code, msg)
	b, jerr := json.Marshal(p)
	if jerr != nil {
		return jerr
	}
	_, check, rerr := f.Ledger.Record(ctx, fr.ScanID, report.Shard(i), a.ID, b)
	if rerr != nil {
		return errors.Join(err, rerr)
	}
	if check {
		err = errors.Join(err, finishIfDone(ctx, s, f, fr))
	}
	return err
}

// runOrg is the organization as the rules see it in a worker: whether
// the accounts came from AWS Organizations, and its members.
func runOrg(fr report.FanoutRun) inventory.Org {
	org := inventory.Org{FromOrganizations: fr.FromOrganizations, ID: fr.OrgID}
	if len(fr.Members) > 0 {
		org.Members = make(map[string]bool, len(fr.Members))
		for _, id := range fr.Members {
			org.Members[id] = true
		}
	}
	return org
}

// openTally is a sink that counts the open findings by rule and
// severity, for the run's metrics.
type openTally struct {
	mu sync.Mutex
	n  map[OpenKey]int
}

func (t *openTally) Begin(context.Context, report.Run) error { return nil }
func (t *openTally) End(context.Context, report.Run) error   { return nil }
func (t *openTally) AccountDone(context.Context, string, inventory.AccountResult) error {
	return nil
}

func (t *openTally) Put(_ context.Context, fs []rules.Finding) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range fs {
		if f.Status == rules.StatusOpen {
			if t.n == nil {
				t.n = map[OpenKey]int{}
			}
			t.n[OpenKey{f.RuleID, f.Severity}]++
		}
	}
	return nil
}

func (t *openTally) counts() []openCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]openCount, 0, len(t.n))
	for k, n := range t.n {
		out = append(out, openCount{Rule: k.Rule, Severity: k.Severity, N: n})
	}
	slices.SortFunc(out, func(a, b openCount) int {
		return cmp.Or(cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Severity, b.Severity))
	})
	return out
}
