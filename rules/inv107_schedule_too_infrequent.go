package rules

func init() {
	register(Rule{
		ID:          "INV-107",
		Name:        "schedule-too-infrequent",
		Title:       "Inventory report is produced less often than required",
		Severity:    SeverityLow,
		Level:       LevelConfig,
		FailsWhen:   "Frequency is Weekly (anything but Daily) while the policy requires Daily",
		Rationale:   "A weekly report can be up to a week old: objects created or changed since then are not audited.",
		Remediation: "Set Schedule.Frequency to Daily.",
		Links: []string{
			"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventorySchedule.html",
		},
		Parameters: []string{"frequency"},
		check:      checkScheduleTooInfrequent,
		defaults:   func(s *settings) { s.frequency = "Weekly" },
	})
}

func checkScheduleTooInfrequent(s subject) result {
	f := s.config.Frequency
	if s.settings.frequency != "Daily" || f == "Daily" {
		return passed()
	}
	return failed(configName(s)+" runs "+orNone(f)+"; the policy requires Daily",
		map[string]string{"frequency": orNone(f), "required": "Daily"})
}
