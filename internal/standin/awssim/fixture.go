package awssim

import (
	"cmp"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Fixture describes the simulated organization: its OU tree, accounts,
// member roles, buckets and inventory configurations, and the faults to
// inject. It is loaded from YAML (LoadFixture, ParseFixture) or built in
// Go; New validates it and fills in the defaults.
type Fixture struct {
	Organization Organization `yaml:"organization"`
	// Faults are injected into matching calls, in order: the first
	// matching fault that still has uses left answers the call.
	Faults []Fault `yaml:"faults,omitempty"`
	// WrongRegion is how S3 answers a bucket call signed for another
	// region: PermanentRedirect (301, the default) or
	// AuthorizationHeaderMalformed (400). Both carry x-amz-bucket-region.
	WrongRegion string `yaml:"wrong_region,omitempty"`
}

// Organization is the AWS Organization.
type Organization struct {
	// ID of the organization (default o-sim0example).
	ID string `yaml:"id,omitempty"`
	// ManagementAccount is the account whose credentials are the
	// management credentials (default: the first account).
	ManagementAccount string `yaml:"management_account,omitempty"`
	// Root is the root ID (default r-sim0).
	Root string `yaml:"root,omitempty"`
	// OUs are the organizational units directly under the root; each may
	// hold more.
	OUs []OU `yaml:"ous,omitempty"`
	// Role is the member role of every account that does not name its own.
	Role *Role `yaml:"role,omitempty"`
	// Roles are further roles of every account, besides Role, such as
	// the remediation role that may write what the member role only
	// reads. An account's own Roles replace these by name.
	Roles []Role `yaml:"roles,omitempty"`
	// Accounts of the organization, in any state.
	Accounts []Account `yaml:"accounts"`
	// Partition of every ARN the simulator answers (aws by default; also
	// aws-cn, aws-us-gov, aws-iso, ...): GetCallerIdentity returns an ARN
	// in it and AssumeRole refuses a role ARN of another partition.
	Partition string `yaml:"partition,omitempty"`
	// EmptyPages makes ListAccounts, ListAccountsForParent and
	// ListOrganizationalUnitsForParent answer an empty page carrying a
	// NextToken before every real page, as Organizations may.
	EmptyPages bool `yaml:"empty_pages,omitempty"`
}

// OU is an organizational unit.
type OU struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	OUs  []OU   `yaml:"ous,omitempty"`
}

// Role is a role of an account: its member role, or one of its further
// Roles. Credentials AssumeRole issues for it act in its account only.
type Role struct {
	// Name of the role, optionally after a path ("scanner/Inventory").
	Name string `yaml:"name,omitempty"`
	// ExternalID, when set, must be sent with AssumeRole.
	ExternalID string `yaml:"external_id,omitempty"`
	// Missing says the account has no such role: AssumeRole is denied.
	Missing bool `yaml:"missing,omitempty"`
	// ReadOnly denies the role every write (Put and
	// DeleteBucketInventoryConfiguration, PutBucketPolicy, PutKeyPolicy):
	// AccessDenied, as AWS answers a role whose policies grant reads
	// only, such as the scanner's member role. A role that is not
	// ReadOnly may write whatever its account owns.
	ReadOnly bool `yaml:"read_only,omitempty"`
}

// Account is one account of the organization.
type Account struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name,omitempty"`
	// Email (default <name or id>@example.com).
	Email string `yaml:"email,omitempty"`
	// State: ACTIVE (default), SUSPENDED, PENDING_ACTIVATION,
	// PENDING_CLOSURE or CLOSED.
	State string `yaml:"state,omitempty"`
	// Parent is the OU (or root) the account sits in (default: the root).
	Parent string `yaml:"parent,omitempty"`
	// Role overrides Organization.Role for this account.
	Role *Role `yaml:"role,omitempty"`
	// Roles replace the roles of Organization.Roles of the same name, or
	// add to them, for this account (missing: true removes one).
	Roles   []Role   `yaml:"roles,omitempty"`
	Buckets []Bucket `yaml:"buckets,omitempty"`
	// Keys are the account's KMS keys.
	Keys []Key `yaml:"keys,omitempty"`
}

// Key is one KMS key. DescribeKey and GetKeyPolicy answer it only to
// callers of its own account (its member role, or the management
// credentials when it is the management account's) and only in its
// region; the key policy is returned, never evaluated.
type Key struct {
	// ID is the key ID: a UUID, or mrk- and 32 hex digits for a
	// multi-Region key. It may be left out when ARN names it.
	ID string `yaml:"id,omitempty"`
	// ARN (default arn:<partition>:kms:<region>:<account>:key/<id>); its
	// account must be the declaring account and its partition the
	// organization's.
	ARN string `yaml:"arn,omitempty"`
	// Region (default: the ARN's, else us-east-1).
	Region string `yaml:"region,omitempty"`
	// State: Enabled (default), Disabled or PendingDeletion.
	State string `yaml:"state,omitempty"`
	// Policy is the key policy, JSON text (default: the default key
	// policy, which gives the account's root principal kms:*).
	Policy string `yaml:"policy,omitempty"`
}

// Object is one object of a bucket, as ListObjectsV2 lists it.
type Object struct {
	Key string `yaml:"key"`
	// LastModified (default: when the accounts joined, 2020-01-02).
	LastModified time.Time `yaml:"last_modified,omitempty"`
	Size         int64     `yaml:"size,omitempty"`
}

// Reports declares a series of inventory report deliveries to a
// destination bucket without listing each object: Count deliveries, the
// newest at Last, one Every day or week before the other. Delivery at
// time T is the two objects
// <prefix>/<source_bucket>/<config_id>/<T as YYYY-MM-DDTHH-MMZ>/manifest.json
// and .../manifest.checksum, last modified at T (without a prefix the
// keys start at the source bucket). A series costs the same memory
// whatever its Count.
type Reports struct {
	SourceBucket string `yaml:"source_bucket"`
	ConfigID     string `yaml:"config_id"`
	// Prefix is the configuration's destination prefix; a trailing
	// slash is dropped.
	Prefix string `yaml:"prefix,omitempty"`
	// Last is the newest delivery, to the minute.
	Last time.Time `yaml:"last"`
	// Every: Daily (default) or Weekly.
	Every string `yaml:"every,omitempty"`
	// Count of deliveries, 1 (default) to 100000.
	Count int `yaml:"count,omitempty"`
}

// Bucket is one S3 bucket.
type Bucket struct {
	Name string `yaml:"name"`
	// Region (default us-east-1).
	Region string `yaml:"region,omitempty"`
	// ListedRegion, when set, is the BucketRegion ListBuckets reports
	// instead of Region (a stale answer), to exercise region redirects.
	ListedRegion string            `yaml:"listed_region,omitempty"`
	Inventory    []InventoryConfig `yaml:"inventory,omitempty"`
	// Generated adds this many configurations, named gen-0001…, copied
	// from the first of Inventory (or a default one when there is none).
	Generated int `yaml:"generated,omitempty"`
	// Policy is the bucket policy, JSON text; none when empty
	// (GetBucketPolicy answers NoSuchBucketPolicy).
	Policy string `yaml:"policy,omitempty"`
	// Objects ListObjectsV2 lists, besides those of Reports.
	Objects []Object `yaml:"objects,omitempty"`
	// Reports are inventory report deliveries to this bucket.
	Reports []Reports `yaml:"reports,omitempty"`
}

// InventoryConfig is one S3 inventory configuration, close to the API's
// shape.
type InventoryConfig struct {
	ID      string `yaml:"id"`
	Enabled bool   `yaml:"enabled"`
	// FilterPrefix, when set, limits the report to keys with this prefix.
	FilterPrefix string      `yaml:"filter_prefix,omitempty"`
	Destination  Destination `yaml:"destination"`
	// Frequency: Daily or Weekly (default Daily).
	Frequency string `yaml:"frequency,omitempty"`
	// Versions (IncludedObjectVersions): All or Current (default Current).
	Versions       string   `yaml:"versions,omitempty"`
	OptionalFields []string `yaml:"optional_fields,omitempty"`
}

// Destination is Destination.S3BucketDestination.
type Destination struct {
	AccountID string `yaml:"account_id,omitempty"`
	// Bucket is the destination bucket's ARN (arn:aws:s3:::name).
	Bucket string `yaml:"bucket"`
	// Format: CSV (default), ORC or Parquet.
	Format string `yaml:"format,omitempty"`
	Prefix string `yaml:"prefix,omitempty"`
	// Encryption: "" (none), SSE-S3 or SSE-KMS.
	Encryption string `yaml:"encryption,omitempty"`
	// KMSKeyID is the key of SSE-KMS.
	KMSKeyID string `yaml:"kms_key_id,omitempty"`
}

// Fault makes matching calls fail, misbehave or answer late. Empty match
// fields match everything.
type Fault struct {
	// Op is the operation name (AssumeRole, ListAccounts, ListBuckets,
	// ListBucketInventoryConfigurations, GetBucketPolicy, ListObjectsV2,
	// DescribeKey, GetKeyPolicy, and the writes
	// PutBucketInventoryConfiguration, PutBucketPolicy, PutKeyPolicy,
	// ...); empty matches every one.
	Op string `yaml:"op,omitempty"`
	// Account is the account the call is about: the role's account for
	// AssumeRole, the caller's account for S3 and KMS.
	Account string `yaml:"account,omitempty"`
	// Bucket is the bucket of an S3 bucket call.
	Bucket string `yaml:"bucket,omitempty"`
	// Error is what happens: AccessDenied; Throttle (or SlowDown,
	// Throttling, TooManyRequestsException: the throttling error of the
	// service called); NoSuchBucket; InternalError (500);
	// ServiceUnavailable (503, not a throttle); ConnectionReset (the
	// connection is closed without an answer); RepeatedToken (a listing
	// whose continuation token comes back: ListBuckets, the inventory,
	// ListObjectsV2 and the Organizations listings); TruncatedWithoutToken (inventory pages
	// only). Empty with Delay set: the call is answered normally, late.
	Error string `yaml:"error,omitempty"`
	// Delay holds the answer back this long (the client may give up
	// first), on top of WithLatency.
	Delay time.Duration `yaml:"delay,omitempty"`
	// Times is how many matching calls fail; 0 means all of them.
	Times int `yaml:"times,omitempty"`
}

// Fault errors.
const (
	FaultAccessDenied          = "AccessDenied"
	FaultThrottle              = "Throttle"
	FaultNoSuchBucket          = "NoSuchBucket"
	FaultInternalError         = "InternalError"
	FaultServiceUnavailable    = "ServiceUnavailable"
	FaultConnectionReset       = "ConnectionReset"
	FaultTruncatedWithoutToken = "TruncatedWithoutToken"
	FaultRepeatedToken         = "RepeatedToken"
)

// paginated are the operations a RepeatedToken fault applies to.
var paginated = []string{"ListBuckets", "ListBucketInventoryConfigurations", "ListObjectsV2", "ListAccounts", "ListAccountsForParent", "ListOrganizationalUnitsForParent"}

// Partitions the simulator can answer in.
var Partitions = []string{"aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc"}

// throttleAliases are other names of FaultThrottle (the throttling error
// of the service called); Server.AddFault maps them to it.
var throttleAliases = []string{"SlowDown", "Throttling", "TooManyRequestsException"}

var faultErrors = append([]string{FaultAccessDenied, FaultThrottle, FaultNoSuchBucket, FaultInternalError,
	FaultServiceUnavailable, FaultConnectionReset, FaultTruncatedWithoutToken, FaultRepeatedToken}, throttleAliases...)

// Operations the simulator answers, as counted by Server.Calls.
var Operations = []string{
	"AssumeRole", "GetCallerIdentity",
	"DescribeOrganization", "ListAccounts", "ListRoots", "ListOrganizationalUnitsForParent", "ListAccountsForParent",
	"ListBuckets", "ListBucketInventoryConfigurations", "GetBucketInventoryConfiguration",
	"PutBucketInventoryConfiguration", "DeleteBucketInventoryConfiguration", "GetBucketLocation", "HeadBucket",
	"GetBucketPolicy", "PutBucketPolicy", "ListObjectsV2",
	"DescribeKey", "GetKeyPolicy", "PutKeyPolicy",
}

// LoadFixture reads a YAML fixture file (see ParseFixture).
func LoadFixture(path string) (*Fixture, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	fx, err := ParseFixture(data)
	if err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	return fx, nil
}

// ParseFixture decodes a YAML fixture strictly (unknown keys are errors)
// and validates it.
func ParseFixture(data []byte) (*Fixture, error) {
	var fx Fixture
	if err := yaml.UnmarshalWithOptions(data, &fx, yaml.Strict()); err != nil {
		return nil, fmt.Errorf("decode fixture: %s", strings.Join(strings.Fields(yaml.FormatError(err, false, false)), " "))
	}
	if err := fx.Validate(); err != nil {
		return nil, err
	}
	return &fx, nil
}

var (
	accountIDRe = regexp.MustCompile(`^\d{12}$`)
	ouIDRe      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	rootIDRe    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	bucketRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	configIDRe  = regexp.MustCompile(`^[\w.-]{1,64}$`)
	roleNameRe  = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	states      = []string{"ACTIVE", "SUSPENDED", "PENDING_ACTIVATION", "PENDING_CLOSURE", "CLOSED"}
)

// Validate checks the fixture: IDs of the right form, parents that exist,
// unique bucket names and configuration IDs, known enum values.
func (fx *Fixture) Validate() error {
	o := &fx.Organization
	if o.Root != "" && !rootIDRe.MatchString(o.Root) {
		return fmt.Errorf("organization.root %q: want a root ID (r-…)", o.Root)
	}
	parents := map[string]bool{o.Root: true, "": true}
	if o.Root == "" {
		parents[defaultRoot] = true
	}
	var walk func(path string, ous []OU) error
	walk = func(path string, ous []OU) error {
		for i, ou := range ous {
			p := fmt.Sprintf("%s[%d]", path, i)
			if !ouIDRe.MatchString(ou.ID) {
				return fmt.Errorf("%s.id %q: want an OU ID (ou-xxxx-xxxxxxxx)", p, ou.ID)
			}
			if parents[ou.ID] {
				return fmt.Errorf("%s.id %q: duplicate OU ID", p, ou.ID)
			}
			parents[ou.ID] = true
			if err := walk(p+".ous", ou.OUs); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk("organization.ous", o.OUs); err != nil {
		return err
	}
	if len(o.Accounts) == 0 {
		return fmt.Errorf("organization.accounts: empty; want at least one account")
	}
	if o.Partition != "" && !slices.Contains(Partitions, o.Partition) {
		return fmt.Errorf("organization.partition %q: want one of %s", o.Partition, strings.Join(Partitions, ", "))
	}
	if o.ManagementAccount != "" && !accountIDRe.MatchString(o.ManagementAccount) {
		return fmt.Errorf("organization.management_account %q: want a 12-digit account ID", o.ManagementAccount)
	}
	if err := validateRoles("organization.roles", o.Roles, o.Role); err != nil {
		return err
	}
	accounts := map[string]bool{}
	buckets := map[string]bool{}
	keyARNs := map[string]bool{}
	for i, a := range o.Accounts {
		p := fmt.Sprintf("organization.accounts[%d]", i)
		if !accountIDRe.MatchString(a.ID) {
			return fmt.Errorf("%s.id %q: want a 12-digit account ID", p, a.ID)
		}
		if accounts[a.ID] {
			return fmt.Errorf("%s.id %q: duplicate account ID", p, a.ID)
		}
		accounts[a.ID] = true
		if a.State != "" && !slices.Contains(states, a.State) {
			return fmt.Errorf("%s.state %q: want one of %s", p, a.State, strings.Join(states, ", "))
		}
		if !parents[a.Parent] {
			return fmt.Errorf("%s.parent %q: want the root or an OU of organization.ous", p, a.Parent)
		}
		if err := validateRoles(p+".roles", a.Roles, cmp.Or(a.Role, o.Role)); err != nil {
			return err
		}
		for j, b := range a.Buckets {
			bp := fmt.Sprintf("%s.buckets[%d]", p, j)
			if !bucketRe.MatchString(b.Name) {
				return fmt.Errorf("%s.name %q: want an S3 bucket name (3-63 of a-z, 0-9, . and -)", bp, b.Name)
			}
			if buckets[b.Name] {
				return fmt.Errorf("%s.name %q: duplicate bucket name (names are global)", bp, b.Name)
			}
			buckets[b.Name] = true
			if b.Region != "" && !regionRe.MatchString(b.Region) {
				return fmt.Errorf("%s.region %q: want a region such as eu-west-1", bp, b.Region)
			}
			if b.ListedRegion != "" && !regionRe.MatchString(b.ListedRegion) {
				return fmt.Errorf("%s.listed_region %q: want a region such as eu-west-1", bp, b.ListedRegion)
			}
			if b.Generated < 0 || len(b.Inventory)+b.Generated > 1000 {
				return fmt.Errorf("%s: %d configurations; want at most 1000", bp, len(b.Inventory)+b.Generated)
			}
			if err := b.validateDestinationSide(bp); err != nil {
				return err
			}
			ids := map[string]bool{}
			for k, c := range b.Inventory {
				if err := c.validate(fmt.Sprintf("%s.inventory[%d]", bp, k)); err != nil {
					return err
				}
				if ids[c.ID] {
					return fmt.Errorf("%s.inventory[%d].id %q: duplicate configuration ID", bp, k, c.ID)
				}
				ids[c.ID] = true
			}
		}
		for j, k := range a.Keys {
			if err := k.validate(fmt.Sprintf("%s.keys[%d]", p, j), a.ID, cmp.Or(o.Partition, "aws"), keyARNs); err != nil {
				return err
			}
		}
	}
	if o.ManagementAccount != "" && !accounts[o.ManagementAccount] {
		return fmt.Errorf("organization.management_account %q: not among organization.accounts", o.ManagementAccount)
	}
	for i, f := range fx.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if f.Op != "" && !slices.Contains(Operations, f.Op) {
			return fmt.Errorf("%s.op %q: want one of %s", p, f.Op, strings.Join(Operations, ", "))
		}
		switch {
		case f.Error == "" && f.Delay <= 0:
			return fmt.Errorf("%s: neither error nor delay; want one of them", p)
		case f.Error != "" && !slices.Contains(faultErrors, f.Error):
			return fmt.Errorf("%s.error %q: want one of %s", p, f.Error, strings.Join(faultErrors, ", "))
		case f.Delay < 0:
			return fmt.Errorf("%s.delay %s: want a duration of 0 or more", p, f.Delay)
		}
		if f.Times < 0 {
			return fmt.Errorf("%s.times %d: want 0 (always) or more", p, f.Times)
		}
	}
	switch fx.WrongRegion {
	case "", "PermanentRedirect", "AuthorizationHeaderMalformed":
	default:
		return fmt.Errorf("wrong_region %q: want PermanentRedirect or AuthorizationHeaderMalformed", fx.WrongRegion)
	}
	return nil
}

// validateRoles checks an account's further roles: each named, no name
// twice, none named as the member role.
func validateRoles(p string, roles []Role, member *Role) error {
	seen := map[string]bool{}
	for i, r := range roles {
		name := strings.Trim(r.Name, "/")
		switch {
		case !roleNameRe.MatchString(name):
			return fmt.Errorf("%s[%d].name %q: want a role name, optionally after a path (1-64 of letters, digits and +=,.@_-)", p, i, r.Name)
		case member != nil && name == strings.Trim(member.Name, "/"):
			return fmt.Errorf("%s[%d].name %q: the member role's name; want a role of its own", p, i, r.Name)
		case seen[name]:
			return fmt.Errorf("%s[%d].name %q: duplicate role name", p, i, r.Name)
		}
		seen[name] = true
	}
	return nil
}

func (c InventoryConfig) validate(p string) error {
	oneOf := func(field, v string, allowed ...string) error {
		if v != "" && !slices.Contains(allowed, v) {
			return fmt.Errorf("%s.%s %q: want one of %s", p, field, v, strings.Join(allowed, ", "))
		}
		return nil
	}
	if !configIDRe.MatchString(c.ID) {
		return fmt.Errorf("%s.id %q: want 1-64 of letters, digits, '.', '_' and '-'", p, c.ID)
	}
	if !strings.HasPrefix(c.Destination.Bucket, "arn:") {
		return fmt.Errorf("%s.destination.bucket %q: want a bucket ARN (arn:aws:s3:::name)", p, c.Destination.Bucket)
	}
	if c.Destination.AccountID != "" && !accountIDRe.MatchString(c.Destination.AccountID) {
		return fmt.Errorf("%s.destination.account_id %q: want a 12-digit account ID", p, c.Destination.AccountID)
	}
	for _, e := range []error{
		oneOf("frequency", c.Frequency, "Daily", "Weekly"),
		oneOf("versions", c.Versions, "All", "Current"),
		oneOf("destination.format", c.Destination.Format, "CSV", "ORC", "Parquet"),
		oneOf("destination.encryption", c.Destination.Encryption, "SSE-S3", "SSE-KMS"),
	} {
		if e != nil {
			return e
		}
	}
	if c.Destination.KMSKeyID != "" && c.Destination.Encryption != "SSE-KMS" {
		return fmt.Errorf("%s.destination.kms_key_id: set without encryption SSE-KMS", p)
	}
	return nil
}

const (
	defaultOrgID  = "o-sim0example"
	defaultRoot   = "r-sim0"
	defaultRegion = "us-east-1"
)

// defaultConfig is what a generated configuration copies when the bucket
// has no explicit one.
func defaultConfig(accountID string) InventoryConfig {
	return InventoryConfig{
		Enabled:     true,
		Destination: Destination{AccountID: accountID, Bucket: "arn:aws:s3:::inventory-reports-" + accountID, Format: "CSV", Encryption: "SSE-S3"},
		Frequency:   "Daily",
		Versions:    "Current",
	}
}

// configs returns the bucket's configurations, generated ones included,
// sorted by ID.
func (b Bucket) configs(accountID string) []InventoryConfig {
	out := slices.Clone(b.Inventory)
	tmpl := defaultConfig(accountID)
	if len(b.Inventory) > 0 {
		tmpl = b.Inventory[0]
	}
	for i := range b.Generated {
		c := tmpl
		c.ID = fmt.Sprintf("gen-%04d", i+1)
		c.OptionalFields = slices.Clone(tmpl.OptionalFields)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b InventoryConfig) int { return strings.Compare(a.ID, b.ID) })
	return out
}
