package rules

var scheduleTooInfrequent = Rule{
	ID:          "INV-107",
	Name:        "schedule-too-infrequent",
	Title:       "Inventory report is produced less often than required",
	Severity:    SeverityLow,
	Level:       LevelConfig,
	Kind:        KindConfiguration,
	FailsWhen:   "Frequency is Weekly (anything but Daily) while the policy requires Daily",
	Rationale:   "A weekly report can be up to a week old: objects created or changed since then are not audited.",
	Remediation: "Set Schedule.Frequency to Daily.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_InventorySchedule.html",
	},
	params: []paramSpec{requiredFrequency},
	check:  checkScheduleTooInfrequent,
}

// requiredFrequency is the least frequent schedule accepted.
var requiredFrequency = enumParam("frequency", []string{"Daily", "Weekly"}, "Weekly", "the least frequent schedule accepted", ParamDoc{
	Values:  "`Daily` or `Weekly`",
	Default: "`Weekly` (any schedule)",
	Meaning: "the least frequent schedule accepted",
})

func checkScheduleTooInfrequent(s subject) result {
	f := s.config.Frequency
	if requiredFrequency.get(s.settings) != "Daily" || f == "Daily" {
		return passed()
	}
	return failed(configName(s)+" runs "+orNone(f)+"; the policy requires Daily",
		map[string]string{"frequency": orNone(f), "required": "Daily"})
}
