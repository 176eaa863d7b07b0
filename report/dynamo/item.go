package dynamo

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/internal/lifecycle"
	"github.com/s3inv/scanner/report/internal/paging"
	"github.com/s3inv/scanner/rules"
)

// Item types (the "type" attribute).
const (
	typeFinding     = "finding"      // the current record of a finding
	typeEpisode     = "episode"      // an archived, resolved episode of a finding that reappeared
	typeRun         = "run"          // one scan run
	typeAccountScan = "account_scan" // the last complete scan of an account
)

// Key prefixes.
const (
	accountPrefix = "ACCOUNT#"
	runPrefix     = "RUN#"
	findingPrefix = "F#"
	skAccountScan = "SCAN"
	skRun         = "RUN"
)

func accountPK(accountID string) string { return accountPrefix + accountID }

// bucketPrefix is the sort-key prefix of one bucket's findings and
// episodes (bucket "" for account-level findings). S3 bucket names hold
// no '#', so one bucket's prefix never matches another's.
func bucketPrefix(bucket string) string { return findingPrefix + bucket + "#" }

func findingSK(r report.Record) string {
	sk := bucketPrefix(r.Bucket) + r.FindingID
	if r.History {
		sk += "#" + stamp(r.FirstSeen)
	}
	return sk
}

// findingItem is a finding's record as stored. Empty strings are omitted
// (index keys may not be empty, and absent index keys keep the sparse
// indexes sparse).
type findingItem struct {
	PK            string            `dynamodbav:"pk"`
	SK            string            `dynamodbav:"sk"`
	Type          string            `dynamodbav:"type"`
	FindingID     string            `dynamodbav:"finding_id"`
	AccountID     string            `dynamodbav:"account_id"`
	AccountName   string            `dynamodbav:"account_name,omitempty"`
	OUID          string            `dynamodbav:"ou_id,omitempty"`
	OUName        string            `dynamodbav:"ou_name,omitempty"`
	Bucket        string            `dynamodbav:"bucket,omitempty"`
	Region        string            `dynamodbav:"region,omitempty"`
	ConfigID      string            `dynamodbav:"config_id,omitempty"`
	RuleID        string            `dynamodbav:"rule_id"`
	Severity      string            `dynamodbav:"severity"`
	Status        string            `dynamodbav:"status"`
	Title         string            `dynamodbav:"title,omitempty"`
	Message       string            `dynamodbav:"message,omitempty"`
	Evidence      map[string]string `dynamodbav:"evidence,omitempty"`
	WaiverReason  string            `dynamodbav:"waiver_reason,omitempty"`
	WaiverExpires string            `dynamodbav:"waiver_expires,omitempty"`
	ScanID        string            `dynamodbav:"scan_id,omitempty"`
	ObservedAt    string            `dynamodbav:"observed_at,omitempty"`
	FirstSeen     string            `dynamodbav:"first_seen,omitempty"`
	LastSeen      string            `dynamodbav:"last_seen,omitempty"`
	ResolvedAt    string            `dynamodbav:"resolved_at,omitempty"`
	Resolution    string            `dynamodbav:"resolution,omitempty"`
	ExpiresAt     int64             `dynamodbav:"expires_at,omitempty"` // TTLAttribute
	OpenRule      string            `dynamodbav:"open_rule,omitempty"`
	OpenSeverity  string            `dynamodbav:"open_severity,omitempty"`
	ChangedIn     string            `dynamodbav:"changed_in,omitempty"`    // current records only: index changes
	ChangeSort    string            `dynamodbav:"change_sort,omitempty"`   // paging.ChangeKey, with changed_in
	WaiverFeed    string            `dynamodbav:"waiver_feed,omitempty"`   // "WAIVED", on current WAIVED records with an expiry: index waivers
	OpenCoverage  string            `dynamodbav:"open_coverage,omitempty"` // "COVERAGE", on unresolved current coverage findings: index open-coverage
}

func encodeRecord(r report.Record) (map[string]types.AttributeValue, error) {
	it := findingItem{
		PK: accountPK(r.AccountID), SK: findingSK(r), Type: typeFinding,
		FindingID: r.FindingID, AccountID: r.AccountID, AccountName: r.AccountName, OUID: r.OUID, OUName: r.OUName,
		Bucket: r.Bucket, Region: r.Region, ConfigID: r.ConfigID, RuleID: r.RuleID,
		Severity: r.Severity.String(), Status: string(r.Status), Title: r.Title, Message: r.Message,
		Evidence: r.Evidence, ScanID: r.ScanID, ObservedAt: stamp(r.ObservedAt),
		FirstSeen: stamp(r.FirstSeen), LastSeen: stamp(r.LastSeen), ResolvedAt: stamp(r.ResolvedAt),
		Resolution: r.Resolution,
	}
	if r.History {
		it.Type = typeEpisode
	}
	if r.Waiver != nil {
		it.WaiverReason, it.WaiverExpires = r.Waiver.Reason, r.Waiver.Expires
	}
	if !r.ExpiresAt.IsZero() {
		it.ExpiresAt = r.ExpiresAt.Unix()
	}
	if r.Open() && !r.History {
		it.OpenRule, it.OpenSeverity = r.RuleID, r.Severity.String()
		if rules.IsCoverage(r.RuleID) {
			it.OpenCoverage = coverageFeed
		}
	}
	if r.ChangedIn != "" && !r.History {
		it.ChangedIn, it.ChangeSort = r.ChangedIn, paging.ChangeKey(r.Finding)
	}
	if r.Status == rules.StatusWaived && !r.History && it.WaiverExpires != "" {
		it.WaiverFeed = waiverFeed
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode finding %s: %w", r.FindingID, err)
	}
	return av, nil
}

func decodeRecord(av map[string]types.AttributeValue) (report.Record, error) {
	var it findingItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return report.Record{}, fmt.Errorf("decode finding item: %w", err)
	}
	sev, err := rules.ParseSeverity(it.Severity)
	if err != nil {
		return report.Record{}, fmt.Errorf("decode finding %s: %w", it.FindingID, err)
	}
	r := report.Record{Finding: rules.Finding{
		FindingID: it.FindingID, AccountID: it.AccountID, AccountName: it.AccountName, OUID: it.OUID, OUName: it.OUName,
		Bucket: it.Bucket, Region: it.Region, ConfigID: it.ConfigID, RuleID: it.RuleID, Severity: sev,
		Status: rules.Status(it.Status), Title: it.Title, Message: it.Message, Evidence: it.Evidence,
		ScanID: it.ScanID,
	}, History: it.Type == typeEpisode, Resolution: it.Resolution, ChangedIn: it.ChangedIn}
	if it.WaiverReason != "" || it.WaiverExpires != "" {
		r.Waiver = &rules.AppliedWaiver{Reason: it.WaiverReason, Expires: it.WaiverExpires}
	}
	for _, p := range []struct {
		dst *time.Time
		s   string
	}{{&r.ObservedAt, it.ObservedAt}, {&r.FirstSeen, it.FirstSeen}, {&r.LastSeen, it.LastSeen}, {&r.ResolvedAt, it.ResolvedAt}} {
		if *p.dst, err = parseStamp(p.s); err != nil {
			return report.Record{}, fmt.Errorf("decode finding %s: %w", it.FindingID, err)
		}
	}
	if it.ExpiresAt != 0 {
		r.ExpiresAt = time.Unix(it.ExpiresAt, 0).UTC()
	}
	return r, nil
}

// runItem is one scan run.
type runItem struct {
	PK                 string         `dynamodbav:"pk"`
	SK                 string         `dynamodbav:"sk"`
	Type               string         `dynamodbav:"type"`
	RunFeed            string         `dynamodbav:"run_feed"`
	ScanID             string         `dynamodbav:"scan_id"`
	Trigger            string         `dynamodbav:"trigger,omitempty"`
	StartedAt          string         `dynamodbav:"started_at"`
	FinishedAt         string         `dynamodbav:"finished_at,omitempty"`
	DurationMS         int64          `dynamodbav:"duration_ms,omitempty"`
	AccountsComplete   int            `dynamodbav:"accounts_complete"`
	AccountsFailed     int            `dynamodbav:"accounts_failed"`
	AccountsIncomplete int            `dynamodbav:"accounts_incomplete"`
	Buckets            int            `dynamodbav:"buckets"`
	Configs            int            `dynamodbav:"configs"`
	BySeverity         map[string]int `dynamodbav:"by_severity,omitempty"`
	ByRule             map[string]int `dynamodbav:"by_rule,omitempty"`
	// Writes and BatchCalls are what the store spent on this run (see
	// Stats), set at End.
	Writes     int64 `dynamodbav:"writes,omitempty"`
	BatchCalls int64 `dynamodbav:"batch_calls,omitempty"`
}

func encodeRun(r report.Run, st Stats) (map[string]types.AttributeValue, error) {
	it := runItem{
		PK: runPrefix + r.ScanID, SK: skRun, Type: typeRun, RunFeed: runFeed,
		ScanID: r.ScanID, Trigger: r.Trigger, StartedAt: stamp(r.StartedAt), FinishedAt: stamp(r.FinishedAt),
		DurationMS:       lifecycle.Timestamp(r.FinishedAt).Sub(lifecycle.Timestamp(r.StartedAt)).Milliseconds(),
		AccountsComplete: r.AccountsComplete, AccountsFailed: r.AccountsFailed, AccountsIncomplete: r.AccountsIncomplete,
		Buckets: r.Buckets, Configs: r.Configs, BySeverity: r.BySeverity, ByRule: r.ByRule,
		Writes: st.Writes(), BatchCalls: st.BatchCalls,
	}
	if r.FinishedAt.IsZero() {
		it.DurationMS = 0
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, fmt.Errorf("encode run %s: %w", r.ScanID, err)
	}
	return av, nil
}

func decodeRun(av map[string]types.AttributeValue) (report.Run, error) {
	var it runItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return report.Run{}, fmt.Errorf("decode run item: %w", err)
	}
	r := report.Run{
		ScanID: it.ScanID, Trigger: it.Trigger,
		AccountsComplete: it.AccountsComplete, AccountsFailed: it.AccountsFailed, AccountsIncomplete: it.AccountsIncomplete,
		Buckets: it.Buckets, Configs: it.Configs, BySeverity: it.BySeverity, ByRule: it.ByRule,
	}
	var err error
	if r.StartedAt, err = parseStamp(it.StartedAt); err != nil {
		return report.Run{}, fmt.Errorf("decode run %s: %w", it.ScanID, err)
	}
	if r.FinishedAt, err = parseStamp(it.FinishedAt); err != nil {
		return report.Run{}, fmt.Errorf("decode run %s: %w", it.ScanID, err)
	}
	return r, nil
}

// accountScanItem is the last complete scan of an account.
type accountScanItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	AccountFeed string `dynamodbav:"account_feed"`
	AccountID   string `dynamodbav:"account_id"`
	AccountName string `dynamodbav:"account_name,omitempty"`
	OUID        string `dynamodbav:"ou_id,omitempty"`
	OUName      string `dynamodbav:"ou_name,omitempty"`
	ScanID      string `dynamodbav:"scan_id"`
	StartedAt   string `dynamodbav:"started_at,omitempty"`
	FinishedAt  string `dynamodbav:"finished_at,omitempty"`
	Buckets     int    `dynamodbav:"buckets"`
	Configs     int    `dynamodbav:"configs"`
	Unreadable  int    `dynamodbav:"unreadable"`
	Open        int    `dynamodbav:"open"`
	Waived      int    `dynamodbav:"waived"`
}

func encodeAccountScan(s report.AccountScan) (map[string]types.AttributeValue, error) {
	av, err := attributevalue.MarshalMap(accountScanItem{
		PK: accountPK(s.AccountID), SK: skAccountScan, Type: typeAccountScan, AccountFeed: accountFeed,
		AccountID: s.AccountID, AccountName: s.AccountName, OUID: s.OUID, OUName: s.OUName, ScanID: s.ScanID,
		StartedAt: stamp(s.StartedAt), FinishedAt: stamp(s.FinishedAt),
		Buckets: s.Buckets, Configs: s.Configs, Unreadable: s.Unreadable, Open: s.Open, Waived: s.Waived,
	})
	if err != nil {
		return nil, fmt.Errorf("encode scan of account %s: %w", s.AccountID, err)
	}
	return av, nil
}

func decodeAccountScan(av map[string]types.AttributeValue) (report.AccountScan, error) {
	var it accountScanItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return report.AccountScan{}, fmt.Errorf("decode account scan item: %w", err)
	}
	s := report.AccountScan{
		AccountID: it.AccountID, AccountName: it.AccountName, OUID: it.OUID, OUName: it.OUName, ScanID: it.ScanID,
		Buckets: it.Buckets, Configs: it.Configs, Unreadable: it.Unreadable, Open: it.Open, Waived: it.Waived,
	}
	var err error
	if s.StartedAt, err = parseStamp(it.StartedAt); err != nil {
		return report.AccountScan{}, fmt.Errorf("decode scan of account %s: %w", it.AccountID, err)
	}
	if s.FinishedAt, err = parseStamp(it.FinishedAt); err != nil {
		return report.AccountScan{}, fmt.Errorf("decode scan of account %s: %w", it.AccountID, err)
	}
	return s, nil
}

// stamp formats t as RFC 3339 in UTC, whole seconds (strings that sort in
// time order); "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return lifecycle.Timestamp(t).Format(time.RFC3339)
}

func parseStamp(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want RFC 3339", s)
	}
	return t.UTC(), nil
}
