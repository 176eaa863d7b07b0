package rules

import (
	"strconv"
	"strings"
)

var inventoryDisabled = Rule{
	ID:        "INV-002",
	Name:      "inventory-disabled",
	Title:     "Every S3 Inventory configuration of the bucket is disabled",
	Severity:  SeverityMedium,
	Level:     LevelBucket,
	Kind:      KindBucket,
	FailsWhen: "configurations exist, none is enabled",
	Rationale: "A disabled inventory configuration produces no report: the bucket looks covered in the console " +
		"but its objects are not audited.",
	Remediation: "Enable one of the configurations (IsEnabled: true) or replace them with an enabled one " +
		"that delivers to the central inventory bucket.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryConfiguration.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	check: checkInventoryDisabled,
}

func checkInventoryDisabled(s subject) result {
	if len(s.bucket.Configs) == 0 {
		return skipped()
	}
	ids := make([]string, 0, len(s.bucket.Configs))
	for _, c := range s.bucket.Configs {
		if c.Enabled {
			return passed()
		}
		ids = append(ids, c.ID)
	}
	return failed("bucket "+s.bucket.Bucket.Name+" has "+strconv.Itoa(len(ids))+" S3 Inventory configuration(s), none enabled: "+strings.Join(ids, ", "),
		map[string]string{"disabled_configurations": strings.Join(ids, ",")})
}
