package rules

import "strings"

func init() {
	register(Rule{
		ID:        "INV-109",
		Name:      "optional-fields-missing",
		Title:     "Inventory report lacks required optional fields",
		Severity:  SeverityLow,
		Level:     LevelConfig,
		FailsWhen: "a field the policy requires is not in OptionalFields (the finding lists which)",
		Rationale: "The audit questions depend on the fields of the report: EncryptionStatus to find unencrypted " +
			"objects, ReplicationStatus, ObjectLockMode and others. A report without them cannot answer.",
		Remediation: "Add the missing fields to the configuration's OptionalFields.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryConfiguration.html",
			"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
		},
		Parameters: []string{"required_fields"},
		check:      checkOptionalFieldsMissing,
	})
}

func checkOptionalFieldsMissing(s subject) result {
	if len(s.settings.fields) == 0 {
		return skipped()
	}
	var missing []string
	for _, f := range s.settings.fields {
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
