// Package config is the scanner's configuration: one documented struct,
// loaded from environment variables (the Lambda function) and overridden by
// flags (the command line), with defaults and a Validate that names the
// bad variable and what it expected.
//
// AWS settings (credentials, region, endpoints, retries) are not here: they
// come from the SDK's standard chain (AWS_REGION, AWS_PROFILE,
// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, AWS_MAX_ATTEMPTS, ...).
package config

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/s3inv/scanner/rules"
	"github.com/s3inv/scanner/scan"
)

// Account sources.
const (
	SourceOrganizations = "organizations"
	SourceStatic        = "static"
)

// Config is everything the scanner needs beyond the AWS SDK's own settings.
// Each field names its environment variable.
type Config struct {
	// AccountSource is where accounts come from: "organizations"
	// (ListAccounts; the caller must be the management account or a
	// delegated administrator) or "static" (Accounts). SCANNER_ACCOUNT_SOURCE.
	AccountSource string
	// Accounts is the static account list. SCANNER_ACCOUNTS (comma-separated).
	Accounts []string
	// Filter narrows the organization's accounts. SCANNER_INCLUDE_OUS,
	// SCANNER_EXCLUDE_OUS, SCANNER_INCLUDE_ACCOUNTS, SCANNER_EXCLUDE_ACCOUNTS
	// (comma-separated).
	Filter scan.Filter

	// RoleName is the member role, optionally with a path and the
	// {account_id} placeholder. SCANNER_ROLE_NAME.
	RoleName string
	// ExternalID is sent with every AssumeRole. SCANNER_EXTERNAL_ID.
	ExternalID string
	// SessionName names the role sessions in the members' CloudTrail.
	// SCANNER_SESSION_NAME.
	SessionName string

	// AccountConcurrency and BucketConcurrency bound the work in flight:
	// accounts started at once, and AccountConcurrency × BucketConcurrency
	// AWS requests at once, shared by every account (scan.Options).
	// SCANNER_ACCOUNT_CONCURRENCY, SCANNER_BUCKET_CONCURRENCY.
	AccountConcurrency int
	BucketConcurrency  int
	// DeadlineMargin is kept free before the Lambda deadline to write the
	// findings. SCANNER_DEADLINE_MARGIN (a Go duration, e.g. 30s).
	DeadlineMargin time.Duration

	// Table is the DynamoDB findings table; empty means no table.
	// SCANNER_TABLE.
	Table string
	// Retention is how long resolved findings are kept before DynamoDB's
	// TTL removes them. SCANNER_RETENTION_DAYS.
	Retention time.Duration
	// EventBus is the EventBridge bus (name or ARN; "default" is the
	// account's default bus) that receives the findings' changes and
	// each scan's summary; empty sends no events. SCANNER_EVENT_BUS.
	EventBus string
	// SecurityHub imports the findings' changes into each member
	// account's Security Hub, through the member role (which must grant
	// securityhub:BatchImportFindings); only with Table, whose store
	// says what changed. SCANNER_SECURITY_HUB (true or false).
	SecurityHub bool

	// Policy is an inline policy document (YAML or JSON). SCANNER_POLICY.
	Policy string
	// PolicyFile is a policy file path. SCANNER_POLICY_FILE. At most one of
	// Policy and PolicyFile; with neither, the embedded default applies.
	PolicyFile string

	// MetricsNamespace is the CloudWatch namespace of the metrics the
	// Lambda function prints after each run (package emf).
	// SCANNER_METRICS_NAMESPACE.
	MetricsNamespace string

	// Mode says whether a scheduled run scans every account itself
	// (ModeSingle), hands the accounts to workers over SQS (ModeFanout),
	// or fans out above FanoutThreshold accounts (ModeAuto); see
	// docs/scale.md. SCANNER_MODE.
	Mode string
	// QueueURL is the SQS queue of the fan-out's messages; needed by
	// ModeFanout and ModeAuto. SCANNER_QUEUE_URL.
	QueueURL string
	// FanoutThreshold is the number of accounts above which ModeAuto fans
	// out. SCANNER_FANOUT_THRESHOLD.
	FanoutThreshold int
	// ChunkBuckets is the most buckets a fan-out worker reads of one
	// account: an account with more is split into chunks of this many,
	// each read by another worker (docs/scale.md).
	// SCANNER_CHUNK_BUCKETS.
	ChunkBuckets int
	// FanoutDeadline is how long a fan-out run may take before the next
	// coordinator closes it, its missing accounts INCOMPLETE.
	// SCANNER_FANOUT_DEADLINE (a Go duration).
	FanoutDeadline time.Duration
}

// The modes of a scheduled run (Config.Mode).
const (
	ModeSingle = "single"
	ModeFanout = "fanout"
	ModeAuto   = "auto"
)

// FansOut reports whether a run of n accounts in scope fans out.
func (c Config) FansOut(n int) bool {
	switch c.Mode {
	case ModeFanout:
		return true
	case ModeAuto:
		return n > c.FanoutThreshold
	}
	return false
}

// Env lists every environment variable the scanner reads, with its
// default. The SAM template declares each of them (a test checks).
var Env = []struct{ Name, Default, Doc string }{
	{"SCANNER_ACCOUNT_SOURCE", SourceOrganizations, "where accounts come from: organizations or static"},
	{"SCANNER_ACCOUNTS", "", "static account IDs, comma-separated"},
	{"SCANNER_INCLUDE_OUS", "", "scan only accounts under these OU or root IDs"},
	{"SCANNER_EXCLUDE_OUS", "", "skip accounts under these OU or root IDs"},
	{"SCANNER_INCLUDE_ACCOUNTS", "", "scan only these account IDs (with SCANNER_INCLUDE_OUS: either)"},
	{"SCANNER_EXCLUDE_ACCOUNTS", "", "skip these account IDs"},
	{"SCANNER_ROLE_NAME", "S3InventoryScannerMember", "member role name; {account_id} is replaced (never the whole name)"},
	{"SCANNER_EXTERNAL_ID", "", "ExternalId sent with AssumeRole"},
	{"SCANNER_SESSION_NAME", "s3-inventory-scanner", "role session name seen in the members' CloudTrail"},
	{"SCANNER_ACCOUNT_CONCURRENCY", "8", "accounts started at once: role assumed, buckets listed (1-256)"},
	{"SCANNER_BUCKET_CONCURRENCY", "16", "requests in flight per account slot: at most ACCOUNT × BUCKET concurrency AWS calls at once, shared by all accounts (1-256)"},
	{"SCANNER_DEADLINE_MARGIN", "30s", "time kept before the Lambda deadline to write findings"},
	{"SCANNER_TABLE", "", "DynamoDB findings table name"},
	{"SCANNER_RETENTION_DAYS", "90", "days resolved findings are kept (DynamoDB TTL)"},
	{"SCANNER_EVENT_BUS", "", "EventBridge bus (name or ARN; \"default\" is the account's default bus) for the findings' changes and scan summaries; empty sends no events"},
	{"SCANNER_SECURITY_HUB", "false", "true imports the findings' changes into each member account's Security Hub (ASFF) through the member role (only with SCANNER_TABLE)"},
	{"SCANNER_POLICY", "", "inline policy document (YAML or JSON)"},
	{"SCANNER_POLICY_FILE", "", "policy file path"},
	{"SCANNER_METRICS_NAMESPACE", DefaultMetricsNamespace, "CloudWatch namespace of the run's metrics (Lambda only; EMF lines on stdout)"},
	{"SCANNER_MODE", ModeSingle, "scheduled runs: single (one invocation), fanout (one SQS message per account, docs/scale.md) or auto (fanout above SCANNER_FANOUT_THRESHOLD accounts); Lambda only"},
	{"SCANNER_QUEUE_URL", "", "SQS queue URL of the fan-out's messages (fanout and auto)"},
	{"SCANNER_FANOUT_THRESHOLD", "1000", "accounts in scope above which auto fans out (1-100000)"},
	{"SCANNER_CHUNK_BUCKETS", "5000", "fan-out: buckets above which a worker splits an account into chunks of this many, read by other workers (1-10000)"},
	{"SCANNER_FANOUT_DEADLINE", "1h", "how long a fan-out run may take before the next run closes it, its missing accounts INCOMPLETE (5m-24h)"},
}

// DefaultMetricsNamespace is the CloudWatch namespace of the metrics when
// SCANNER_METRICS_NAMESPACE is not set (the SAM template sets it to one
// per stack).
const DefaultMetricsNamespace = "S3InventoryScanner"

// validNamespace reports whether CloudWatch accepts ns as the namespace
// of custom metrics: 1 to 255 of letters, digits and . - _ / # : space,
// not in AWS/.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 255 || strings.HasPrefix(ns, "AWS/") {
		return false
	}
	for _, r := range ns {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("._-/#: ", r)) {
			return false
		}
	}
	return true
}

// Default returns the configuration with every default of Env applied
// (a test checks that the two agree).
func Default() Config {
	return Config{
		AccountSource:      SourceOrganizations,
		RoleName:           "S3InventoryScannerMember",
		SessionName:        "s3-inventory-scanner",
		AccountConcurrency: 8,
		BucketConcurrency:  16,
		DeadlineMargin:     30 * time.Second,
		Retention:          90 * 24 * time.Hour,
		MetricsNamespace:   DefaultMetricsNamespace,
		Mode:               ModeSingle,
		FanoutThreshold:    1000,
		ChunkBuckets:       5000,
		FanoutDeadline:     time.Hour,
	}
}

// FromEnv loads the configuration from environment variables through
// getenv (os.Getenv in production), applies defaults, and validates it.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, e := range Env {
			if e.Name == name {
				return e.Default
			}
		}
		return ""
	}
	var (
		c    Config
		errs []error
	)
	// num parses a whole number and checks its range before the caller
	// converts it (days to a duration, say), so no value can overflow.
	num := func(name string, lo, hi int) int {
		v := get(name)
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from %d to %d", name, shorten(v), lo, hi))
			return 0
		}
		return n
	}
	c.AccountSource = strings.ToLower(get("SCANNER_ACCOUNT_SOURCE"))
	c.Accounts = List(get("SCANNER_ACCOUNTS"))
	c.Filter = scan.Filter{
		IncludeOUs:      List(get("SCANNER_INCLUDE_OUS")),
		ExcludeOUs:      List(get("SCANNER_EXCLUDE_OUS")),
		IncludeAccounts: List(get("SCANNER_INCLUDE_ACCOUNTS")),
		ExcludeAccounts: List(get("SCANNER_EXCLUDE_ACCOUNTS")),
	}
	c.RoleName = get("SCANNER_ROLE_NAME")
	c.ExternalID = get("SCANNER_EXTERNAL_ID")
	c.SessionName = get("SCANNER_SESSION_NAME")
	c.AccountConcurrency = num("SCANNER_ACCOUNT_CONCURRENCY", minConcurrency, maxConcurrency)
	c.BucketConcurrency = num("SCANNER_BUCKET_CONCURRENCY", minConcurrency, maxConcurrency)
	if v := get("SCANNER_DEADLINE_MARGIN"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SCANNER_DEADLINE_MARGIN=%q: want a duration such as 30s", shorten(v)))
		}
		c.DeadlineMargin = d
	}
	c.Table = get("SCANNER_TABLE")
	c.Retention = time.Duration(num("SCANNER_RETENTION_DAYS", minRetentionDays, maxRetentionDays)) * 24 * time.Hour
	c.EventBus = get("SCANNER_EVENT_BUS")
	switch v := get("SCANNER_SECURITY_HUB"); strings.ToLower(v) {
	case "true":
		c.SecurityHub = true
	case "false":
	default:
		errs = append(errs, fmt.Errorf("SCANNER_SECURITY_HUB=%q: want true or false", shorten(v)))
	}
	c.Policy = getenv("SCANNER_POLICY") // verbatim: YAML cares about white space
	c.PolicyFile = get("SCANNER_POLICY_FILE")
	c.MetricsNamespace = get("SCANNER_METRICS_NAMESPACE")
	c.Mode = strings.ToLower(get("SCANNER_MODE"))
	c.QueueURL = get("SCANNER_QUEUE_URL")
	c.FanoutThreshold = num("SCANNER_FANOUT_THRESHOLD", minFanoutThreshold, maxFanoutThreshold)
	c.ChunkBuckets = num("SCANNER_CHUNK_BUCKETS", minChunkBuckets, maxChunkBuckets)
	if v := get("SCANNER_FANOUT_DEADLINE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("SCANNER_FANOUT_DEADLINE=%q: want a duration such as 1h", shorten(v)))
		}
		c.FanoutDeadline = d
	}
	if len(errs) > 0 {
		return Config{}, errs[0]
	}
	return c, c.Validate()
}

// The ranges of the numeric settings.
const (
	minConcurrency, maxConcurrency         = 1, 256
	minRetentionDays, maxRetentionDays     = 1, 3650
	maxDeadlineMargin                      = 10 * time.Minute
	minFanoutThreshold, maxFanoutThreshold = 1, 100000
	// A chunk's message lists its buckets: 10,000 names of at most 63
	// characters, with their Regions, stay under SQS's 1 MiB.
	minChunkBuckets, maxChunkBuckets     = 1, 10000
	minFanoutDeadline, maxFanoutDeadline = 5 * time.Minute, 24 * time.Hour
)

// Names says how the user gave each setting, so that an error names what
// they typed: it maps an environment variable to the command-line flag
// that set it ("--accounts"). A variable not in the map is named as
// itself. The nil Names names every variable.
type Names map[string]string

// name is how the user knows the setting behind variable v.
func (n Names) name(v string) string {
	if f, ok := n[v]; ok {
		return f
	}
	return v
}

// is renders "v=value" for a variable, "--flag value" for a flag.
func (n Names) is(v, value string) string {
	if f, ok := n[v]; ok {
		return f + " " + value
	}
	return v + "=" + value
}

// Validate checks every field and names the environment variable of the
// first bad one.
func (c Config) Validate() error { return c.ValidateAs(nil) }

// ValidateAs checks every field and names the first bad one as n says:
// the flag the user typed, or the environment variable.
func (c Config) ValidateAs(n Names) error {
	switch c.AccountSource {
	case SourceOrganizations:
		if len(c.Accounts) > 0 {
			return fmt.Errorf("%s is set but %s is %q; want %q to scan a fixed list",
				n.name("SCANNER_ACCOUNTS"), n.name("SCANNER_ACCOUNT_SOURCE"), c.AccountSource, SourceStatic)
		}
	case SourceStatic:
		if _, err := scan.StaticAccounts(c.Accounts); err != nil {
			return fmt.Errorf("%s: %w", n.name("SCANNER_ACCOUNTS"), err)
		}
		if len(c.Filter.IncludeOUs)+len(c.Filter.ExcludeOUs) > 0 {
			return fmt.Errorf("%s/%s need %s", n.name("SCANNER_INCLUDE_OUS"), n.name("SCANNER_EXCLUDE_OUS"), n.is("SCANNER_ACCOUNT_SOURCE", SourceOrganizations))
		}
	default:
		return fmt.Errorf("%s: want organizations or static", n.is("SCANNER_ACCOUNT_SOURCE", strconv.Quote(shorten(c.AccountSource))))
	}
	if err := c.Filter.Validate(); err != nil {
		return fmt.Errorf("filter: %w", err)
	}
	if err := c.Role("aws").Validate(); err != nil {
		var re *scan.RoleError
		if errors.As(err, &re) && roleEnv[re.Field] != "" {
			return fmt.Errorf("%s: %w", n.name(roleEnv[re.Field]), err)
		}
		return err
	}
	if c.AccountConcurrency < minConcurrency || c.AccountConcurrency > maxConcurrency {
		return fmt.Errorf("%s: want %d to %d", n.is("SCANNER_ACCOUNT_CONCURRENCY", strconv.Itoa(c.AccountConcurrency)), minConcurrency, maxConcurrency)
	}
	if c.BucketConcurrency < minConcurrency || c.BucketConcurrency > maxConcurrency {
		return fmt.Errorf("%s: want %d to %d", n.is("SCANNER_BUCKET_CONCURRENCY", strconv.Itoa(c.BucketConcurrency)), minConcurrency, maxConcurrency)
	}
	if c.DeadlineMargin < 0 || c.DeadlineMargin > maxDeadlineMargin {
		return fmt.Errorf("%s: want 0s to %s", n.is("SCANNER_DEADLINE_MARGIN", c.DeadlineMargin.String()), maxDeadlineMargin)
	}
	if c.Table != "" && !validTableName(c.Table) {
		return fmt.Errorf("%s: want a DynamoDB table name (3-255 of letters, digits, _ - .)", n.is("SCANNER_TABLE", strconv.Quote(shorten(c.Table))))
	}
	if c.Retention < minRetentionDays*24*time.Hour || c.Retention > maxRetentionDays*24*time.Hour {
		return fmt.Errorf("%s: want %d to %d", n.is("SCANNER_RETENTION_DAYS", strconv.Itoa(int(c.Retention.Hours()/24))), minRetentionDays, maxRetentionDays)
	}
	if c.EventBus != "" && !validEventBus(c.EventBus) {
		return fmt.Errorf("%s: want an EventBridge bus name (1-256 of letters, digits, . - _ /) or ARN (arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME)", n.is("SCANNER_EVENT_BUS", strconv.Quote(shorten(c.EventBus))))
	}
	if c.Policy != "" && c.PolicyFile != "" {
		return fmt.Errorf("%s and %s are both set; want at most one", n.name("SCANNER_POLICY"), n.name("SCANNER_POLICY_FILE"))
	}
	if c.MetricsNamespace != "" && !validNamespace(c.MetricsNamespace) {
		return fmt.Errorf("%s: want a CloudWatch namespace (1-255 of letters, digits and . - _ / # : space, not starting with AWS/)",
			n.is("SCANNER_METRICS_NAMESPACE", strconv.Quote(shorten(c.MetricsNamespace))))
	}
	return c.validateFanout(n)
}

// validateFanout checks the fan-out settings.
func (c Config) validateFanout(n Names) error {
	switch c.Mode {
	case ModeSingle, ModeFanout, ModeAuto:
	default:
		return fmt.Errorf("%s: want single, fanout or auto", n.is("SCANNER_MODE", strconv.Quote(shorten(c.Mode))))
	}
	if c.Mode != ModeSingle && c.QueueURL == "" {
		return fmt.Errorf("%s needs %s: the SQS queue of the fan-out's messages", n.is("SCANNER_MODE", c.Mode), n.name("SCANNER_QUEUE_URL"))
	}
	if c.QueueURL != "" && !validQueueURL(c.QueueURL) {
		return fmt.Errorf("%s: want an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", n.is("SCANNER_QUEUE_URL", strconv.Quote(shorten(c.QueueURL))))
	}
	if c.ChunkBuckets < minChunkBuckets || c.ChunkBuckets > maxChunkBuckets {
		return fmt.Errorf("%s: want %d to %d", n.is("SCANNER_CHUNK_BUCKETS", strconv.Itoa(c.ChunkBuckets)), minChunkBuckets, maxChunkBuckets)
	}
	if c.FanoutThreshold < minFanoutThreshold || c.FanoutThreshold > maxFanoutThreshold {
		return fmt.Errorf("%s: want %d to %d", n.is("SCANNER_FANOUT_THRESHOLD", strconv.Itoa(c.FanoutThreshold)), minFanoutThreshold, maxFanoutThreshold)
	}
	if c.FanoutDeadline < minFanoutDeadline || c.FanoutDeadline > maxFanoutDeadline {
		return fmt.Errorf("%s: want %s to %s", n.is("SCANNER_FANOUT_DEADLINE", c.FanoutDeadline.String()), minFanoutDeadline, maxFanoutDeadline)
	}
	return nil
}

// queueURL is the form of an SQS queue URL: http(s), a host, and the path
// /ACCOUNT/NAME (a local SQS-compatible server is http).
var queueURL = regexp.MustCompile(`^https?://[A-Za-z0-9.:-]+/\d{12}/[A-Za-z0-9_-]{1,75}(\.fifo)?$`)

// validQueueURL reports whether s is an SQS queue URL.
func validQueueURL(s string) bool { return queueURL.MatchString(s) }

// shorten keeps an echoed value short: a long bad value is cut, so an
// error stays one readable line.
func shorten(s string) string {
	const max = 64
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

// roleEnv names the variable behind each field of scan.Role.
var roleEnv = map[string]string{"Name": "SCANNER_ROLE_NAME", "ExternalID": "SCANNER_EXTERNAL_ID", "SessionName": "SCANNER_SESSION_NAME"}

// Role returns the member role settings for the given partition.
func (c Config) Role(partition string) scan.Role {
	return scan.Role{Name: c.RoleName, ExternalID: c.ExternalID, SessionName: c.SessionName, Partition: partition}
}

// ScanOptions returns the scanner's options.
func (c Config) ScanOptions() scan.Options {
	return scan.Options{
		AccountConcurrency: c.AccountConcurrency,
		BucketConcurrency:  c.BucketConcurrency,
		DeadlineMargin:     c.DeadlineMargin,
	}
}

// LoadPolicy returns the policy the configuration names: inline, from a
// file, or the embedded default.
func (c Config) LoadPolicy() (*rules.Policy, error) {
	switch {
	case c.Policy != "":
		return rules.LoadPolicy([]byte(c.Policy), "SCANNER_POLICY")
	case c.PolicyFile != "":
		return rules.LoadPolicyFile(c.PolicyFile)
	default:
		return rules.DefaultPolicy(), nil
	}
}

// List splits a comma-separated list, trimming blanks and dropping empty
// items.
func List(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// eventBusARN is the form of an event bus's ARN.
var eventBusARN = regexp.MustCompile(`^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/[A-Za-z0-9._/-]{1,256}$`)

// validEventBus reports whether s is an event bus name or ARN, as
// PutEvents's EventBusName takes them.
func validEventBus(s string) bool {
	if strings.HasPrefix(s, "arn:") {
		return eventBusARN.MatchString(s)
	}
	if len(s) > 256 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.' || r == '/') {
			return false
		}
	}
	return true
}

func validTableName(s string) bool {
	if len(s) < 3 || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}
