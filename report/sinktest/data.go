package sinktest

import (
	"cmp"
	"fmt"
	"time"

	"github.com/s3inv/scanner/rules"
)

// Spec describes one finding of an account, for building test data.
type Spec struct {
	Bucket, Config, Rule string
	Severity             rules.Severity
	// Waived makes the finding WAIVED with a waiver, whose last day is
	// Expires (2099-12-31 when empty).
	Waived  bool
	Expires string
	// OU, when set, is the OU ID of the finding's account, named
	// "OU & <id>"; ou-ab12-cdef3456, without a name, when empty.
	OU string
}

// NewFinding builds the finding of spec on account, as scan scanID
// observed it at the given time, with a deterministic ID.
func NewFinding(account string, s Spec, scanID string, at time.Time) rules.Finding {
	f := rules.Finding{
		FindingID:   rules.FindingID(account, s.Bucket, s.Config, s.Rule),
		AccountID:   account,
		AccountName: "acct-" + account[len(account)-4:],
		OUID:        "ou-ab12-cdef3456",
		Bucket:      s.Bucket,
		ConfigID:    s.Config,
		RuleID:      s.Rule,
		Severity:    s.Severity,
		Status:      rules.StatusOpen,
		Title:       "title of " + s.Rule,
		Message:     fmt.Sprintf("%s fails on %s/%s — détails «ok»", s.Rule, s.Bucket, s.Config),
		ScanID:      scanID,
		ObservedAt:  at.UTC().Truncate(time.Second),
	}
	if s.Bucket != "" {
		f.Region = "eu-west-1"
	}
	if s.Config != "" {
		f.Evidence = map[string]string{"destination": "arn:aws:s3:::central-" + account, "format": "CSV"}
	}
	if s.Waived {
		f.Status = rules.StatusWaived
		f.Waiver = &rules.AppliedWaiver{Reason: "migration ticket OPS-42", Expires: cmp.Or(s.Expires, "2099-12-31")}
	}
	if s.OU != "" {
		f.OUID, f.OUName = s.OU, OUName(s.OU)
	}
	return f
}

var generatedRules = []struct {
	id  string
	sev rules.Severity
}{
	{"INV-101", rules.SeverityHigh}, {"INV-103", rules.SeverityHigh}, {"INV-104", rules.SeverityCritical},
	{"INV-106", rules.SeverityLow}, {"INV-107", rules.SeverityLow}, {"INV-108", rules.SeverityLow},
	{"INV-109", rules.SeverityLow},
}

// Generate returns n findings of one account spread over buckets of up
// to perBucket configuration-level findings each (perBucket at most 7),
// every tenth bucket's findings waived, observed by scanID at the given
// time. The same arguments give the same findings.
func Generate(account string, n, perBucket int, scanID string, at time.Time) []rules.Finding {
	perBucket = max(1, min(perBucket, len(generatedRules)))
	fs := make([]rules.Finding, 0, n)
	for i := 0; len(fs) < n; i++ {
		bucket := fmt.Sprintf("bucket-%06d", i)
		for j := 0; j < perBucket && len(fs) < n; j++ {
			r := generatedRules[j]
			fs = append(fs, NewFinding(account, Spec{
				Bucket: bucket, Config: "daily-all", Rule: r.id, Severity: r.sev, Waived: i%10 == 9,
			}, scanID, at))
		}
	}
	return fs
}

// OUName is the name of the OU of a Spec's OU ID.
func OUName(id string) string { return "OU & <" + id + ">" }
