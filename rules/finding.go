package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"
)

// Finding is one failed rule on one account, bucket or configuration. It is
// the value rules produce and report stores; its JSON form is the public
// output format of the scanner.
type Finding struct {
	// FindingID is deterministic (see FindingID): the same problem seen in
	// two scans has the same ID.
	FindingID   string            `json:"finding_id"`
	AccountID   string            `json:"account_id"`
	AccountName string            `json:"account_name,omitempty"`
	OUID        string            `json:"ou_id,omitempty"`
	OUName      string            `json:"ou_name,omitempty"`   // the OU's name (see OUID)
	Bucket      string            `json:"bucket,omitempty"`    // empty for account-level findings
	Region      string            `json:"region,omitempty"`    // the bucket's region
	ConfigID    string            `json:"config_id,omitempty"` // empty for bucket- and account-level findings
	RuleID      string            `json:"rule_id"`
	Severity    Severity          `json:"severity"`
	Status      Status            `json:"status"`
	Title       string            `json:"title,omitempty"`
	Message     string            `json:"message,omitempty"`
	Evidence    map[string]string `json:"evidence,omitempty"` // the offending values
	ScanID      string            `json:"scan_id,omitempty"`
	ObservedAt  time.Time         `json:"observed_at,omitzero"`
	Waiver      *AppliedWaiver    `json:"waiver,omitempty"` // set when Status is WAIVED
}

// AppliedWaiver is the waiver that turned a finding to WAIVED.
type AppliedWaiver struct {
	Reason  string `json:"reason"`
	Expires string `json:"expires"` // YYYY-MM-DD, the last day it applies
}

// A finding's texts are bounded, whatever the names and values a member
// account writes into its configurations: the message and each evidence
// value are cut at a character boundary and end with "…" past these
// sizes, so a finding costs at most a few KiB in memory and in each store.
const (
	MaxMessageBytes  = 2048
	MaxEvidenceBytes = 1024
)

// clip returns s cut to at most n bytes at a character boundary, with
// "…" (3 bytes, within n) when it was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// clipEvidence clips every value of ev in place, and returns it.
func clipEvidence(ev map[string]string) map[string]string {
	for k, v := range ev {
		if len(v) > MaxEvidenceBytes {
			ev[k] = clip(v, MaxEvidenceBytes)
		}
	}
	return ev
}

// FindingID returns the deterministic ID of the finding of rule on the
// given account, bucket and configuration (bucket and configID empty where
// they do not apply). It is a hex SHA-256 prefix (128 bits) of the four
// values, so it is safe as a DynamoDB key whatever characters they hold.
func FindingID(accountID, bucket, configID, ruleID string) string {
	h := sha256.New()
	for _, s := range []string{accountID, bucket, configID, ruleID} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
