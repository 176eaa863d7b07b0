package securityhub

import (
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// SchemaVersion is the ASFF version of every finding.
const SchemaVersion = "2018-10-08"

// FindingType is the finding's type, in ASFF's
// namespace/category/classifier form.
const FindingType = "Software and Configuration Checks/AWS Security Best Practices/S3 Inventory Configuration"

// ProductName is the finding's ProductName.
const ProductName = "s3-inventory-scanner"

// Limits of ASFF fields, in bytes (Security Hub counts characters; a
// byte limit cut on a rune boundary is never longer).
const (
	MaxTitle       = 256
	MaxDescription = 1024
	MaxRemediation = 512
	// MaxFindingSize is the largest finding BatchImportFindings takes.
	MaxFindingSize = 240 * 1024
	// maxProductFields is how many ProductFields pairs a finding may
	// carry (Security Hub adds a few of its own to the 50 it allows).
	maxProductFields = 40
	maxFieldValue    = 2048
)

// fieldPrefix begins every ProductFields key.
const fieldPrefix = "s3-inventory-scanner/"

// timeFormat is ASFF's timestamp: RFC 3339 in UTC with milliseconds.
const timeFormat = "2006-01-02T15:04:05.000Z"

// ProductARN is the default product of account in region: the product
// every finding the scanner imports there belongs to.
func ProductARN(partition, region, account string) string {
	return "arn:" + partition + ":securityhub:" + region + ":" + account + ":product/" + account + "/default"
}

// Target is where a finding is imported: its account and Region.
type Target struct {
	Account, Region string
}

// TargetOf is where record r is imported: its account, in the bucket's
// Region, or home (the scanner's Region) for an account-level finding.
func TargetOf(r report.Record, home string) Target {
	region := r.Region
	if region == "" {
		region = home
	}
	return Target{Account: r.AccountID, Region: region}
}

// Finding maps a stored record to an ASFF finding of the default product
// of its account, in partition; home is the Region of account-level
// findings. The record's status decides the states: OPEN is ACTIVE and
// FAILED, WAIVED is ARCHIVED and FAILED, RESOLVED is ARCHIVED and PASSED.
func Finding(r report.Record, partition, home string) types.AwsSecurityFinding {
	to := TargetOf(r, home)
	created := firstOf(r.FirstSeen, r.ObservedAt)
	lastSeen := firstOf(r.LastSeen, r.ObservedAt)
	updated := lastSeen
	state, compliance := types.RecordStateActive, types.ComplianceStatusFailed
	switch r.Status {
	case rules.StatusWaived:
		state = types.RecordStateArchived
	case rules.StatusResolved:
		state, compliance = types.RecordStateArchived, types.ComplianceStatusPassed
		updated = firstOf(r.ResolvedAt, lastSeen)
	}
	rule, known := rules.Lookup(r.RuleID)
	title := r.Title
	if title == "" {
		title = rule.Title
	}
	if title == "" {
		title = r.RuleID
	}
	desc := r.Message
	if desc == "" {
		desc = title
	}
	sev := Severity(r.Severity)
	f := types.AwsSecurityFinding{
		SchemaVersion:   aws.String(SchemaVersion),
		Id:              aws.String(r.FindingID),
		ProductArn:      aws.String(ProductARN(partition, to.Region, to.Account)),
		ProductName:     aws.String(ProductName),
		GeneratorId:     aws.String(r.RuleID),
		AwsAccountId:    aws.String(r.AccountID),
		Region:          aws.String(to.Region),
		Types:           []string{FindingType},
		CreatedAt:       aws.String(stamp(created)),
		UpdatedAt:       aws.String(stamp(updated)),
		FirstObservedAt: aws.String(stamp(created)),
		LastObservedAt:  aws.String(stamp(lastSeen)),
		Severity:        &types.Severity{Label: sev, Original: aws.String(r.Severity.String())},
		FindingProviderFields: &types.FindingProviderFields{
			Severity: &types.FindingProviderSeverity{Label: sev, Original: aws.String(r.Severity.String())},
			Types:    []string{FindingType},
		},
		Title:         aws.String(Cut(title, MaxTitle)),
		Description:   aws.String(Cut(desc, MaxDescription)),
		Resources:     []types.Resource{resource(r, to, partition)},
		Compliance:    &types.Compliance{Status: compliance},
		RecordState:   state,
		ProductFields: productFields(r, rule.Name),
	}
	if r.AccountName != "" {
		f.AwsAccountName = aws.String(r.AccountName)
	}
	if known && rule.Remediation != "" {
		rec := &types.Recommendation{Text: aws.String(Cut(rule.Remediation, MaxRemediation))}
		if len(rule.Links) > 0 {
			rec.Url = aws.String(rule.Links[0])
		}
		f.Remediation = &types.Remediation{Recommendation: rec}
	}
	return f
}

// resource is the bucket of a bucket-level finding, the account of an
// account-level one.
func resource(r report.Record, to Target, partition string) types.Resource {
	if r.Bucket == "" {
		return types.Resource{Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:" + r.AccountID),
			Region: aws.String(to.Region), Partition: types.Partition(partition)}
	}
	return types.Resource{
		Type: aws.String("AwsS3Bucket"), Id: aws.String("arn:" + partition + ":s3:::" + r.Bucket),
		Region: aws.String(to.Region), Partition: types.Partition(partition),
		Details: &types.ResourceDetails{AwsS3Bucket: &types.AwsS3BucketDetails{OwnerAccountId: aws.String(r.AccountID)}},
	}
}

// productFields carries what ASFF has no field for: the rule's name, the
// configuration, the OU, the scan, the waiver, the resolution and the
// evidence (keys sorted, as many as fit).
func productFields(r report.Record, ruleName string) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" && len(m) < maxProductFields {
			m[fieldPrefix+k] = Cut(v, maxFieldValue)
		}
	}
	set("rule_name", ruleName)
	set("status", string(r.Status))
	set("config_id", r.ConfigID)
	set("ou_id", r.OUID)
	set("scan_id", r.ScanID)
	set("resolution", r.Resolution)
	if r.Waiver != nil {
		set("waiver_reason", r.Waiver.Reason)
		set("waiver_expires", r.Waiver.Expires)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Evidence)) {
		set("evidence/"+k, r.Evidence[k])
	}
	return m
}

// Severity is the ASFF label of a severity.
func Severity(s rules.Severity) types.SeverityLabel {
	switch s {
	case rules.SeverityCritical:
		return types.SeverityLabelCritical
	case rules.SeverityHigh:
		return types.SeverityLabelHigh
	case rules.SeverityMedium:
		return types.SeverityLabelMedium
	case rules.SeverityLow:
		return types.SeverityLabelLow
	}
	return types.SeverityLabelInformational
}

// Cut returns s if it has at most max bytes, else its longest prefix
// that ends on a rune boundary and, with "…", fits in max bytes.
func Cut(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	n := max - len(ellipsis)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

func stamp(t time.Time) string { return t.UTC().Format(timeFormat) }

func firstOf(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Now()
}
