package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/s3inv/scanner/rules"
)

// OCSF output: each finding as an OCSF Compliance Finding (class 2003,
// category Findings), one JSON object per line, for SIEMs and Security
// Lake. docs/integrations.md has the mapping.
const (
	// OCSFVersion is the OCSF schema version the events follow
	// (metadata.version).
	OCSFVersion = "1.3.0"
	// OCSFClassUID is the Compliance Finding class; OCSFCategoryUID its
	// category, Findings.
	OCSFClassUID    = 2003
	OCSFCategoryUID = 2
	// OCSFProduct is the product name (metadata.product.name).
	OCSFProduct = "s3-inventory-scanner"
)

// The OCSF activities of a finding (activity_id; type_uid is
// class_uid × 100 + activity_id).
const (
	OCSFActivityCreate = 1 // first generated (first_seen = last_seen), or a scan's output
	OCSFActivityUpdate = 2 // seen again
	OCSFActivityClose  = 3 // resolved
)

// OCSFFinding is one OCSF Compliance Finding event.
type OCSFFinding struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	// Time is when the finding was last observed, in milliseconds since
	// the epoch (timestamp_t).
	Time        int64            `json:"time"`
	Message     string           `json:"message,omitempty"`
	Metadata    OCSFMetadata     `json:"metadata"`
	FindingInfo OCSFFindingInfo  `json:"finding_info"`
	Compliance  OCSFCompliance   `json:"compliance"`
	Cloud       OCSFCloud        `json:"cloud"`
	Resources   []OCSFResource   `json:"resources"`
	Remediation *OCSFRemediation `json:"remediation,omitempty"`
	Unmapped    map[string]any   `json:"unmapped,omitempty"`
}

// OCSFMetadata is the event's metadata object.
type OCSFMetadata struct {
	Version  string          `json:"version"`
	Product  OCSFProductInfo `json:"product"`
	Profiles []string        `json:"profiles"`
	// UID identifies the event: the finding ID and the scan that
	// observed it.
	UID string `json:"uid"`
}

// OCSFProductInfo is the product object.
type OCSFProductInfo struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// OCSFFindingInfo is the finding_info object.
type OCSFFindingInfo struct {
	UID           string       `json:"uid"`
	Title         string       `json:"title"`
	Desc          string       `json:"desc,omitempty"`
	Types         []string     `json:"types"`
	FirstSeenTime int64        `json:"first_seen_time,omitempty"`
	LastSeenTime  int64        `json:"last_seen_time,omitempty"`
	Analytic      OCSFAnalytic `json:"analytic"`
}

// OCSFAnalytic names the rule that produced the finding.
type OCSFAnalytic struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// OCSFCompliance is the compliance object: the rule as the control of the
// scanner's policy, and whether the resource passes it.
type OCSFCompliance struct {
	Standards    []string `json:"standards"`
	Control      string   `json:"control"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
	StatusDetail string   `json:"status_detail,omitempty"`
}

// OCSFCloud is the cloud profile's object.
type OCSFCloud struct {
	Provider string      `json:"provider"`
	Region   string      `json:"region,omitempty"`
	Account  OCSFAccount `json:"account"`
}

// OCSFAccount is an AWS account.
type OCSFAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// OCSFResource is a resource_details object: the bucket, or the account
// for an account-level finding.
type OCSFResource struct {
	UID    string            `json:"uid"`
	Name   string            `json:"name"`
	Type   string            `json:"type"`
	Region string            `json:"region,omitempty"`
	Owner  *OCSFOwner        `json:"owner,omitempty"`
	Data   map[string]string `json:"data,omitempty"`
}

// OCSFOwner is the resource's owner: its account.
type OCSFOwner struct {
	Account OCSFAccount `json:"account"`
}

// OCSFRemediation is the rule's remediation and documentation links.
type OCSFRemediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references,omitempty"`
}

// NewOCSFFinding maps a record to an OCSF Compliance Finding;
// productVersion is the scanner's version. A record whose FirstSeen is
// zero (a finding straight from a scan) is a Create at its observation
// time.
func NewOCSFFinding(r Record, productVersion string) OCSFFinding {
	activity := OCSFActivityCreate
	switch {
	case r.Status == rules.StatusResolved:
		activity = OCSFActivityClose
	case !r.FirstSeen.IsZero() && !r.LastSeen.Equal(r.FirstSeen):
		activity = OCSFActivityUpdate
	}
	seen := r.LastSeen
	if seen.IsZero() {
		seen = r.ObservedAt
	}
	at := seen
	if activity == OCSFActivityClose && !r.ResolvedAt.IsZero() {
		at = r.ResolvedAt
	}
	sevID, sev := ocsfSeverity(r.Severity)
	statusID, status := ocsfStatus(r.Status)
	account := OCSFAccount{UID: r.AccountID, Name: r.AccountName, TypeID: 10, Type: "AWS Account"}
	e := OCSFFinding{
		ActivityID: activity, ActivityName: ocsfActivityName(activity),
		CategoryUID: OCSFCategoryUID, CategoryName: "Findings",
		ClassUID: OCSFClassUID, ClassName: "Compliance Finding",
		TypeUID: OCSFClassUID*100 + activity, TypeName: "Compliance Finding: " + ocsfActivityName(activity),
		SeverityID: sevID, Severity: sev,
		StatusID: statusID, Status: status,
		Time:    millis(at),
		Message: r.Message,
		Metadata: OCSFMetadata{
			Version:  OCSFVersion,
			Product:  OCSFProductInfo{Name: OCSFProduct, VendorName: OCSFProduct, Version: productVersion},
			Profiles: []string{"cloud"},
			UID:      r.FindingID + "/" + r.ScanID,
		},
		FindingInfo: OCSFFindingInfo{
			UID: r.FindingID, Title: r.Title, Desc: r.Message,
			Types:         []string{"S3 Inventory Configuration"},
			FirstSeenTime: millis(r.FirstSeen), LastSeenTime: millis(seen),
			Analytic: OCSFAnalytic{UID: r.RuleID, TypeID: 1, Type: "Rule"},
		},
		Compliance: OCSFCompliance{Standards: []string{OCSFProduct + " policy"}, Control: r.RuleID},
		Cloud:      OCSFCloud{Provider: "AWS", Region: r.Region, Account: account},
	}
	if r.Status == rules.StatusResolved {
		e.Compliance.StatusID, e.Compliance.Status = 1, "Pass"
		e.Compliance.StatusDetail = r.Resolution
	} else {
		e.Compliance.StatusID, e.Compliance.Status = 3, "Fail"
	}
	if rule, ok := rules.Lookup(r.RuleID); ok {
		e.FindingInfo.Analytic.Name = rule.Name
		if e.FindingInfo.Title == "" {
			e.FindingInfo.Title = rule.Title
		}
		if rule.Remediation != "" {
			e.Remediation = &OCSFRemediation{Desc: rule.Remediation, References: rule.Links}
		}
	}
	if e.FindingInfo.Title == "" {
		e.FindingInfo.Title = r.RuleID
	}
	if r.Bucket != "" {
		e.Resources = []OCSFResource{{
			UID: "arn:" + partitionOf(r.Region) + ":s3:::" + r.Bucket, Name: r.Bucket, Type: "AWS::S3::Bucket",
			Region: r.Region, Owner: &OCSFOwner{Account: account}, Data: r.Evidence,
		}}
	} else {
		e.Resources = []OCSFResource{{UID: r.AccountID, Name: cmpOr(r.AccountName, r.AccountID), Type: "AWS::::Account", Data: r.Evidence}}
	}
	unmapped := map[string]any{"scan_id": r.ScanID}
	if r.ConfigID != "" {
		unmapped["config_id"] = r.ConfigID
	}
	if r.OUID != "" {
		unmapped["ou_id"] = r.OUID
	}
	if r.Waiver != nil {
		unmapped["waiver"] = r.Waiver
	}
	e.Unmapped = unmapped
	return e
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// millis is t in milliseconds since the epoch; 0 for the zero time.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func ocsfActivityName(id int) string {
	switch id {
	case OCSFActivityCreate:
		return "Create"
	case OCSFActivityUpdate:
		return "Update"
	case OCSFActivityClose:
		return "Close"
	}
	return "Unknown"
}

// ocsfSeverity maps a severity to OCSF's severity_id and caption.
func ocsfSeverity(s rules.Severity) (int, string) {
	switch s {
	case rules.SeverityInfo:
		return 1, "Informational"
	case rules.SeverityLow:
		return 2, "Low"
	case rules.SeverityMedium:
		return 3, "Medium"
	case rules.SeverityHigh:
		return 4, "High"
	case rules.SeverityCritical:
		return 5, "Critical"
	}
	return 0, "Unknown"
}

// ocsfStatus maps a finding's status to the OCSF finding status_id:
// OPEN is New, WAIVED Suppressed, RESOLVED Resolved.
func ocsfStatus(s rules.Status) (int, string) {
	switch s {
	case rules.StatusOpen:
		return 1, "New"
	case rules.StatusWaived:
		return 3, "Suppressed"
	case rules.StatusResolved:
		return 4, "Resolved"
	}
	return 0, "Unknown"
}

// partitionOf is the AWS partition of a Region, for the bucket's ARN.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

// WriteOCSF writes records as OCSF Compliance Findings, one per line.
func WriteOCSF(w io.Writer, rs []Record, productVersion string) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range rs {
		if err := enc.Encode(NewOCSFFinding(r, productVersion)); err != nil {
			return fmt.Errorf("encode finding %s as OCSF: %w", r.FindingID, err)
		}
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write OCSF findings: %w", err)
	}
	return nil
}

// OCSF is a sink that writes each finding of a scan as an OCSF Compliance
// Finding (activity Create, at its observation time), one per line, as
// it is Put; Begin, AccountDone and End write nothing.
type OCSF struct {
	w       io.Writer
	version string
	guard
}

var _ Sink = (*OCSF)(nil)

// NewOCSF returns a sink that writes OCSF JSON Lines to w;
// productVersion is the scanner's version (metadata.product.version).
func NewOCSF(w io.Writer, productVersion string) *OCSF { return &OCSF{w: w, version: productVersion} }

// Put writes one line per finding.
func (o *OCSF) Put(_ context.Context, fs []rules.Finding) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.check(); err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}
	rs := make([]Record, len(fs))
	for i, f := range fs {
		rs[i] = Record{Finding: f}
	}
	return WriteOCSF(o.w, rs, o.version)
}
