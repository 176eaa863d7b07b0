// Package demo is the built-in simulated organization of `scanner demo` and
// `make demo`: 5 OUs, 25 active accounts (and one suspended), 300 buckets
// in 5 regions, with a realistic mix of compliant and non-compliant S3
// Inventory configurations that triggers every inventory rule, central
// destinations (the security account's buckets and keys, with their
// policies and fresh reports) and a log-archive account whose
// destinations fail each destination check (a policy without
// aws:SourceAccount or aws:SourceArn, one that denies S3, a disabled key,
// a stale report, object ACLs exported across accounts), an account
// whose member role is missing, an account whose buckets cannot be listed,
// a bucket that cannot be read, a bucket with more than 100 configurations,
// and a waived finding. The policy's remediation section (the security
// account's bucket and key of each Region) is what `scanner demo --plan`
// plans with.
//
// Every bucket is built from a named profile that declares the rules it
// breaks, by their names, so Expect can state the scan's outcome without
// running the rules: the demo's test compares the two. Expect asks the rule
// catalogue only for the IDs of those names and of the coverage rules.
package demo

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/rules"
)

// The organization's fixed identities.
const (
	OrgID         = "o-demo0example"
	Root          = "r-demo"
	RoleName      = "S3InventoryScannerMember"
	ExternalID    = "demo-external-id"
	Management    = "100000000001"
	Security      = "100000000010" // receives every inventory report
	DataLake      = "100000000032" // holds the waived bucket and the 120-configuration bucket
	RoleMissing   = "100000000053" // its member role was never deployed: role unavailable
	Unlisted      = "100000000054" // an SCP denies ListAllMyBuckets: buckets unlisted
	Suspended     = "100000000060" // not ACTIVE: not scanned
	ProductionOU  = "ou-demo-prod0001"
	SandboxOU     = "ou-demo-sandbox1"
	UnreadableBkt = "web-prod-legacy-assets" // a bucket policy denies the scanner: unreadable
	ManyConfigs   = "datalake-prod-raw-events"
	outsideOrg    = "999988887777" // a partner account outside the organization
)

// Regions the demo's buckets live in.
var Regions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"}

// KeyARN is the central KMS key of a region, the only approved key there.
func KeyARN(region string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/5e0c1d2a-7b3f-4c8e-9a1d-%012d", region, Security, slices.Index(Regions, region)+1)
}

// account is one account of the demo organization.
type account struct {
	id, name, ou string
	buckets      int // how many buckets it holds
}

var ous = []awssim.OU{
	{ID: "ou-demo-security", Name: "Security"},
	{ID: "ou-demo-infra001", Name: "Infrastructure"},
	{ID: ProductionOU, Name: "Production"},
	{ID: "ou-demo-dev00001", Name: "Development"},
	{ID: SandboxOU, Name: "Sandbox"},
}

// accounts holds 300 buckets in the accounts whose buckets can be listed.
var accounts = []account{
	{Management, "management", Root, 4},
	{Security, "security-audit", "ou-demo-security", 6},
	{"100000000011", "log-archive", "ou-demo-security", 10},
	{"100000000020", "network", "ou-demo-infra001", 6},
	{"100000000021", "shared-services", "ou-demo-infra001", 14},
	{"100000000022", "ci-cd", "ou-demo-infra001", 16},
	{"100000000023", "backup", "ou-demo-infra001", 18},
	{"100000000030", "payments-prod", ProductionOU, 26},
	{"100000000031", "web-prod", ProductionOU, 22},
	{DataLake, "data-lake-prod", ProductionOU, 30},
	{"100000000033", "analytics-prod", ProductionOU, 16},
	{"100000000034", "identity-prod", ProductionOU, 8},
	{"100000000035", "search-prod", ProductionOU, 12},
	{"100000000036", "ml-prod", ProductionOU, 14},
	{"100000000037", "partner-api-prod", ProductionOU, 9},
	{"100000000040", "payments-dev", "ou-demo-dev00001", 14},
	{"100000000041", "web-dev", "ou-demo-dev00001", 12},
	{"100000000042", "data-lake-dev", "ou-demo-dev00001", 16},
	{"100000000043", "analytics-dev", "ou-demo-dev00001", 10},
	{"100000000044", "ml-dev", "ou-demo-dev00001", 12},
	{"100000000050", "sandbox-alice", SandboxOU, 10},
	{"100000000051", "sandbox-bob", SandboxOU, 8},
	{"100000000052", "sandbox-carol", SandboxOU, 7},
	{RoleMissing, "legacy-migration", SandboxOU, 5},
	{Unlisted, "hackathon", SandboxOU, 4},
}

// purposes name the generated buckets.
var purposes = []string{"assets", "logs", "backups", "data", "exports", "artifacts", "uploads", "reports", "archive", "media", "events", "models"}

// Organization returns the demo organization as a simulator fixture.
func Organization() *awssim.Fixture {
	fx := &awssim.Fixture{
		Organization: awssim.Organization{
			ID: OrgID, Root: Root, ManagementAccount: Management, OUs: ous,
			Role: &awssim.Role{Name: RoleName, ExternalID: ExternalID},
		},
		Faults: []awssim.Fault{
			{Op: "ListBuckets", Account: Unlisted, Error: awssim.FaultAccessDenied},
			{Op: "ListBucketInventoryConfigurations", Bucket: UnreadableBkt, Error: awssim.FaultAccessDenied},
		},
	}
	for _, b := range layout() {
		i := slices.IndexFunc(fx.Organization.Accounts, func(a awssim.Account) bool { return a.ID == b.acct.id })
		if i < 0 {
			fx.Organization.Accounts = append(fx.Organization.Accounts, awssim.Account{ID: b.acct.id, Name: b.acct.name, Parent: b.acct.ou})
			i = len(fx.Organization.Accounts) - 1
			if b.acct.id == RoleMissing {
				fx.Organization.Accounts[i].Role = &awssim.Role{Name: RoleName, Missing: true}
			}
		}
		a := &fx.Organization.Accounts[i]
		a.Buckets = append(a.Buckets, b.bucket())
	}
	fx.Organization.Accounts = append(fx.Organization.Accounts,
		awssim.Account{ID: Suspended, Name: "closed-project", Parent: SandboxOU, State: "SUSPENDED",
			Buckets: []awssim.Bucket{{Name: "closed-project-data", Region: "us-east-1"}}})
	destinations(fx, time.Now().UTC())
	return fx
}

// destinations gives the destination buckets their policies, the
// central keys their key policies, and every enabled configuration that
// delivers to a destination of the organization its report series: the
// newest delivered five hours before now (ten days for a stale profile).
func destinations(fx *awssim.Fixture, now time.Time) {
	var ids []string
	for _, a := range fx.Organization.Accounts {
		ids = append(ids, `"`+a.ID+`"`)
	}
	sources := strings.Join(ids, ",")
	delivery := func(bucket, extra string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"InventoryDelivery","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},` +
			`"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + bucket + `/*","Condition":{"StringEquals":{"aws:SourceAccount":[` + sources +
			`],"s3:x-amz-acl":"bucket-owner-full-control"},"ArnLike":{"aws:SourceArn":"arn:aws:s3:::*"}}}` + extra + `]}`
	}
	keyPolicy := func(owner string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + owner + `:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Sid":"InventoryReportEncryption","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"kms:GenerateDataKey","Resource":"*",` +
			`"Condition":{"StringEquals":{"aws:SourceAccount":[` + sources + `]}}}]}`
	}
	buckets := map[string]*awssim.Bucket{} // destination bucket ARN → bucket
	for i := range fx.Organization.Accounts {
		a := &fx.Organization.Accounts[i]
		for j := range a.Buckets {
			b := &a.Buckets[j]
			switch {
			case a.ID == Security:
				b.Policy = delivery(b.Name, "")
			case b.Name == openArchive:
				b.Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"AnyInventory","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::` + openArchive + `/*"}]}`
			case b.Name == lockedArchive:
				b.Policy = delivery(b.Name, `,{"Sid":"DenyAllWrites","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::`+lockedArchive+`/*"}`)
			default:
				continue
			}
			buckets["arn:aws:s3:::"+b.Name] = b
		}
		switch a.ID {
		case Security:
			for _, r := range Regions {
				a.Keys = append(a.Keys, awssim.Key{ARN: KeyARN(r), Policy: keyPolicy(Security)})
			}
		case LogArchive:
			a.Keys = append(a.Keys, awssim.Key{ARN: disabledKeyARN, State: "Disabled", Policy: keyPolicy(LogArchive)})
		}
	}
	for _, p := range layout() {
		if p.acct.id == RoleMissing || p.acct.id == Unlisted {
			continue
		}
		bk := p.bucket()
		for _, c := range configsOf(bk) {
			d := buckets[c.Destination.Bucket]
			if !c.Enabled || d == nil || c.Destination.AccountID == "" {
				continue
			}
			last := now.Add(-5 * time.Hour)
			if p.profile.stale {
				last = now.Add(-10 * 24 * time.Hour)
			}
			d.Reports = append(d.Reports, awssim.Reports{SourceBucket: bk.Name, ConfigID: c.ID, Prefix: c.Destination.Prefix,
				Last: last, Every: c.Frequency, Count: 3})
		}
	}
}

// configsOf returns a bucket's configurations, generated ones included
// (named as the simulator names them).
func configsOf(b awssim.Bucket) []awssim.InventoryConfig {
	out := slices.Clone(b.Inventory)
	for i := range b.Generated {
		c := b.Inventory[0]
		c.ID = fmt.Sprintf("gen-%04d", i+1)
		out = append(out, c)
	}
	return out
}

// Policy returns the demo's policy document (YAML). Its waiver expires 90
// days after now, so the demo looks the same whenever it runs.
func Policy(now time.Time) string {
	var keys, dests strings.Builder
	for _, r := range Regions {
		keys.WriteString("\n      - " + KeyARN(r))
		fmt.Fprintf(&dests, "\n    %s:\n      bucket: arn:aws:s3:::acme-inventory-%s\n      account: \"%s\"\n      prefix: org-inventory\n      kms_key: %s",
			r, r, Security, KeyARN(r))
	}
	values := map[string]string{
		"KEY_ARNS": keys.String(), "DESTINATIONS": dests.String(), "DISABLED_KEY": disabledKeyARN,
		"SECURITY": Security, "LOG_ARCHIVE": LogArchive, "DATA_LAKE": DataLake,
		"PRODUCTION_OU": ProductionOU, "SANDBOX_OU": SandboxOU,
		"WAIVER_EXPIRES": now.UTC().AddDate(0, 0, 90).Format(time.DateOnly),
	}
	return os.Expand(policyText, func(name string) string { return values[name] })
}

// policyText is the policy with ${NAME} where Policy puts each value.
//
//go:embed policy.yaml
var policyText string

// Expectation is what a scan of the demo organization with the demo policy
// must report.
type Expectation struct {
	AccountsComplete, AccountsFailed int
	Buckets, Configs                 int
	// ByRule counts the findings (open and waived) by rule ID.
	ByRule map[string]int
	Waived int
}

// Expect returns the outcome the profiles of the demo's buckets declare.
// A profile that names a rule the catalogue does not have is an error.
func Expect() (Expectation, error) {
	e := Expectation{ByRule: map[string]int{}}
	ids := map[string]string{} // rule name → ID
	for _, r := range rules.All() {
		ids[r.Name] = r.ID
	}
	var errs []error
	id := func(name string) string {
		if ids[name] == "" {
			errs = append(errs, fmt.Errorf("demo profiles: no rule named %q; want a rule name of the catalogue", name))
		}
		return ids[name]
	}
	coverage := func(r rules.Rule, ok bool) string {
		if !ok {
			errs = append(errs, errors.New("demo profiles: the catalogue has no coverage rule for a result the demo expects"))
		}
		return r.ID
	}
	seen := map[string]bool{}
	gaps := map[string]bool{} // SCAN-005: source account, destination, cause
	for _, b := range layout() {
		if b.acct.id == RoleMissing || b.acct.id == Unlisted {
			continue
		}
		seen[b.acct.id] = true
		e.Buckets++
		if b.name == UnreadableBkt {
			e.ByRule[coverage(rules.BucketCoverage())]++
			continue
		}
		bk := b.bucket()
		e.Configs += len(bk.Inventory) + bk.Generated
		for _, name := range b.expect() {
			e.ByRule[id(name)]++
		}
		if b.waived() {
			e.Waived++
		}
		if b.profile.unverified != "" {
			for _, c := range bk.Inventory {
				gaps[b.acct.id+" "+c.Destination.Bucket+" "+b.profile.unverified] = true
			}
		}
		if len(bk.Inventory)+bk.Generated > rules.DefaultFindingsPerBucket {
			// The scan follows the policy's limit of a bucket's
			// configurations to their destinations; the others are one
			// SCAN-005 (TooManyConfigurations).
			gaps[b.acct.id+" "+bk.Inventory[0].Destination.Bucket+" TooManyConfigurations"] = true
		}
	}
	if len(gaps) > 0 {
		e.ByRule[id("destination-unverifiable")] += len(gaps)
	}
	e.AccountsComplete = len(seen)
	e.AccountsFailed = 2
	e.ByRule[coverage(rules.AccountCoverage(inventory.AccountRoleUnavailable))]++
	e.ByRule[coverage(rules.AccountCoverage(inventory.AccountBucketsUnlisted))]++
	if len(errs) > 0 {
		return Expectation{}, errors.Join(errs...)
	}
	return e, nil
}

// String lists the expectation for test failures.
func (e Expectation) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d complete, %d failed, %d buckets, %d configs, %d waived;", e.AccountsComplete, e.AccountsFailed, e.Buckets, e.Configs, e.Waived)
	for _, id := range slices.Sorted(maps.Keys(e.ByRule)) {
		fmt.Fprintf(&b, " %s=%d", id, e.ByRule[id])
	}
	return b.String()
}
