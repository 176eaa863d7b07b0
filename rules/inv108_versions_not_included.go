package rules

func init() {
	register(Rule{
		ID:        "INV-108",
		Name:      "versions-not-included",
		Title:     "Inventory report lists only current object versions",
		Severity:  SeverityLow,
		Level:     LevelConfig,
		FailsWhen: "IncludedObjectVersions is Current (anything but All) while the policy requires All",
		Rationale: "In a versioned bucket, noncurrent versions hold data too; a report of current versions only " +
			"leaves them unaudited (their encryption, their size, their retention).",
		Remediation: "Set IncludedObjectVersions to All.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventoryConfiguration.html",
			"https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
		},
		Parameters: []string{"versions"},
		check:      checkVersionsNotIncluded,
		defaults:   func(s *settings) { s.versions = "Current" },
	})
}

func checkVersionsNotIncluded(s subject) result {
	v := s.config.IncludedVersions
	if s.settings.versions != "All" || v == "All" {
		return passed()
	}
	return failed(configName(s)+" includes "+orNone(v)+" object versions; the policy requires All",
		map[string]string{"included_versions": orNone(v), "required": "All"})
}
