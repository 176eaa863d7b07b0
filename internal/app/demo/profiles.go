package demo

import (
	"fmt"
	"slices"

	"github.com/s3inv/scanner/internal/standin/awssim"
)

// profile is a kind of bucket: how its inventory is configured and which
// rules that breaks under the demo policy.
type profile struct {
	name    string
	configs func(p placed) []awssim.InventoryConfig
	// breaks names the rules the bucket fails anywhere; prodOnly those it
	// fails only in the Production OU (where every version is required).
	// Rules are named by their permanent names (scanner rules), so the
	// demo states what it expects without repeating the rule IDs.
	breaks, prodOnly []string
	// unverified is the cause (error code) of the SCAN-005 finding its
	// destination gets: once per source account and destination.
	unverified string
	// stale makes its report ten days old.
	stale bool
}

// compliant is the configuration every profile starts from: it passes
// every rule of the demo policy.
func compliant(p placed) awssim.InventoryConfig {
	return awssim.InventoryConfig{
		ID:      "daily-full",
		Enabled: true,
		Destination: awssim.Destination{
			AccountID:  Security,
			Bucket:     "arn:aws:s3:::acme-inventory-" + p.region,
			Format:     "Parquet",
			Prefix:     p.acct.name + "/" + p.name,
			Encryption: "SSE-KMS",
			KMSKeyID:   KeyARN(p.region),
		},
		Frequency:      "Daily",
		Versions:       "All",
		OptionalFields: []string{"Size", "LastModifiedDate", "StorageClass", "EncryptionStatus", "ReplicationStatus"},
	}
}

// one returns a profile's single configuration: compliant, then changed.
func one(change func(c *awssim.InventoryConfig, p placed)) func(placed) []awssim.InventoryConfig {
	return func(p placed) []awssim.InventoryConfig {
		c := compliant(p)
		change(&c, p)
		return []awssim.InventoryConfig{c}
	}
}

var (
	good = &profile{name: "compliant", configs: one(func(*awssim.InventoryConfig, placed) {})}

	profiles = []*profile{
		{name: "missing", breaks: []string{"inventory-missing"},
			configs: func(placed) []awssim.InventoryConfig { return nil }},
		{name: "disabled", breaks: []string{"inventory-disabled"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.ID, c.Enabled = "paused", false })},
		{name: "partial", breaks: []string{"inventory-partial-coverage"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.ID, c.FilterPrefix = "images-only", "images/" })},
		{name: "sse-s3", breaks: []string{"destination-not-sse-kms"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) {
				c.Destination.Encryption, c.Destination.KMSKeyID = "SSE-S3", ""
			})},
		{name: "unencrypted", breaks: []string{"destination-not-sse-kms"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.Destination.Encryption, c.Destination.KMSKeyID = "", "" })},
		{name: "own-kms-key", breaks: []string{"kms-key-not-approved", "kms-key-unusable"}, // the key was never created
			configs: one(func(c *awssim.InventoryConfig, p placed) {
				c.Destination.KMSKeyID = fmt.Sprintf("arn:aws:kms:%s:%s:key/0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", p.region, p.acct.id)
			})},
		{name: "no-account-id", breaks: []string{"destination-account-missing"}, unverified: "AccessDenied", // read as the source's own bucket
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.Destination.AccountID = "" })},
		{name: "partner-destination", breaks: []string{"destination-account-not-approved", "destination-bucket-not-approved"}, unverified: "OutsideOrganization",
			configs: one(func(c *awssim.InventoryConfig, p placed) {
				c.ID = "partner-feed"
				c.Destination.AccountID, c.Destination.Bucket = outsideOrg, "arn:aws:s3:::partner-inventory-drop-"+p.region
			})},
		{name: "local-destination", breaks: []string{"destination-account-not-approved", "destination-bucket-not-approved", "destination-bucket-missing"},
			configs: one(func(c *awssim.InventoryConfig, p placed) {
				c.Destination.AccountID, c.Destination.Bucket = p.acct.id, "arn:aws:s3:::"+p.acct.name+"-inventory-"+p.region
			})},
		{name: "csv-weekly", breaks: []string{"format-not-approved", "schedule-too-infrequent"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) {
				c.ID, c.Destination.Format, c.Frequency = "weekly-csv", "CSV", "Weekly"
			})},
		{name: "current-versions", prodOnly: []string{"versions-not-included"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.Versions = "Current" })},
		{name: "few-fields", breaks: []string{"optional-fields-missing"},
			configs: one(func(c *awssim.InventoryConfig, _ placed) { c.OptionalFields = []string{"Size", "LastModifiedDate"} })},
		{name: "everything-wrong", breaks: []string{"destination-not-sse-kms", "destination-account-missing", "format-not-approved", "schedule-too-infrequent", "optional-fields-missing"}, prodOnly: []string{"versions-not-included"},
			unverified: "AccessDenied",
			configs: one(func(c *awssim.InventoryConfig, _ placed) {
				c.ID = "legacy"
				c.Destination = awssim.Destination{Bucket: c.Destination.Bucket, Format: "CSV"}
				c.Frequency, c.Versions, c.OptionalFields = "Weekly", "Current", nil
			})},
		{name: "compliant-and-paused", // a disabled configuration is never judged
			configs: func(p placed) []awssim.InventoryConfig {
				paused := compliant(p)
				paused.ID, paused.Enabled, paused.Destination.Encryption, paused.Destination.KMSKeyID = "old-weekly", false, "", ""
				return []awssim.InventoryConfig{compliant(p), paused}
			}},
	}
)

// The log archive's destinations, each followed by one source bucket of
// analytics-prod (destProfiles): a bucket whose policy has no
// aws:SourceAccount or aws:SourceArn condition, one whose policy denies
// S3, a disabled key, a report that stopped, and object ACLs exported to
// the security account.
const (
	LogArchive      = "100000000011"
	openArchive     = "acme-archive-open-us-east-1"
	lockedArchive   = "acme-archive-locked-us-east-1"
	disabledKeyARN  = "arn:aws:kms:us-east-1:" + LogArchive + ":key/7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
	analyticsProdID = "100000000033"
)

var destProfiles = []*profile{
	{name: "open-destination", breaks: []string{"destination-policy-confused-deputy"},
		configs: one(func(c *awssim.InventoryConfig, _ placed) {
			c.Destination.AccountID, c.Destination.Bucket = LogArchive, "arn:aws:s3:::"+openArchive
		})},
	{name: "blocked-destination", breaks: []string{"destination-policy-blocks-delivery"},
		configs: one(func(c *awssim.InventoryConfig, _ placed) {
			c.Destination.AccountID, c.Destination.Bucket = LogArchive, "arn:aws:s3:::"+lockedArchive
		})},
	{name: "disabled-key", breaks: []string{"kms-key-unusable"},
		configs: one(func(c *awssim.InventoryConfig, _ placed) { c.Destination.KMSKeyID = disabledKeyARN })},
	{name: "stale-report", breaks: []string{"report-stale"}, stale: true,
		configs: one(func(*awssim.InventoryConfig, placed) {})},
	{name: "acl-export", breaks: []string{"sensitive-fields-cross-account"},
		configs: one(func(c *awssim.InventoryConfig, _ placed) {
			c.OptionalFields = append(c.OptionalFields, "ObjectAccessControlList")
		})},
}

// sequence deals profiles to buckets: about half compliant.
var sequence = func() []*profile {
	var s []*profile
	for _, p := range profiles {
		s = append(s, good, p)
	}
	return s
}()

// placed is one bucket of the demo with its account and profile.
type placed struct {
	acct    account
	name    string
	region  string
	profile *profile
	// generated adds that many copies of the configuration (ManyConfigs).
	generated int
}

func (p placed) bucket() awssim.Bucket {
	return awssim.Bucket{Name: p.name, Region: p.region, Inventory: p.profile.configs(p), Generated: p.generated}
}

// expect names the rules the bucket breaks under the demo policy.
func (p placed) expect() []string {
	var out []string
	for _, name := range p.profile.breaks {
		switch {
		case p.acct.ou == SandboxOU && (name == "inventory-missing" || name == "inventory-disabled"):
		case name == "inventory-missing" && p.name == scratchBucket:
		default:
			out = append(out, name)
		}
	}
	if p.acct.ou == ProductionOU {
		out = append(out, p.profile.prodOnly...)
	}
	return out
}

// waived reports whether the policy's waiver covers the bucket's findings.
func (p placed) waived() bool { return p.name == waivedBucket }

const (
	waivedBucket  = "datalake-prod-legacy-exports"
	scratchBucket = "ml-dev-scratch-01"
)

// special are the buckets placed by hand, by account ID.
var special = map[string][]placed{
	Security: func() []placed {
		var out []placed // the central inventory buckets, one per region
		for _, r := range Regions {
			out = append(out, placed{name: "acme-inventory-" + r, region: r, profile: good})
		}
		return out
	}(),
	DataLake: {
		{name: ManyConfigs, region: "us-east-1", profile: good, generated: 120},
		{name: waivedBucket, region: "eu-west-1", profile: profileNamed("sse-s3")},
	},
	"100000000031": {{name: UnreadableBkt, region: "us-west-2", profile: good}},
	LogArchive: {
		{name: openArchive, region: "us-east-1", profile: good},
		{name: lockedArchive, region: "us-east-1", profile: good},
	},
	analyticsProdID: func() []placed {
		var out []placed
		for _, p := range destProfiles {
			out = append(out, placed{name: "analytics-prod-" + p.name, region: "us-east-1", profile: p})
		}
		return out
	}(),
	"100000000044": {{name: scratchBucket, region: "us-west-2", profile: profileNamed("missing")}},
}

func profileNamed(name string) *profile {
	return profiles[slices.IndexFunc(profiles, func(p *profile) bool { return p.name == name })]
}

// layout places every bucket of the demo, deterministically.
func layout() []placed {
	var out []placed
	n := 0
	for _, a := range accounts {
		for _, s := range special[a.id] {
			s.acct = a
			out = append(out, s)
		}
		for i := len(special[a.id]); i < a.buckets; i++ {
			out = append(out, placed{
				acct:    a,
				name:    fmt.Sprintf("%s-%s-%02d", a.name, purposes[n%len(purposes)], i+1),
				region:  Regions[n%len(Regions)],
				profile: sequence[n%len(sequence)],
			})
			n++
		}
	}
	return out
}
