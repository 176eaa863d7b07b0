package rules

var versionsNotIncluded = Rule{
	ID:        "INV-108",
	Name:      "versions-not-included",
	Title:     "Inventory report lists only current object versions",
	Severity:  SeverityLow,
	Level:     LevelConfig,
	Kind:      KindConfiguration,
	FailsWhen: "IncludedObjectVersions is Current (anything but All) while the policy requires All",
	Rationale: "In a versioned bucket, noncurrent versions hold data too; a report of current versions only " +
		"leaves them unaudited (their encryption, their size, their retention).",
	Remediation: "Set IncludedObjectVersions to All.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryConfiguration.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
	},
	params: []paramSpec{requiredVersions},
	check:  checkVersionsNotIncluded,
}

// requiredVersions are the object versions a report must include at least.
var requiredVersions = enumParam("versions", []string{"All", "Current"}, "Current", "the versions a report must include at least", ParamDoc{
	Values:  "`All` or `Current`",
	Default: "`Current` (any)",
	Meaning: "the versions a report must include at least",
})

func checkVersionsNotIncluded(s subject) result {
	v := s.config.IncludedVersions
	if requiredVersions.get(s.settings) != "All" || v == "All" {
		return passed()
	}
	return failed(configName(s)+" includes "+orNone(v)+" object versions; the policy requires All",
		map[string]string{"included_versions": orNone(v), "required": "All"})
}
