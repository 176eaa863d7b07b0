package rules

import (
	"strings"
)

var inventoryPartialCoverage = Rule{
	ID:        "INV-003",
	Name:      "inventory-partial-coverage",
	Title:     "No enabled S3 Inventory configuration covers the whole bucket",
	Severity:  SeverityLow,
	Level:     LevelBucket,
	Kind:      KindBucket,
	FailsWhen: "enabled configurations exist, and every one of them has a prefix filter",
	Rationale: "A configuration with a prefix filter reports only the objects under that prefix; " +
		"objects elsewhere in the bucket are never audited.",
	Remediation: "Remove the prefix filter from one enabled configuration, or add an enabled configuration without a filter.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryFilter.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/configure-inventory.html",
	},
	check: checkInventoryPartialCoverage,
}

func checkInventoryPartialCoverage(s subject) result {
	var prefixes []string
	for _, c := range s.bucket.Configs {
		if !c.Enabled {
			continue
		}
		if c.FilterPrefix == "" {
			return passed()
		}
		prefixes = append(prefixes, c.FilterPrefix)
	}
	if len(prefixes) == 0 {
		return skipped()
	}
	return failed("bucket "+s.bucket.Bucket.Name+" is inventoried only under the prefixes "+strings.Join(prefixes, ", "),
		map[string]string{"filter_prefixes": strings.Join(prefixes, ",")})
}
