package rules

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// settings are the effective settings of one rule in one scope: the
// registry's defaults, then the policy's rules block, then the overrides
// that match the scope. enabled and severity are resolved; parameters are
// resolved when a check reads them (param.get).
type settings struct {
	enabled  bool
	severity Severity
	// params are the rules block's values (defaults included), indexed
	// like the rule's params.
	params []any
	// rule is the rule's index in catalogue(), its key in the overrides.
	rule int
	// matched are the overrides that apply to the scope, least specific
	// first.
	matched []*override
}

// orgView is what INV-104 needs to know about the organization: its
// members (with a static account list, the scanned accounts; none when
// unknown) and where they came from.
type orgView struct {
	fromOrganizations bool
	members           map[string]bool
}

// canonical returns the value of want that equals v ignoring case.
func canonical(v string, want []string) (string, bool) {
	for _, w := range want {
		if strings.EqualFold(v, w) {
			return w, true
		}
	}
	return "", false
}

// configName names a configuration in messages.
func configName(s subject) string {
	return fmt.Sprintf("inventory configuration %q of bucket %s", s.config.ID, s.bucket.Bucket.Name)
}

// dest is the destination of the subject's configuration.
func dest(s subject) inventory.Destination { return s.config.Destination }

// orNone shows an empty value as "(none)".
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// joinList renders a list for messages.
func joinList(vs []string) string {
	if len(vs) == 0 {
		return "(none)"
	}
	return strings.Join(vs, ", ")
}

// has reports whether vs contains v.
func has(vs []string, v string) bool { return slices.Contains(vs, v) }
