package rules

import (
	"fmt"
	"strings"
)

var destinationUnverifiable = Rule{
	ID:       "SCAN-005",
	Name:     "destination-unverifiable",
	Title:    "The scanner could not verify an inventory destination",
	Severity: SeverityLow,
	Level:    LevelDestination,
	Kind:     KindCoverage,
	FailsWhen: "the destination's policy, key or reports could not be read (access denied; a bucket or key in an " +
		"account outside the organization, OutsideOrganization, or outside a static account list, OutsideScope), or " +
		"its policy could not be evaluated: the checks above were not made",
	Rationale: "A destination check that could not be made is unknown, not passed: a destination outside the " +
		"organization, a member role without the destination permissions or a policy the scanner cannot evaluate " +
		"can hide a report that is never delivered. One finding per source account, destination and cause names " +
		"the configurations and checks it affects; their earlier destination findings are kept, not resolved. For a " +
		"bucket or key another account owns, the finding names that account and the cause, and nothing that account " +
		"answered.",
	Remediation: "Deploy the member role with DestinationChecks true in the destination's account (it grants " +
		"s3:GetBucketPolicy, s3:ListBucket, kms:DescribeKey and kms:GetKeyPolicy), deliver to a bucket and key of " +
		"the organization (with a static account list, of a listed account, or add the account to the list), or " +
		"rewrite the policy statement the finding names in the supported condition operators.",
	Links: []string{
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketPolicy.html",
		"https://docs.aws.amazon.com/kms/latest/APIReference/API_GetKeyPolicy.html",
	},
	check: checkDestinationUnverifiable,
}

// scopeCauses explain the causes the scanner gives itself, reading
// nothing, for an account outside the scan's scope.
var scopeCauses = map[string]string{
	"OutsideOrganization": "not an account of the organization: the scanner reads nothing there",
	"OutsideScope":        "not one of the scanned accounts: the scanner assumes no role there",
}

func checkDestinationUnverifiable(s subject) result {
	g := s.gaps
	if g == nil {
		return passed()
	}
	if len(g.foreign) > 0 {
		return foreignGap(g)
	}
	what := strings.Join(g.whats, ", ")
	if what == "" {
		what = g.what
	}
	msg := fmt.Sprintf("the %s of destination %s could not be checked: %s", what, g.destination, orNone(g.code))
	if what == "destination" {
		msg = fmt.Sprintf("destination %s could not be read: %s", g.destination, orNone(g.code))
	}
	if g.msg != "" {
		msg += ": " + g.msg
	}
	msg += fmt.Sprintf("; %s not made for %d configuration(s): %s", strings.Join(g.checks, ", "), len(g.configs), firstOf(g.configs, ", "))
	return failed(msg, map[string]string{
		"destination": g.destination, "unverified": what, "error_code": orNone(g.code), "error_message": g.msg,
		"configurations": firstOf(g.configs, ","), "checks": strings.Join(g.checks, ","),
	})
}

// foreignGap is the finding of a gap in what other accounts own: their
// accounts, the cause and the source's configurations, and nothing of
// what those accounts answered (what could not be read there, their
// error messages, their policy statements).
func foreignGap(g *destinationGap) result {
	owners, code := strings.Join(g.foreign, ", "), orNone(g.code)
	msg := fmt.Sprintf("destination %s could not be verified in account %s: %s", g.destination, owners, code)
	if why := scopeCauses[g.code]; why != "" {
		msg += " (" + why + ")"
	}
	msg += fmt.Sprintf("; %s not made for %d configuration(s): %s", strings.Join(g.checks, ", "), len(g.configs), firstOf(g.configs, ", "))
	return failed(msg, map[string]string{
		"destination": g.destination, "owner": strings.Join(g.foreign, ","), "error_code": code,
		"configurations": firstOf(g.configs, ","), "checks": strings.Join(g.checks, ","),
	})
}

// namedAtMost is how many configurations a SCAN-005 finding names: every
// configuration of an account may deliver to one destination.
const namedAtMost = 20

// firstOf joins the first namedAtMost of vs with sep, and says how many
// more there are.
func firstOf(vs []string, sep string) string {
	if len(vs) <= namedAtMost {
		return strings.Join(vs, sep)
	}
	return strings.Join(vs[:namedAtMost], sep) + fmt.Sprintf("%s… and %d more", sep, len(vs)-namedAtMost)
}
