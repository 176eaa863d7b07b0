package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3inv/scanner/internal/inventory"
)

// settings are the effective settings of one rule in one scope: the
// registry's defaults, then the policy's rules block, then the overrides
// that match the scope.
type settings struct {
	enabled  bool
	severity Severity
	// approved_kms_keys (INV-102): key ARNs; nil = the rule does not apply.
	kmsKeys []string
	// approved_accounts (INV-104): account IDs; nil = the organization.
	accounts []string
	// approved_buckets (INV-105): bucket ARN globs; nil = does not apply.
	buckets []string
	// formats (INV-106): the approved formats.
	formats []string
	// frequency (INV-107): the least frequent schedule accepted.
	frequency string
	// versions (INV-108): the versions a report must include at least.
	versions string
	// required_fields (INV-109): optional fields every report must list.
	fields []string
}

// orgView is what INV-104 needs to know about the organization.
type orgView struct {
	fromOrganizations bool
	members           map[string]bool
}

// The enum values of the policy parameters, canonical spelling.
var (
	formatValues    = []string{"CSV", "ORC", "Parquet"}
	frequencyValues = []string{"Daily", "Weekly"}
	versionValues   = []string{"All", "Current"}
)

// knownOptionalFields are the OptionalFields values known to
// aws-sdk-go-v2/service/s3 v1.114.10. Others are accepted when they look
// like field names, because AWS adds fields every few months.
var knownOptionalFields = []string{
	"Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded",
	"ReplicationStatus", "EncryptionStatus", "ObjectLockRetainUntilDate",
	"ObjectLockMode", "ObjectLockLegalHoldStatus", "ObjectLockEventHoldStatus",
	"ObjectLockEventHoldDuration", "IntelligentTieringAccessTier",
	"BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList",
	"ObjectOwner", "LifecycleExpirationDate", "IntelligentTieringReferenceDate",
}

// canonical returns the value of want that equals v ignoring case.
func canonical(v string, want []string) (string, bool) {
	for _, w := range want {
		if strings.EqualFold(v, w) {
			return w, true
		}
	}
	return "", false
}

// configName names a configuration in messages.
func configName(s subject) string {
	return fmt.Sprintf("inventory configuration %q of bucket %s", s.config.ID, s.bucket.Bucket.Name)
}

// dest is the destination of the subject's configuration.
func dest(s subject) inventory.Destination { return s.config.Destination }

// orNone shows an empty value as "(none)".
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// joinList renders a list for messages.
func joinList(vs []string) string {
	if len(vs) == 0 {
		return "(none)"
	}
	return strings.Join(vs, ", ")
}

// has reports whether vs contains v.
func has(vs []string, v string) bool { return slices.Contains(vs, v) }
