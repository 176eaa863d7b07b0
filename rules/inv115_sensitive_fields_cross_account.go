package rules

import "strings"

var sensitiveFieldsCrossAccount = Rule{
	ID:       "INV-115",
	Name:     "sensitive-fields-cross-account",
	Title:    "The report exports object ACLs or owners to another account",
	Severity: SeverityMedium,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "the configuration exports ObjectAccessControlList or ObjectOwner (the sensitive_fields parameter) " +
		"to a destination in another account",
	Rationale: "ObjectAccessControlList and ObjectOwner reveal who may read every object and which canonical users " +
		"own them. Exported to another account, they are readable by whoever can read that account's bucket.",
	Remediation: "Remove the fields from the configuration's OptionalFields, or deliver to a bucket in the source " +
		"account; restrict them with the s3:InventoryAccessibleOptionalFields condition key in the policies that " +
		"allow s3:PutInventoryConfiguration.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html#storage-inventory-contents",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	params: []paramSpec{sensitiveFields},
	check:  checkSensitiveFieldsCrossAccount,
}

// sensitiveFields are the optional fields that must not leave the source
// account, validated like required_fields.
var sensitiveFields = &param[[]string]{
	key: "sensitive_fields",
	def: []string{"ObjectAccessControlList", "ObjectOwner"},
	doc: ParamDoc{
		Values:  "list of optional field names",
		Default: "`[ObjectAccessControlList, ObjectOwner]`",
		Meaning: "fields a report may not export to another account",
	},
	normalise: requiredFields.normalise,
}

func checkSensitiveFieldsCrossAccount(s subject) result {
	owner := s.config.Destination.AccountID
	if owner == "" {
		return skipped() // unknown destination account: INV-103
	}
	var exported []string
	for _, f := range sensitiveFields.get(s.settings) {
		if has(s.config.OptionalFields, f) {
			exported = append(exported, f)
		}
	}
	if owner == s.bucket.Account.ID || len(exported) == 0 {
		return passed()
	}
	return failed(configName(s)+" exports "+strings.Join(exported, ", ")+" to account "+owner,
		map[string]string{"sensitive_fields": strings.Join(exported, ","), "destination_account": owner,
			"destination": s.config.Destination.BucketARN})
}
