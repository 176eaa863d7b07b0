package remediate

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/s3inv/scanner/internal/base/inventory"
	"github.com/s3inv/scanner/rules"
)

// fixConfig plans the change of one configuration for its findings to fix:
// a disable when the policy disables unapproved destinations and the
// configuration delivers to one, otherwise an update of the failing fields
// only. The change is kept when the same rules pass on its result; if not,
// its findings are listed as manual with the rule that still fails.
func (pl *planner) fixConfig(b inventory.BucketResult, c inventory.Config, fs []rules.Finding) (Change, bool) {
	ids := ruleIDs(fs)
	before := c
	ch := Change{Kind: KindUpdate, Account: b.Account.ID, Region: b.Bucket.Region, Bucket: b.Bucket.Name,
		ConfigID: c.ID, Read: ConfigDigest(&before), Before: &before}
	if slices.Contains(ids, "INV-104") || slices.Contains(ids, "INV-105") {
		after := cloneConfig(c)
		after.Enabled = false
		ch.Kind, ch.After, ch.Rules = KindDisable, &after, slices.DeleteFunc(ids, func(id string) bool { return id != "INV-104" && id != "INV-105" })
	} else {
		d := pl.policy.Desired(b.Account, b.Bucket.Name)
		after := cloneConfig(c)
		for _, id := range ids {
			if reason := pl.fixField(&after, id, b, d); reason != "" {
				pl.manualAll(fs, reason)
				return Change{}, false
			}
		}
		if still := worse(pl.findings(b, c, d), pl.findings(b, after, d), ids); still != "" {
			pl.manualAll(fs, "the fix would still fail "+still)
			return Change{}, false
		}
		ch.After, ch.Rules = &after, ids
	}
	ch.Automatic = pl.automatic(ch.Rules)
	ch.Diff = diffConfig(ch.Before, *ch.After)
	return ch, true
}

// fixField changes the fields of c that rule id finds failing, to the
// policy's desired values; it returns why it cannot, or "".
func (pl *planner) fixField(c *inventory.Config, id string, b inventory.BucketResult, d rules.Desired) string {
	dest, haveDest := pl.rem.Destinations[b.Bucket.Region]
	switch id {
	case "INV-101", "INV-102":
		if !haveDest {
			return "remediation.destinations has no entry for " + b.Bucket.Region + ", so no SSE-KMS key to set"
		}
		c.Destination.Encryption, c.Destination.KMSKeyID = inventory.EncryptionSSEKMS, dest.KMSKey
	case "INV-103":
		if !haveDest || c.Destination.BucketARN != dest.Bucket {
			return "the owner of " + c.Destination.BucketARN + " is not known to the policy (remediation.destinations): set AccountId by hand"
		}
		c.Destination.AccountID = dest.Account
	case "INV-106":
		c.Destination.Format = d.Formats[0]
	case "INV-107":
		c.Frequency = "Daily"
	case "INV-108":
		c.IncludedVersions = "All"
	case "INV-109":
		for _, f := range d.RequiredFields {
			if !slices.Contains(c.OptionalFields, f) {
				c.OptionalFields = append(c.OptionalFields, f)
			}
		}
	case "INV-115":
		c.OptionalFields = slices.DeleteFunc(c.OptionalFields, func(f string) bool { return slices.Contains(d.SensitiveFields, f) })
	}
	return ""
}

// findings evaluates configuration c of bucket b with the policy's rules
// and returns the rules that fail on it, with their messages.
func (pl *planner) findings(b inventory.BucketResult, c inventory.Config, d rules.Desired) map[string]string {
	out := map[string]string{}
	probe := inventory.BucketResult{Account: b.Account, Bucket: b.Bucket, Configs: []inventory.Config{c}}
	for _, f := range pl.eval.Bucket(probe, pl.reads.ScanID, pl.now) {
		if f.ConfigID == c.ID && f.Status == rules.StatusOpen {
			out[f.RuleID] = f.Message
		}
	}
	// INV-115 is a destination rule, but its check needs no read.
	if owner := c.Destination.AccountID; d.Enabled["INV-115"] && c.Enabled && owner != "" && owner != b.Account.ID {
		for _, f := range c.OptionalFields {
			if slices.Contains(d.SensitiveFields, f) {
				out["INV-115"] = "it would export " + f + " to account " + owner
				break
			}
		}
	}
	return out
}

// worse returns the first rule, with its message, that fails on after
// and either is one the change fixes or did not fail before; "" when
// none does: a change fixes its rules and breaks nothing else.
func worse(before, after map[string]string, fixes []string) string {
	ids := slices.Sorted(maps.Keys(after))
	for _, id := range ids {
		if _, was := before[id]; slices.Contains(fixes, id) || !was {
			return id + ": " + after[id]
		}
	}
	return ""
}

// coverBucket plans the managed configuration of a bucket whose
// configurations, once the planned changes are made (after), leave it
// without an enabled configuration covering it all (fs: its INV-001 to
// INV-003 findings then): a create, unless the bucket has a configuration
// of the managed Id already (disabled or filtered: manual).
func (pl *planner) coverBucket(b inventory.BucketResult, after []inventory.Config, fs []rules.Finding) {
	ids := ruleIDs(fs)
	d := pl.policy.Desired(b.Account, b.Bucket.Name)
	dest, ok := pl.rem.Destinations[b.Bucket.Region]
	switch {
	case !ok:
		pl.manualAll(fs, "remediation.destinations has no entry for "+b.Bucket.Region+": the managed configuration has nowhere to deliver")
		return
	case slices.ContainsFunc(after, func(c inventory.Config) bool { return c.ID == pl.rem.ConfigID }):
		pl.manualAll(fs, "the bucket has a configuration with the managed Id "+pl.rem.ConfigID+" that is disabled or filtered: enable it or remove its filter by hand")
		return
	case len(b.Configs) >= MaxConfigsPerBucket:
		pl.manualAll(fs, fmt.Sprintf("the bucket has %d configurations, S3's limit: another cannot be added", len(b.Configs)))
		return
	}
	c := pl.managed(b, d, dest)
	if still := worse(nil, pl.findings(b, c, d), nil); still != "" {
		pl.manualAll(fs, "the managed configuration would fail "+still)
		return
	}
	if pl.uncovered(inventory.BucketResult{Account: b.Account, Bucket: b.Bucket, Configs: append(slices.Clone(after), c)}) {
		pl.manualAll(fs, "the managed configuration would not cover the bucket")
		return
	}
	pl.plan.Changes = append(pl.plan.Changes, Change{Kind: KindCreate, Account: b.Account.ID, Region: b.Bucket.Region,
		Bucket: b.Bucket.Name, ConfigID: c.ID, Rules: ids, Automatic: pl.automatic(ids), Read: ConfigDigest(nil),
		Configs: len(b.Configs), After: &c, Diff: diffConfig(nil, c)})
}

// uncovered reports whether a bucket fails INV-001, INV-002 or INV-003.
func (pl *planner) uncovered(b inventory.BucketResult) bool {
	for _, f := range pl.eval.Bucket(b, pl.reads.ScanID, pl.now) {
		if f.ConfigID == "" && f.Status == rules.StatusOpen && slices.Contains([]string{"INV-001", "INV-002", "INV-003"}, f.RuleID) {
			return true
		}
	}
	return false
}

// managed is the managed configuration of a bucket: the policy's desired
// values, delivering to the Region's destination.
func (pl *planner) managed(b inventory.BucketResult, d rules.Desired, dest rules.RemediationDestination) inventory.Config {
	fields := []string{}
	for _, f := range d.RequiredFields {
		if dest.Account != b.Account.ID && d.Enabled["INV-115"] && slices.Contains(d.SensitiveFields, f) {
			continue // findings tells INV-109 it is missing
		}
		fields = append(fields, f)
	}
	return inventory.Config{
		ID: pl.rem.ConfigID, Enabled: true, Frequency: d.Frequency, IncludedVersions: d.Versions, OptionalFields: fields,
		Destination: inventory.Destination{AccountID: dest.Account, BucketARN: dest.Bucket, Format: d.Formats[0],
			Prefix: dest.Prefix, Encryption: inventory.EncryptionSSEKMS, KMSKeyID: dest.KMSKey},
	}
}

// manualAll lists findings as manual, for one reason.
func (pl *planner) manualAll(fs []rules.Finding, reason string) {
	for _, f := range fs {
		pl.manual(f, reason)
	}
}

// ruleIDs are the findings' rule IDs, sorted, once each.
func ruleIDs(fs []rules.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.RuleID)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

func cloneConfig(c inventory.Config) inventory.Config {
	c.OptionalFields = slices.Clone(c.OptionalFields)
	return c
}

// diffConfig lists the fields that differ, by their API names; before nil
// is a create.
func diffConfig(before *inventory.Config, after inventory.Config) []FieldChange {
	var b inventory.Config
	if before != nil {
		b = *before
	}
	fields := func(c inventory.Config) [][2]string {
		d := c.Destination
		return [][2]string{
			{"IsEnabled", fmt.Sprint(c.Enabled)}, {"Filter.Prefix", c.FilterPrefix}, {"Schedule.Frequency", c.Frequency},
			{"IncludedObjectVersions", c.IncludedVersions}, {"OptionalFields", strings.Join(c.OptionalFields, ", ")},
			{"Destination.AccountId", d.AccountID}, {"Destination.Bucket", d.BucketARN}, {"Destination.Format", d.Format},
			{"Destination.Prefix", d.Prefix}, {"Destination.Encryption", string(d.Encryption)}, {"Destination.Encryption.KeyId", d.KMSKeyID},
		}
	}
	from, to := fields(b), fields(after)
	out := []FieldChange{}
	for i := range from {
		if before == nil {
			from[i][1] = ""
		}
		if from[i][1] != to[i][1] {
			out = append(out, FieldChange{Field: to[i][0], From: from[i][1], To: to[i][1]})
		}
	}
	return out
}
