package emf

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// The dimensions of the scanner's metrics. Account and bucket are never
// dimensions: every distinct combination of dimension values is a billed
// metric, and an organization has thousands of accounts.
const (
	DimRule      = "Rule"
	DimSeverity  = "Severity"
	DimService   = "Service"
	DimOperation = "Operation"
)

// The scanner's metrics.
var (
	ScansFinished      = Metric{Name: "ScansFinished", Unit: Count}
	RunDuration        = Metric{Name: "RunDuration", Unit: Seconds}
	AccountsScanned    = Metric{Name: "AccountsScanned", Unit: Count}
	AccountsComplete   = Metric{Name: "AccountsComplete", Unit: Count}
	AccountsFailed     = Metric{Name: "AccountsFailed", Unit: Count}
	AccountsIncomplete = Metric{Name: "AccountsIncomplete", Unit: Count}
	Buckets            = Metric{Name: "Buckets", Unit: Count}
	Configurations     = Metric{Name: "Configurations", Unit: Count}

	OpenFindings           = Metric{Name: "OpenFindings", Unit: Count}
	OpenFindingsBySeverity = Metric{Name: "OpenFindings", Unit: Count, Dimensions: []string{DimSeverity}}
	OpenFindingsByRule     = Metric{Name: "OpenFindings", Unit: Count, Dimensions: []string{DimRule, DimSeverity}}
	WaivedFindings         = Metric{Name: "WaivedFindings", Unit: Count}
	CoverageFindings       = Metric{Name: "CoverageFindings", Unit: Count}

	FindingsOpened   = Metric{Name: "FindingsOpened", Unit: Count}
	FindingsReopened = Metric{Name: "FindingsReopened", Unit: Count}
	FindingsResolved = Metric{Name: "FindingsResolved", Unit: Count}

	EventsFailed          = Metric{Name: "EventsFailed", Unit: Count}
	SecurityHubImported   = Metric{Name: "SecurityHubImported", Unit: Count}
	SecurityHubFailed     = Metric{Name: "SecurityHubFailed", Unit: Count}
	SecurityHubNotEnabled = Metric{Name: "SecurityHubNotEnabled", Unit: Count}

	AWSCalls          = Metric{Name: "AWSCalls", Unit: Count, Dimensions: []string{DimService, DimOperation}}
	AWSThrottledCalls = Metric{Name: "AWSThrottledCalls", Unit: Count, Dimensions: []string{DimService, DimOperation}}

	MessagesRefused = Metric{Name: "MessagesRefused", Unit: Count}
)

// When a metric is emitted.
const (
	// EveryRun: every run that ends with a summary (not a dry run).
	EveryRun = "every run"
	// WholeScope: runs of every account in scope; a run of selected
	// accounts would show a part of the organization as a drop.
	WholeScope = "runs of the whole scope"
	// Refusals: a fan-out worker's invocation that refused a message
	// (WriteRefused), never a run's.
	Refusals = "fan-out workers that refused a message"
)

// Definition documents a metric the scanner emits.
type Definition struct {
	Metric
	// When is EveryRun or WholeScope.
	When string
	// Doc says what the value is.
	Doc string
}

// Definitions lists every metric the scanner may emit, in the order of
// the documentation. It is the source of truth for the dashboard: a
// widget may plot only these.
func Definitions() []Definition {
	return []Definition{
		{ScansFinished, EveryRun, "1 per run that ended (the NoScan alarm reads it)"},
		{RunDuration, EveryRun, "from the start of the run to its summary"},
		{AccountsScanned, EveryRun, "accounts the run scanned (complete + failed + incomplete)"},
		{AccountsComplete, EveryRun, "accounts scanned completely"},
		{AccountsFailed, EveryRun, "accounts whose role or bucket list was unavailable (SCAN-001, SCAN-002)"},
		{AccountsIncomplete, EveryRun, "accounts cut short by the deadline or a write failure (SCAN-004)"},
		{Buckets, EveryRun, "buckets read"},
		{Configurations, EveryRun, "inventory configurations read"},
		{AWSCalls, EveryRun, "requests sent to one API, every retry included (only APIs called)"},
		{AWSThrottledCalls, EveryRun, "requests of one API answered with a throttle error"},
		{OpenFindings, WholeScope, "open (not waived) findings of the run"},
		{OpenFindingsBySeverity, WholeScope, "open findings of one severity (every severity, 0 included)"},
		{OpenFindingsByRule, WholeScope, "open findings of one rule at one severity (every rule at its default severity, 0 included, and any severity a policy override gives it)"},
		{WaivedFindings, WholeScope, "findings a waiver covers"},
		{CoverageFindings, WholeScope, "coverage findings (SCAN-*): what the run could not see (the CoverageFindings alarm reads it)"},
		{FindingsOpened, EveryRun, "findings new in this run"},
		{FindingsReopened, EveryRun, "resolved findings seen again in this run"},
		{FindingsResolved, EveryRun, "findings this run resolved (not seen by a complete scan, or their account out of scope)"},
		{EventsFailed, EveryRun, "events that could not be published to EventBridge once every retry was spent (0 without a bus)"},
		{SecurityHubImported, EveryRun, "findings' changes Security Hub accepted (0 with the export off)"},
		{SecurityHubFailed, EveryRun, "findings' changes that could not be imported into Security Hub once every retry was spent"},
		{SecurityHubNotEnabled, EveryRun, "member account and Region pairs where Security Hub is not enabled (their findings not sent)"},
		{MessagesRefused, Refusals, "fan-out messages dropped unscanned because their run does not expect their account (the RefusedMessages alarm reads it)"},
	}
}

// RuleSeverity is a rule at a severity (a policy override may change a
// rule's severity for some accounts or buckets).
type RuleSeverity struct {
	Rule     string
	Severity rules.Severity
}

// Run is what a run's metrics are made of.
type Run struct {
	// Summary is the run's summary (pipeline.Run).
	Summary report.Summary
	// Open counts the run's open findings by rule and severity
	// (Tally.Open).
	Open map[RuleSeverity]int
	// WholeScope is set when the run scanned every account in scope: the
	// gauges of the organization's state (open, waived and coverage
	// findings) are emitted only then.
	WholeScope bool
	// Calls are the AWS requests of the run (awsclient.CallStats).
	Calls []awsclient.APICalls
}

// Values returns the metrics of a run.
func Values(r Run) []Value {
	s := r.Summary
	one := func(m Metric, v int) Value { return Value{Metric: m, Dims: map[string]string{}, Value: float64(v)} }
	vs := []Value{
		one(ScansFinished, 1),
		{Metric: RunDuration, Dims: map[string]string{}, Value: s.Duration().Seconds()},
		one(AccountsScanned, s.AccountsComplete+s.AccountsFailed+s.AccountsIncomplete),
		one(AccountsComplete, s.AccountsComplete),
		one(AccountsFailed, s.AccountsFailed),
		one(AccountsIncomplete, s.AccountsIncomplete),
		one(Buckets, s.Buckets),
		one(Configurations, s.Configs),
	}
	if r.WholeScope {
		bySeverity := map[rules.Severity]int{}
		open := map[RuleSeverity]int{}
		for _, rule := range rules.All() {
			open[RuleSeverity{rule.ID, rule.Severity}] = 0
		}
		total := 0
		for k, n := range r.Open {
			open[k] += n
			bySeverity[k.Severity] += n
			total += n
		}
		vs = append(vs, one(OpenFindings, total), one(WaivedFindings, s.Waived), one(CoverageFindings, s.Coverage()))
		for _, sev := range rules.Severities() {
			vs = append(vs, Value{Metric: OpenFindingsBySeverity, Dims: map[string]string{DimSeverity: sev.String()}, Value: float64(bySeverity[sev])})
		}
		keys := slices.SortedFunc(maps.Keys(open), func(a, b RuleSeverity) int {
			if a.Rule != b.Rule {
				if a.Rule < b.Rule {
					return -1
				}
				return 1
			}
			return int(b.Severity - a.Severity)
		})
		for _, k := range keys {
			vs = append(vs, Value{Metric: OpenFindingsByRule, Dims: map[string]string{DimRule: k.Rule, DimSeverity: k.Severity.String()}, Value: float64(open[k])})
		}
	}
	// The changes the store wrote (Summary.Changes): a run that writes
	// findings knows them, and only such runs print metrics.
	vs = append(vs, one(FindingsOpened, s.Changes.Opened), one(FindingsReopened, s.Changes.Reopened), one(FindingsResolved, s.Changes.Resolved))
	// What the run's outputs could not deliver.
	var hub report.SecurityHubCounts
	if s.SecurityHub != nil {
		hub = *s.SecurityHub
	}
	vs = append(vs, one(EventsFailed, s.EventsFailed), one(SecurityHubImported, hub.Imported),
		one(SecurityHubFailed, hub.Failed), one(SecurityHubNotEnabled, hub.NotEnabled))
	return append(vs, callValues(r.Calls)...)
}

func callValues(calls []awsclient.APICalls) []Value {
	var vs []Value
	for _, c := range calls {
		dims := map[string]string{DimService: c.Service, DimOperation: c.Operation}
		vs = append(vs, Value{Metric: AWSCalls, Dims: dims, Value: float64(c.Calls)},
			Value{Metric: AWSThrottledCalls, Dims: dims, Value: float64(c.Throttled)})
	}
	return vs
}

// Write writes the metrics of a run to w as EMF lines (in Lambda, w is
// standard output), each line with one Write, so that lines written
// concurrently by a logger stay whole. The documents carry the run's ID
// and trigger as plain members (scan_id, trigger), queryable in Logs
// Insights, and the run's end as their timestamp. It returns the number
// of lines written.
func Write(w io.Writer, namespace string, r Run) (int, error) {
	members := map[string]any{"scan_id": r.Summary.ScanID, "trigger": r.Summary.Trigger}
	ts := r.Summary.FinishedAt
	if ts.IsZero() {
		ts = time.Now()
	}
	return writeLines(w, namespace, ts, members, Values(r))
}

// WriteCalls writes only the AWS call counts (AWSCalls,
// AWSThrottledCalls) of one invocation that took part in a fan-out run
// (docs/scale.md): the coordinator and each worker print their own, and
// CloudWatch sums them, as it sums every value of a metric in a period.
// The run's other metrics are written once, by the invocation that
// finalizes it (Write, without Calls). scanID may be empty (a batch of
// several runs' messages). It writes nothing when calls is empty.
func WriteCalls(w io.Writer, namespace, scanID string, ts time.Time, calls []awsclient.APICalls) (int, error) {
	if len(calls) == 0 {
		return 0, nil
	}
	members := map[string]any{}
	if scanID != "" {
		members["scan_id"] = scanID
	}
	return writeLines(w, namespace, ts, members, callValues(calls))
}

// WriteRefused writes the number of messages a fan-out worker's
// invocation refused (MessagesRefused): messages naming an account their
// run does not expect, dropped without scanning anything. It writes
// nothing when n is 0.
func WriteRefused(w io.Writer, namespace, scanID string, ts time.Time, n int) (int, error) {
	if n == 0 {
		return 0, nil
	}
	members := map[string]any{}
	if scanID != "" {
		members["scan_id"] = scanID
	}
	return writeLines(w, namespace, ts, members, []Value{{Metric: MessagesRefused, Dims: map[string]string{}, Value: float64(n)}})
}

func writeLines(w io.Writer, namespace string, ts time.Time, members map[string]any, vs []Value) (int, error) {
	lines, err := Encode(namespace, ts, members, vs)
	if err != nil {
		return 0, err
	}
	for i, l := range lines {
		if _, err := w.Write(append(l, '\n')); err != nil {
			return i, fmt.Errorf("write EMF metrics: %w", err)
		}
	}
	return len(lines), nil
}

// Lines splits output into lines and returns those that are EMF
// documents (a JSON object with an _aws member), for tests and tools that
// read a function's output.
func Lines(output []byte) [][]byte {
	var out [][]byte
	for l := range bytes.Lines(output) {
		l = bytes.TrimSpace(l)
		if bytes.HasPrefix(l, []byte("{")) && bytes.Contains(l, []byte(`"_aws"`)) {
			out = append(out, l)
		}
	}
	return out
}

// Read parses the EMF lines of a function's output and checks each against
// the specification (Parse) and against the scanner's own contract: every
// metric is one of Definitions, in its unit, in namespace, and no
// dimension names an account or a bucket (each would be a billed metric
// per account or bucket). It returns the documents that pass, and one
// error per line or metric that does not.
func Read(output []byte, namespace string) ([]Document, []error) {
	defs := map[string]Definition{}
	for _, d := range Definitions() {
		defs[d.Key()] = d
	}
	var (
		docs []Document
		errs []error
	)
	for _, l := range Lines(output) {
		doc, err := Parse(l)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s", err, l))
			continue
		}
		ok := true
		for _, p := range doc.Metrics {
			d, defined := defs[p.Metric.Key()]
			switch {
			case p.Namespace != namespace:
				errs, ok = append(errs, fmt.Errorf("%s in namespace %q; want %q", p.Metric.Key(), p.Namespace, namespace)), false
			case !defined:
				errs, ok = append(errs, fmt.Errorf("%s is not among the scanner's metrics (Definitions)", p.Metric.Key())), false
			case p.Metric.Unit != d.Unit:
				errs, ok = append(errs, fmt.Errorf("%s in %s; defined in %s", p.Metric.Key(), p.Metric.Unit, d.Unit)), false
			}
			for _, dim := range p.Metric.Dimensions {
				if perAccount.MatchString(dim) {
					errs, ok = append(errs, fmt.Errorf("%s: dimension %s would make a billed metric per account or bucket", p.Metric.Key(), dim)), false
				}
			}
		}
		if ok {
			docs = append(docs, doc)
		}
	}
	return docs, errs
}

// perAccount matches a dimension name that would split a metric by
// account or bucket.
var perAccount = regexp.MustCompile(`(?i)account|bucket`)

// Tally is a report.Sink that counts the open findings of a run by rule
// and severity; it writes nothing. Fan it out beside the findings store
// for the run it counts. It is safe for concurrent use.
type Tally struct {
	mu   sync.Mutex
	open map[RuleSeverity]int
}

var _ report.Sink = (*Tally)(nil)

// NewTally returns an empty Tally.
func NewTally() *Tally { return &Tally{open: map[RuleSeverity]int{}} }

// Begin implements report.Sink.
func (t *Tally) Begin(context.Context, report.Run) error { return nil }

// Put counts the open findings of fs.
func (t *Tally) Put(_ context.Context, fs []rules.Finding) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range fs {
		if f.Status == rules.StatusOpen {
			t.open[RuleSeverity{f.RuleID, f.Severity}]++
		}
	}
	return nil
}

// AccountDone implements report.Sink.
func (t *Tally) AccountDone(context.Context, string, inventory.AccountResult) error { return nil }

// End implements report.Sink.
func (t *Tally) End(context.Context, report.Run) error { return nil }

// Open returns the counts so far.
func (t *Tally) Open() map[RuleSeverity]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.open)
}
