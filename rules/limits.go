package rules

import (
	"strconv"

	"github.com/goccy/go-yaml/ast"
)

// The policy's limits block bounds what one bucket can cost a run,
// whatever its owner configures (docs/policy.md, "Limits"): a bucket with
// a thousand failing configurations would otherwise fill the findings
// table, the events and Security Hub with findings of its own choosing.
//
//	limits:
//	  findings_per_bucket: 100   # 1 to 10000
//
// The evaluator keeps the findings_per_bucket most severe findings of a
// bucket's configurations (open before waived, then in evaluation order:
// the bucket's rule, configurations by ID, rules by ID), and folds the
// rest into one SCAN-006 finding with the worst severity among them; the
// destination findings of a bucket are kept and folded the same way, and
// the scan follows at most that many configurations of a bucket to their
// destinations (Evaluator.FindingsPerBucket).

// The bounds of limits.findings_per_bucket.
const (
	DefaultFindingsPerBucket = 100
	maxFindingsPerBucket     = 10000
)

// limitsDoc is the limits block as written; nil fields are not set.
type limitsDoc struct {
	FindingsPerBucket *int `json:"findings_per_bucket,omitempty"`
}

// limits converts the limits block at n (key path p).
func (v *validator) limits(n ast.Node, p []string) *limitsDoc {
	values, _ := v.mapping(n, p, "want a mapping of findings_per_bucket")
	out := &limitsDoc{}
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		switch key {
		case "findings_per_bucket":
			if isNull(mv.Value) {
				continue
			}
			i, ok := v.integer(mv.Value, kp)
			if !ok {
				continue
			}
			if i < 1 || i > maxFindingsPerBucket {
				v.fail(kp, strconv.Itoa(i), "want a whole number, 1 to 10000 (the findings kept per bucket; SCAN-006 folds the rest)")
				continue
			}
			out.FindingsPerBucket = &i
		default:
			v.failKey(kp, "unknown key: want findings_per_bucket")
		}
	}
	return out
}
