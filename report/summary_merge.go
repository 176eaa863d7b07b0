package report

import (
	"cmp"
	"maps"
	"slices"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// Merge adds up the summaries of parts of one run (the accounts of a
// fan-out run, each scanned by a worker) under the run's identity: the
// counts are summed, the accounts not scanned completely kept (the lowest
// maxFailed IDs), and the worst accounts and buckets ranked again. The
// result equals the summary a single SummaryCounter would have kept for the
// same results.
func MergeSummaries(run Run, parts ...Summary) Summary {
	run.AccountsComplete, run.AccountsFailed, run.AccountsIncomplete = 0, 0, 0
	run.Buckets, run.Configs = 0, 0
	run.BySeverity, run.ByRule = map[string]int{}, map[string]int{}
	s := Summary{Run: run}
	for _, p := range parts {
		s.AccountsComplete += p.AccountsComplete
		s.AccountsFailed += p.AccountsFailed
		s.AccountsIncomplete += p.AccountsIncomplete
		s.Buckets += p.Buckets
		s.Configs += p.Configs
		for k, v := range p.BySeverity {
			s.BySeverity[k] += v
		}
		for k, v := range p.ByRule {
			s.ByRule[k] += v
		}
		s.Waived += p.Waived
		s.Failed = append(s.Failed, p.Failed...)
		s.WorstAccounts = append(s.WorstAccounts, p.WorstAccounts...)
		s.WorstBuckets = append(s.WorstBuckets, p.WorstBuckets...)
		s.OutOfScopeClosed += p.OutOfScopeClosed
		s.Changes.Opened += p.Changes.Opened
		s.Changes.Reopened += p.Changes.Reopened
		s.Changes.Resolved += p.Changes.Resolved
		s.Changes.Waived += p.Changes.Waived
		s.Changes.WaiverExpired += p.Changes.WaiverExpired
		s.EventsFailed += p.EventsFailed
		if p.SecurityHub != nil {
			if s.SecurityHub == nil {
				s.SecurityHub = &SecurityHubCounts{}
			}
			s.SecurityHub.Imported += p.SecurityHub.Imported
			s.SecurityHub.Failed += p.SecurityHub.Failed
			s.SecurityHub.NotEnabled += p.SecurityHub.NotEnabled
			s.SecurityHub.Skipped += p.SecurityHub.Skipped
		}
	}
	slices.SortFunc(s.Failed, func(a, b inventory.AccountResult) int { return cmp.Compare(a.Account.ID, b.Account.ID) })
	s.Failed = s.Failed[:min(len(s.Failed), maxFailed)]
	s.WorstAccounts = worst(combine(s.WorstAccounts))
	s.WorstBuckets = worst(s.WorstBuckets)
	return s
}

// combine adds up the tallies of one account given by several parts (the
// chunks of a split account), keeping the order of first appearance.
func combine(ts []Tally) []Tally {
	var out []Tally
	at := map[string]int{}
	for _, t := range ts {
		i, ok := at[t.AccountID]
		if !ok {
			at[t.AccountID] = len(out)
			t.BySeverity = maps.Clone(t.BySeverity)
			out = append(out, t)
			continue
		}
		out[i].Open += t.Open
		if out[i].BySeverity == nil {
			out[i].BySeverity = map[string]int{}
		}
		for k, n := range t.BySeverity {
			out[i].BySeverity[k] += n
		}
	}
	return out
}

// worst ranks tallies decoded from JSON (their worst severity recomputed
// from BySeverity) and keeps the topN.
func worst(ts []Tally) []Tally {
	for i := range ts {
		ts[i].worst = 0
		for name, n := range ts[i].BySeverity {
			if sev, err := rules.ParseSeverity(name); err == nil && n > 0 {
				ts[i].worst = max(ts[i].worst, sev)
			}
		}
	}
	slices.SortFunc(ts, worse)
	if len(ts) == 0 {
		return nil
	}
	return ts[:min(len(ts), topN)]
}
