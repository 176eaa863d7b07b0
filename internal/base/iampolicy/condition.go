package iampolicy

import (
	"slices"
	"strings"
)

// operator is a parsed condition operator: a base operator with its
// optional set prefix and IfExists suffix.
type operator struct {
	base     string
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
	negated  bool
}

// baseOperators are the operators the evaluator implements, each with
// whether it is negated.
var baseOperators = map[string]bool{
	"StringEquals":              false,
	"StringNotEquals":           true,
	"StringEqualsIgnoreCase":    false,
	"StringNotEqualsIgnoreCase": true,
	"StringLike":                false,
	"StringNotLike":             true,
	"ArnEquals":                 false,
	"ArnLike":                   false,
	"ArnNotEquals":              true,
	"ArnNotLike":                true,
	"Bool":                      false,
	"Null":                      false,
}

// parseOperator splits an operator as IAM writes it; ok is false for an
// operator the evaluator does not implement. Operator names are matched
// exactly as documented.
func parseOperator(name string) (op operator, ok bool) {
	rest := name
	for _, set := range []string{"ForAnyValue", "ForAllValues"} {
		if r, found := strings.CutPrefix(rest, set+":"); found {
			op.set, rest = set, r
			break
		}
	}
	if r, found := strings.CutSuffix(rest, "IfExists"); found {
		op.ifExists, rest = true, r
	}
	negated, known := baseOperators[rest]
	if !known || rest == "Null" && (op.ifExists || op.set != "") {
		return operator{}, false
	}
	op.base, op.negated = rest, negated
	return op, true
}

// condition evaluates one operator and key of a Condition block. The
// values are ORed (for a negated operator: the key matches none of them).
func (e *evaluator) condition(c *Condition) verdict {
	op, ok := parseOperator(c.Operator)
	if !ok {
		return undecided("condition operator " + quote(c.Operator) + " is not implemented")
	}
	for _, v := range c.Values {
		if e.variable(v) {
			return undecided("condition " + c.Operator + " " + c.Key + " value " + quote(v) + " has a policy variable")
		}
	}
	key := strings.ToLower(c.Key)
	vals, present := e.ctx[key]
	if !present && !slices.Contains(knownKeys, key) {
		return undecided("condition key " + quote(c.Key) + " is not known to the evaluator and not in the request")
	}
	present = present && len(vals) > 0
	if op.base == "Null" {
		// "true": the key is absent; "false": it is present.
		return anyOf(len(c.Values), func(i int) verdict {
			switch strings.ToLower(c.Values[i]) {
			case "true":
				return verdictOf(!present)
			case "false":
				return verdictOf(present)
			}
			return undecided("Null " + c.Key + " value " + quote(c.Values[i]) + " is not true or false")
		})
	}
	// one reports whether a single request value satisfies the operator.
	one := func(v string) verdict {
		m := anyOf(len(c.Values), func(i int) verdict { return match(op.base, c.Values[i], v) })
		if op.negated {
			return m.not()
		}
		return m
	}
	switch op.set {
	case "ForAnyValue":
		if !present {
			return verdictOf(op.ifExists)
		}
		return anyOf(len(vals), func(i int) verdict { return one(vals[i]) })
	case "ForAllValues":
		if !present {
			return vYes
		}
		return allOf(len(vals), func(i int) verdict { return one(vals[i]) })
	}
	switch {
	case !present:
		// Absent: IfExists passes; a negated operator matches (the key
		// equals none of the values); any other operator fails.
		return verdictOf(op.ifExists || op.negated)
	case len(vals) > 1:
		return undecided("condition " + c.Operator + " on multivalued key " + quote(c.Key) + " needs ForAnyValue or ForAllValues")
	}
	return one(vals[0])
}

// match applies a positive base operator to one policy value and one
// request value.
func match(base, policy, value string) verdict {
	switch base {
	case "StringEquals", "StringNotEquals":
		return verdictOf(policy == value)
	case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return verdictOf(strings.EqualFold(policy, value))
	case "StringLike", "StringNotLike":
		return verdictOf(glob(policy, value))
	case "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike":
		return matchARN(policy, value)
	case "Bool":
		if !strings.EqualFold(policy, "true") && !strings.EqualFold(policy, "false") {
			return undecided("Bool value " + quote(policy) + " is not true or false")
		}
		return verdictOf(strings.EqualFold(policy, value))
	}
	return undecided("condition operator " + quote(base) + " is not implemented")
}
