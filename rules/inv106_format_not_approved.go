package rules

import "strings"

var formatNotApproved = Rule{
	ID:        "INV-106",
	Name:      "format-not-approved",
	Title:     "Inventory report format is not approved",
	Severity:  SeverityLow,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "Format is not one of the policy's formats",
	Rationale: "The tools that read the reports (Athena tables, data pipelines) expect one format; a report in " +
		"another one is silently left out of the audit.",
	Remediation: "Set Destination.S3BucketDestination.Format to one of the approved formats.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryS3BucketDestination.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-athena-query.html",
	},
	params: []paramSpec{approvedFormats},
	check:  checkFormatNotApproved,
}

// formatValues are the report formats S3 Inventory writes.
var formatValues = []string{"CSV", "ORC", "Parquet"}

// approvedFormats are the approved report formats: at least one, in any case,
// stored in AWS's spelling without duplicates.
var approvedFormats = &param[[]string]{
	key: "formats",
	def: formatValues,
	doc: ParamDoc{
		Values:  "non-empty list of `CSV`, `ORC`, `Parquet`",
		Default: "all three",
		Meaning: "approved report formats",
	},
	normalise: func(c *valueCheck, fs []string) []string {
		if len(fs) == 0 {
			c.fail("", "want at least one of CSV, ORC, Parquet")
		}
		out := []string{}
		for i, f := range fs {
			w, ok := canonical(f, formatValues)
			if !ok {
				c.failItem(i, f, "want CSV, ORC or Parquet")
			}
			out = appendNew(out, w)
		}
		return out
	},
}

func checkFormatNotApproved(s subject) result {
	f := dest(s).Format
	approved := approvedFormats.get(s.settings)
	if has(approved, f) {
		return passed()
	}
	return failed(configName(s)+" writes "+orNone(f)+" reports; approved formats: "+joinList(approved),
		map[string]string{"format": orNone(f), "formats": strings.Join(approved, ",")})
}
