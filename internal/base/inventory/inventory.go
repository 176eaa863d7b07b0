// Package inventory holds the plain data the scanner gathers about an AWS
// Organization: accounts, their buckets, and each bucket's S3 Inventory
// configurations, including what could not be read and why.
//
// It is the contract between the three stages of the scanner: package scan
// produces these values from the AWS APIs, package rules evaluates them
// without touching any AWS client, and package report stores the findings.
// Nothing here imports the AWS SDK.
package inventory

import "time"

// Account is one AWS account of the organization (or of a static list).
type Account struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	OUID string `json:"ou_id,omitempty"` // direct parent (OU or root ID); empty for static lists
	// OUName is the direct parent's name, as ListOrganizationalUnitsForParent
	// (or ListRoots) returned it; empty for static lists.
	OUName string `json:"ou_name,omitempty"`
	State  string `json:"state,omitempty"` // Organizations State (ACTIVE, SUSPENDED, ...); empty for static lists
}

// Org is the set of accounts a scan starts from.
type Org struct {
	// ID is the organization's ID (o-...), from the accounts' ARNs; empty
	// for static lists.
	ID string
	// FromOrganizations is true when the accounts come from AWS
	// Organizations ListAccounts rather than from a static list.
	FromOrganizations bool
	// Members holds the ID of every account ListAccounts returned, whatever
	// its state or the include/exclude filters; for a static list, the
	// accounts of the list. They are the scan's scope: the approved report
	// destinations when the policy lists none (INV-104), and the only
	// accounts whose destinations are read (OutsideOrganization,
	// OutsideScope).
	Members map[string]bool
	// Targets are the accounts to scan: ACTIVE accounts that pass the
	// filters, in ascending account ID order.
	Targets []Account
	// OutOfScope maps each listed account that is not a target to why:
	// its Organizations State (SUSPENDED, CLOSED, PENDING_CLOSURE, ...) or
	// OutOfScopeExcluded when a filter left it out. Empty for static
	// lists. An account with stored findings that is in neither Targets
	// nor OutOfScope has left the organization (OutOfScopeRemoved).
	OutOfScope map[string]string
}

// The reasons an account is out of scope besides its Organizations State.
const (
	// OutOfScopeExcluded: the account is ACTIVE but the include and
	// exclude filters leave it out.
	OutOfScopeExcluded = "EXCLUDED"
	// OutOfScopeRemoved: ListAccounts no longer returns the account.
	OutOfScopeRemoved = "REMOVED"
)

// Bucket is one S3 bucket, with the region ListBuckets reported for it.
type Bucket struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// Encryption is the server-side encryption of an inventory report.
type Encryption string

// The encryptions of an inventory destination.
const (
	EncryptionNone   Encryption = ""
	EncryptionSSES3  Encryption = "SSE-S3"
	EncryptionSSEKMS Encryption = "SSE-KMS"
)

// Destination is where an inventory configuration delivers its reports
// (Destination.S3BucketDestination in the API).
type Destination struct {
	AccountID  string     `json:"account_id,omitempty"`
	BucketARN  string     `json:"bucket_arn"`
	Format     string     `json:"format"` // CSV | ORC | Parquet (unknown values kept verbatim)
	Prefix     string     `json:"prefix,omitempty"`
	Encryption Encryption `json:"encryption,omitempty"`
	KMSKeyID   string     `json:"kms_key_id,omitempty"` // only with SSE-KMS
}

// Config is one inventory configuration of a bucket, every field of it as
// read: enum values this build does not know (a new format, frequency or
// optional field) are kept verbatim, so that a fix can send back what it
// does not change (internal/app/remediate).
type Config struct {
	ID               string      `json:"id"`
	Enabled          bool        `json:"enabled"`
	FilterPrefix     string      `json:"filter_prefix,omitempty"` // "" when it covers the whole bucket
	Frequency        string      `json:"frequency"`               // Daily | Weekly
	IncludedVersions string      `json:"included_versions"`       // All | Current
	OptionalFields   []string    `json:"optional_fields,omitempty"`
	Destination      Destination `json:"destination"`
}

// Failure says why something could not be read.
type Failure struct {
	// Code is the AWS error code (AccessDenied, NoSuchBucket,
	// PermanentRedirect, ...) or a local reason such as "Deadline" or
	// "InvalidPagination".
	Code string `json:"code"`
	// Message is one line for people.
	Message string `json:"message"`
}

// BucketResult is everything the scan learnt about one bucket.
type BucketResult struct {
	Account Account  `json:"account"`
	Bucket  Bucket   `json:"bucket"`
	Configs []Config `json:"configs,omitempty"`
	// Failure is set when the inventory configurations could not be read
	// (SCAN-003); Configs is then empty and means nothing.
	Failure *Failure `json:"failure,omitempty"`
}

// AccountStatus says how far the scan of an account got.
type AccountStatus string

// The outcomes of an account's scan.
const (
	// AccountComplete: every bucket was listed and visited (some may be
	// unreadable; they are named in AccountResult.Unreadable).
	AccountComplete AccountStatus = "COMPLETE"
	// AccountRoleUnavailable: the member role could not be assumed (SCAN-001).
	AccountRoleUnavailable AccountStatus = "ROLE_UNAVAILABLE"
	// AccountBucketsUnlisted: ListBuckets failed (SCAN-002).
	AccountBucketsUnlisted AccountStatus = "BUCKETS_UNLISTED"
	// AccountIncomplete: the run ended before the account was finished (SCAN-004).
	AccountIncomplete AccountStatus = "INCOMPLETE"
)

// AccountResult closes the scan of one account. The scanner delivers it
// after every BucketResult of that account.
type AccountResult struct {
	Account Account       `json:"account"`
	Status  AccountStatus `json:"status"`
	Failure *Failure      `json:"failure,omitempty"` // why the status is not COMPLETE
	// Buckets is the number of buckets listed; Visited how many of them
	// were read or recorded as unreadable; Configs the configurations read.
	Buckets int `json:"buckets"`
	Visited int `json:"visited"`
	Configs int `json:"configs"`
	// Unreadable names the buckets whose configurations could not be read
	// in this scan; their earlier findings must not be resolved.
	Unreadable []string `json:"unreadable,omitempty"`
	// Unverified names the buckets with a configuration whose destination
	// checks could not all be made in this scan (SCAN-005); their earlier
	// destination findings (INV-110 to INV-115) must not be resolved.
	Unverified []string `json:"unverified,omitempty"`
	// Chunks is set when the account had more buckets than a fan-out
	// worker reads itself (docs/scale.md): its buckets were handed out
	// in Chunks chunks to other workers, and none was read here.
	Chunks     int       `json:"chunks,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}

// DestinationCheck is what the scan read about the destination of one
// enabled inventory configuration: the destination bucket's policy, the
// report's KMS key and the newest report. The bucket policy and the key are
// read once per scan and shared by every configuration that delivers
// there; the reports are listed per configuration. Nothing here is a
// verdict: the destination rules (INV-110 to INV-115) decide.
type DestinationCheck struct {
	// Account, Bucket and Config are the source: the destination findings
	// are the source configuration's.
	Account Account `json:"account"`
	Bucket  Bucket  `json:"bucket"`
	Config  Config  `json:"config"`
	// Owner is the account that owns the destination bucket:
	// Destination.AccountID, or the source account when it is empty.
	Owner string `json:"owner"`
	// OwnerListed is true when the owner's buckets were listed completely
	// in this scan, so a bucket it lacks is missing (INV-110).
	OwnerListed bool `json:"owner_listed,omitempty"`
	// Partition and OrgID describe the source for the policy questions
	// (aws:SourceOrgID); OrgID is empty when unknown.
	Partition string `json:"partition,omitempty"`
	OrgID     string `json:"org_id,omitempty"`
	// Failure is set when nothing could be read at the destination: its
	// owner is outside the scan's scope (the organization, or a static
	// list: OutsideOrganization, OutsideScope), or its member role could
	// not be used. Policy, Key and Reports are then nil.
	Failure *Failure     `json:"failure,omitempty"`
	Policy  *PolicyRead  `json:"policy,omitempty"`
	Key     *KeyRead     `json:"key,omitempty"` // nil unless SSE-KMS with a key
	Reports *ReportsRead `json:"reports,omitempty"`
}

// PolicyRead is the destination bucket's policy as GetBucketPolicy
// answered in the owner account.
type PolicyRead struct {
	// Missing: the bucket does not exist (NoSuchBucket).
	Missing bool `json:"missing,omitempty"`
	// Policy is the policy document; empty when the bucket has none
	// (NoSuchBucketPolicy).
	Policy string `json:"policy,omitempty"`
	// Failure is set when the policy could not be read.
	Failure *Failure `json:"failure,omitempty"`
}

// KeyRead is the report's KMS key as DescribeKey and GetKeyPolicy
// answered in the key's account and region.
type KeyRead struct {
	// ARN is the key as configured, or the key's own ARN once described.
	ARN string `json:"arn"`
	// Missing: the key does not exist (NotFoundException).
	Missing bool `json:"missing,omitempty"`
	// State is KeyMetadata.KeyState: Enabled, Disabled, PendingDeletion, ...
	State string `json:"state,omitempty"`
	// Policy is the default key policy.
	Policy string `json:"policy,omitempty"`
	// Failure is set when the key or its policy could not be read.
	Failure *Failure `json:"failure,omitempty"`
}

// ReportsRead is the newest report found under
// <prefix>/<source-bucket>/<config-id>/ in the destination.
//
// Whoever can write to the destination can write a folder and a
// manifest.json there, so a delivery counts only when it agrees with
// itself and with the scan's clock: its folder (YYYY-MM-DDTHH-MMZ, the
// time S3 began the report) is dated at most ReportClockSkew after the
// scan, and its manifest.json is not empty and was last modified (a time
// S3 sets on every write) no earlier than the folder's time, at most
// ManifestWindow after it, and no later than the scan's clock plus
// ReportClockSkew.
type ReportsRead struct {
	// Newest is the time of the newest delivery folder, at or after
	// Since, holding a manifest.json that counts; zero when there is
	// none.
	Newest time.Time `json:"newest,omitzero"`
	// Since is how far back the listing looked.
	Since time.Time `json:"since"`
	// Ignored counts the delivery folders that did not count: dated
	// after the scan (beyond ReportClockSkew), or holding a manifest.json
	// that is empty or whose LastModified disagrees with the folder's
	// date.
	Ignored int `json:"ignored,omitempty"`
	// Failure is set when the reports could not be listed.
	Failure *Failure `json:"failure,omitempty"`
}

// The bounds of a delivery that counts (ReportsRead).
const (
	// ReportClockSkew is how far after the scan's clock a delivery
	// folder, or its manifest's LastModified, may be dated: the clocks
	// of the scanner and of S3 differ by a little.
	ReportClockSkew = 15 * time.Minute
	// ManifestWindow is how long after its folder's time a manifest.json
	// may have been written: S3 names the folder after the time it began
	// the report and writes the manifest last, once every file of the
	// report is written, which for a bucket of billions of objects takes
	// hours.
	ManifestWindow = 48 * time.Hour
)
