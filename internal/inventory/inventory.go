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
	ID    string `json:"id"`
	Name  string `json:"name,omitempty"`
	OUID  string `json:"ou_id,omitempty"` // direct parent (OU or root ID); empty for static lists
	State string `json:"state,omitempty"` // Organizations State (ACTIVE, SUSPENDED, ...); empty for static lists
}

// Org is the set of accounts a scan starts from.
type Org struct {
	// FromOrganizations is true when the accounts come from AWS
	// Organizations ListAccounts rather than from a static list.
	FromOrganizations bool
	// Members holds the ID of every account ListAccounts returned, whatever
	// its state or the include/exclude filters. Empty for static lists.
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

// Config is one inventory configuration of a bucket.
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
	// Chunks is set when the account had more buckets than a fan-out
	// worker reads itself (docs/scale.md): its buckets were handed out
	// in Chunks chunks to other workers, and none was read here.
	Chunks     int       `json:"chunks,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
}
