package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/base/inventory"
)

var reportStale = Rule{
	ID:       "INV-114",
	Name:     "report-stale",
	Title:    "No recent inventory report was delivered",
	Severity: SeverityMedium,
	Level:    LevelConfig,
	Kind:     KindDestination,
	FailsWhen: "no manifest.json under <prefix>/<source-bucket>/<config-id>/ is newer than the schedule allows " +
		"(Daily: 2 days, Weekly: 8 days; parameters)",
	Rationale: "A configuration can be valid and still deliver nothing: the destination policy, the key or an " +
		"SCP stops S3, or deliveries stopped months ago. The manifest is what S3 writes last, so a missing recent " +
		"manifest means no usable report. A configuration created less than 48 hours ago may not have delivered " +
		"its first report yet. Whoever can write to the destination can write a folder and a manifest there, so " +
		"a delivery counts only when it agrees with itself: its folder is dated at most 15 minutes after the scan " +
		"(the clocks' skew), and its manifest.json is not empty and was last modified, a time S3 sets on every " +
		"write, no earlier than the folder's time and at most 48 hours after it. A folder dated in the future, or " +
		"a manifest written long after its folder's date, never stands for a report.",
	Remediation: "Look for the cause in INV-110, INV-111 and INV-113 findings of the same configuration, and in " +
		"service control policies of the destination account; S3 retries delivery on the next schedule once the " +
		"destination accepts it. Waive the finding for a configuration created in the last 48 hours.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory.html",
	},
	params: []paramSpec{dailyMaxAge, weeklyMaxAge},
	check:  checkReportStale,
}

// maxAgeDays is a parameter of whole days, 1 to 31: the oldest report
// accepted for a schedule. The scanner looks 32 days back, so any value
// can be decided.
func maxAgeDays(key string, def int, schedule string) *param[int] {
	return &param[int]{key: key, def: def,
		doc: ParamDoc{Values: "whole days, 1 to 31", Default: "`" + strconv.Itoa(def) + "`",
			Meaning: "the oldest report accepted for a " + schedule + " configuration"},
		normalise: func(c *valueCheck, d int) int {
			if d < 1 || d > 31 {
				c.fail(strconv.Itoa(d), "want 1 to 31 days")
			}
			return d
		}}
}

var (
	dailyMaxAge  = maxAgeDays("daily_max_age_days", 2, "Daily")
	weeklyMaxAge = maxAgeDays("weekly_max_age_days", 8, "Weekly")
)

func checkReportStale(s subject) result {
	d := s.dest
	switch {
	case d.Failure != nil:
		return unverified("destination", d.Failure)
	case d.Policy != nil && d.Policy.Missing, d.Reports == nil:
		return skipped() // INV-110 says the bucket is gone
	case d.Reports.Failure != nil:
		return unverified("reports", d.Reports.Failure)
	}
	var days int
	switch {
	case strings.EqualFold(s.config.Frequency, "Daily"):
		days = dailyMaxAge.get(s.settings)
	case strings.EqualFold(s.config.Frequency, "Weekly"):
		days = weeklyMaxAge.get(s.settings)
	default:
		return skipped() // a schedule this build does not know
	}
	limit := s.now.Add(-time.Duration(days) * 24 * time.Hour)
	r := d.Reports
	if !r.Newest.IsZero() && r.Newest.After(limit) {
		return passed()
	}
	if r.Newest.IsZero() && limit.Before(r.Since) {
		return unverified("reports", &inventory.Failure{Code: "LookBackTooShort",
			Message: fmt.Sprintf("the reports were listed back to %s only", r.Since.UTC().Format(time.RFC3339))})
	}
	where := strings.TrimPrefix(strings.TrimSuffix(d.Config.Destination.Prefix, "/")+"/", "/") + s.bucket.Bucket.Name + "/" + s.config.ID + "/"
	ev := map[string]string{"destination": s.config.Destination.BucketARN, "report_prefix": where,
		"max_age_days": strconv.Itoa(days), "frequency": s.config.Frequency}
	newest := "none since " + r.Since.UTC().Format(time.DateOnly)
	if !r.Newest.IsZero() {
		newest = r.Newest.UTC().Format(time.RFC3339)
		ev["newest_report"] = newest
	}
	ignored := ""
	if r.Ignored > 0 {
		ev["ignored_folders"] = strconv.Itoa(r.Ignored)
		ignored = fmt.Sprintf("; %d folder(s) ignored: dated after the scan, or a manifest.json empty or last modified outside its folder's window", r.Ignored)
	}
	return failed(fmt.Sprintf("no report of %s in the last %d days under %s in %s (newest: %s)%s",
		configName(s), days, where, s.config.Destination.BucketARN, newest, ignored), ev)
}
