package rules

import (
	"regexp"
	"strings"
)

var optionalFieldsMissing = Rule{
	ID:        "INV-109",
	Name:      "optional-fields-missing",
	Title:     "Inventory report lacks required optional fields",
	Severity:  SeverityLow,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "a field the policy requires is not in OptionalFields (the finding lists which)",
	Rationale: "The audit questions depend on the fields of the report: EncryptionStatus to find unencrypted " +
		"objects, ReplicationStatus, ObjectLockMode and others. A report without them cannot answer.",
	Remediation: "Add the missing fields to the configuration's OptionalFields.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryConfiguration.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
	},
	params: []paramSpec{requiredFields},
	check:  checkOptionalFieldsMissing,
}

// requiredFields are the optional fields every report must list. Names
// this build knows are matched in any case and stored in AWS's spelling;
// other names that look like field names are kept as written, with a
// warning, because AWS adds fields every few months.
var requiredFields = &param[[]string]{
	key: "required_fields",
	def: []string{},
	doc: ParamDoc{
		Values:  "list of optional field names",
		Default: "`[]` (none required)",
		Meaning: "fields every report must list in `OptionalFields`",
	},
	normalise: func(c *valueCheck, fs []string) []string {
		out := []string{}
		for i, f := range fs {
			w, ok := canonical(f, knownOptionalFields)
			if !ok {
				if !fieldNameRe.MatchString(f) {
					c.failItem(i, f, "want an S3 Inventory optional field name, such as EncryptionStatus")
				}
				w = f
				c.warn("%q is not an optional field this scanner knows; kept as written", f)
			}
			out = appendNew(out, w)
		}
		return out
	},
}

// knownOptionalFields are the OptionalFields values known to
// aws-sdk-go-v2/service/s3 v1.114.10. Others are accepted when they look
// like field names.
var knownOptionalFields = []string{
	"Size", "LastModifiedDate", "StorageClass", "ETag", "IsMultipartUploaded",
	"ReplicationStatus", "EncryptionStatus", "ObjectLockRetainUntilDate",
	"ObjectLockMode", "ObjectLockLegalHoldStatus", "ObjectLockEventHoldStatus",
	"ObjectLockEventHoldDuration", "IntelligentTieringAccessTier",
	"BucketKeyStatus", "ChecksumAlgorithm", "ObjectAccessControlList",
	"ObjectOwner", "LifecycleExpirationDate", "IntelligentTieringReferenceDate",
}

var fieldNameRe = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,63}$`)

func checkOptionalFieldsMissing(s subject) result {
	required := requiredFields.get(s.settings)
	if len(required) == 0 {
		return skipped()
	}
	var missing []string
	for _, f := range required {
		if !has(s.config.OptionalFields, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return passed()
	}
	return failed(configName(s)+" lacks the optional fields "+strings.Join(missing, ", "),
		map[string]string{"missing_fields": strings.Join(missing, ","), "optional_fields": strings.Join(s.config.OptionalFields, ",")})
}
