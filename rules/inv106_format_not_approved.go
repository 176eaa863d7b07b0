package rules

import "strings"

func init() {
	register(Rule{
		ID:        "INV-106",
		Name:      "format-not-approved",
		Title:     "Inventory report format is not approved",
		Severity:  SeverityLow,
		Level:     LevelConfig,
		FailsWhen: "Format is not one of the policy's formats",
		Rationale: "The tools that read the reports (Athena tables, data pipelines) expect one format; a report in " +
			"another one is silently left out of the audit.",
		Remediation: "Set Destination.S3BucketDestination.Format to one of the approved formats.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
			"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-athena-query.html",
		},
		Parameters: []string{"formats"},
		check:      checkFormatNotApproved,
		defaults:   func(s *settings) { s.formats = formatValues },
	})
}

func checkFormatNotApproved(s subject) result {
	f := dest(s).Format
	if has(s.settings.formats, f) {
		return passed()
	}
	return failed(configName(s)+" writes "+orNone(f)+" reports; approved formats: "+joinList(s.settings.formats),
		map[string]string{"format": orNone(f), "formats": strings.Join(s.settings.formats, ",")})
}
