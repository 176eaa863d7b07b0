package report

import (
	"cmp"
	"slices"
	"sync"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// topN is how many of the worst accounts and buckets a summary keeps.
const topN = 5

// maxFailed is how many of the accounts not scanned completely a summary
// lists (all are counted): the Lambda response stays far below its 6 MB
// limit whatever the organization's size.
const maxFailed = 100

// Summary is the outcome of a run: the run record plus what a person
// wants to see first.
type Summary struct {
	Run
	// Waived counts the findings a waiver covered (included in the run's
	// by-severity and by-rule counts as well).
	Waived int `json:"waived"`
	// Failed lists the accounts that were not scanned completely, by
	// account ID, at most maxFailed of them, without their lists of
	// unreadable buckets (those are SCAN-003 findings).
	Failed []inventory.AccountResult `json:"failed,omitempty"`
	// WorstAccounts and WorstBuckets rank by open findings, most severe
	// first.
	WorstAccounts []Tally `json:"worst_accounts,omitempty"`
	WorstBuckets  []Tally `json:"worst_buckets,omitempty"`
	// OutOfScopeClosed counts the findings closed because their account
	// is no longer in scope (suspended, closed, excluded, removed).
	OutOfScopeClosed int `json:"out_of_scope_closed,omitempty"`
	// Changes counts the changes of findings' state the store wrote in
	// this run (opened, reopened, resolved, waived, waiver expired): all
	// zero for a run that changed nothing, a dry run, or a sink that
	// keeps no state.
	Changes TransitionCounts `json:"changes"`
	// EventsFailed counts the events (changes and the run's own) that
	// could not be published, once every retry was spent.
	EventsFailed int `json:"events_failed,omitempty"`
	// SecurityHub counts what the run imported into Security Hub; nil
	// when the export is off (or the run was a dry run).
	SecurityHub *SecurityHubCounts `json:"security_hub,omitempty"`
}

// SecurityHubCounts counts the findings a run sent to the member accounts'
// Security Hub (report/securityhub).
type SecurityHubCounts struct {
	// Imported counts the findings Security Hub accepted.
	Imported int `json:"imported"`
	// Failed counts the findings that could not be imported once every
	// retry was spent (FailedFindings, errors, a member role that could
	// not be assumed or may not import).
	Failed int `json:"failed"`
	// NotEnabled counts the account and Region pairs where Security Hub
	// is not enabled; Skipped the findings not sent there.
	NotEnabled int `json:"not_enabled"`
	Skipped    int `json:"skipped"`
}

// Findings is the number of findings the run produced.
func (s Summary) Findings() int {
	n := 0
	for _, c := range s.BySeverity {
		n += c
	}
	return n
}

// Open is the number of open (not waived) findings the run produced.
func (s Summary) Open() int { return s.Findings() - s.Waived }

// Coverage is the number of coverage findings (rules of KindCoverage):
// what the run could not see.
func (s Summary) Coverage() int {
	n := 0
	for id, c := range s.ByRule {
		if rules.IsCoverage(id) {
			n += c
		}
	}
	return n
}

// Tally counts the open findings of one account or bucket.
type Tally struct {
	AccountID   string         `json:"account_id"`
	AccountName string         `json:"account_name,omitempty"`
	Bucket      string         `json:"bucket,omitempty"`
	Open        int            `json:"open"`
	BySeverity  map[string]int `json:"by_severity"`
	worst       rules.Severity
}

// worse orders tallies: most severe finding first, then most findings.
func worse(a, b Tally) int {
	if c := cmp.Compare(b.worst, a.worst); c != 0 {
		return c
	}
	if c := cmp.Compare(b.Open, a.Open); c != 0 {
		return c
	}
	return cmp.Compare(a.AccountID+"/"+a.Bucket, b.AccountID+"/"+b.Bucket)
}

func (t *Tally) add(f rules.Finding) {
	if f.Status != rules.StatusOpen {
		return
	}
	t.Open++
	t.BySeverity[f.Severity.String()]++
	t.worst = max(t.worst, f.Severity)
}

// Progress is a snapshot of a running scan.
type Progress struct {
	AccountsDone, AccountsTotal int
	Buckets                     int
	Findings                    int
}

// SummaryCounter gathers a run's figures as results and their findings arrive.
// It is safe for concurrent use. Its memory is bounded by the number of
// accounts, not buckets: it keeps only the worst topN buckets.
type SummaryCounter struct {
	total    int
	progress func(Progress)

	mu       sync.Mutex
	run      Run
	waived   int
	findings int
	done     int
	failed   []inventory.AccountResult
	accounts map[string]*Tally
	buckets  []Tally // at most topN, sorted worst first
}

// NewSummaryCounter returns a SummaryCounter for a run of total accounts; progress, when
// set, is called after each bucket and each account.
func NewSummaryCounter(total int, progress func(Progress)) *SummaryCounter {
	return &SummaryCounter{
		total: total, progress: progress,
		run:      Run{BySeverity: map[string]int{}, ByRule: map[string]int{}},
		accounts: map[string]*Tally{},
	}
}

// Bucket counts a bucket's result and its findings.
func (h *SummaryCounter) Bucket(r inventory.BucketResult, fs []rules.Finding) {
	bt := Tally{AccountID: r.Account.ID, AccountName: r.Account.Name, Bucket: r.Bucket.Name, BySeverity: map[string]int{}}
	for _, f := range fs {
		bt.add(f)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count(r.Account, fs)
	if r.Failure == nil {
		h.run.Configs += len(r.Configs)
	}
	h.run.Buckets++
	if bt.Open > 0 {
		i, _ := slices.BinarySearchFunc(h.buckets, bt, worse)
		if i < topN {
			h.buckets = slices.Insert(h.buckets, i, bt)
			h.buckets = h.buckets[:min(len(h.buckets), topN)]
		}
	}
	h.report()
}

// Findings counts findings of an account that come with no bucket result
// of their own: its destination checks (INV-110 to INV-115, SCAN-005).
func (h *SummaryCounter) Findings(acct inventory.Account, fs []rules.Finding) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count(acct, fs)
	h.report()
}

// Account counts an account's result and its account-level findings.
func (h *SummaryCounter) Account(r inventory.AccountResult, fs []rules.Finding) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.count(r.Account, fs)
	h.done++
	switch r.Status {
	case inventory.AccountComplete:
		h.run.AccountsComplete++
	case inventory.AccountIncomplete:
		h.run.AccountsIncomplete++
		h.addFailed(r)
	default:
		h.run.AccountsFailed++
		h.addFailed(r)
	}
	h.report()
}

// addFailed keeps r among the maxFailed lowest account IDs not scanned
// completely; h.mu is held.
func (h *SummaryCounter) addFailed(r inventory.AccountResult) {
	r.Unreadable, r.Unverified = nil, nil
	byID := func(a, b inventory.AccountResult) int { return cmp.Compare(a.Account.ID, b.Account.ID) }
	i, _ := slices.BinarySearchFunc(h.failed, r, byID)
	if i < maxFailed {
		h.failed = slices.Insert(h.failed, i, r)
		h.failed = h.failed[:min(len(h.failed), maxFailed)]
	}
}

// count adds findings to the run's and the account's counts; h.mu is held.
func (h *SummaryCounter) count(acct inventory.Account, fs []rules.Finding) {
	t := h.accounts[acct.ID]
	if t == nil {
		t = &Tally{AccountID: acct.ID, AccountName: acct.Name, BySeverity: map[string]int{}}
		h.accounts[acct.ID] = t
	}
	for _, f := range fs {
		h.findings++
		h.run.BySeverity[f.Severity.String()]++
		h.run.ByRule[f.RuleID]++
		if f.Status == rules.StatusWaived {
			h.waived++
		}
		t.add(f)
	}
}

// report calls the progress callback; h.mu is held.
func (h *SummaryCounter) report() {
	if h.progress != nil {
		h.progress(Progress{AccountsDone: h.done, AccountsTotal: h.total, Buckets: h.run.Buckets, Findings: h.findings})
	}
}

// Summary returns the counts gathered so far under the run's identity.
func (h *SummaryCounter) Summary(run Run) Summary {
	h.mu.Lock()
	defer h.mu.Unlock()
	run.AccountsComplete, run.AccountsFailed, run.AccountsIncomplete = h.run.AccountsComplete, h.run.AccountsFailed, h.run.AccountsIncomplete
	run.Buckets, run.Configs = h.run.Buckets, h.run.Configs
	run.BySeverity, run.ByRule = h.run.BySeverity, h.run.ByRule
	s := Summary{Run: run, Waived: h.waived, WorstBuckets: slices.Clone(h.buckets)}
	s.Failed = slices.Clone(h.failed)
	for _, t := range h.accounts {
		if t.Open > 0 {
			s.WorstAccounts = append(s.WorstAccounts, *t)
		}
	}
	slices.SortFunc(s.WorstAccounts, worse)
	s.WorstAccounts = s.WorstAccounts[:min(len(s.WorstAccounts), topN)]
	return s
}
