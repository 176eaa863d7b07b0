package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
)

// A rule's parameters are declared in the rule's own file, as values of
// type param[T] listed in Rule.params: the policy key, the default, the
// documentation row of docs/policy.md, how a written value is validated and
// normalised, and how an override's value merges with the inherited one.
// The policy decoder is generic: it finds the rule by its ID, the parameter
// by its key, and lets the parameter decode its own node. A check reads the
// effective value with get.

// paramSpec is what the decoder, the evaluator and the docs need of a
// parameter, whatever its type.
type paramSpec interface {
	// Key is the policy key, such as approved_kms_keys.
	Key() string
	// Doc is the parameter's row of the policy reference.
	Doc() ParamDoc
	// defaultValue is the value before any policy applies.
	defaultValue() any
	// decode reads the value written at node n (key path p), validates and
	// normalises it; problems go to v. ok is false when n holds no value
	// (null), which leaves the inherited value.
	decode(v *validator, n ast.Node, p []string) (value any, ok bool)
	// merge returns the value of a scope whose override sets set over the
	// inherited value.
	merge(inherited, set any) any
	// bind records the parameter's position in its rule's params.
	bind(index int)
}

// ParamDoc documents one parameter in docs/policy.md.
type ParamDoc struct {
	// Values says what may be written, such as "list of 12-digit account IDs".
	Values string `json:"values"`
	// Default says the default and what it means, such as "`[]` (the organization)".
	Default string `json:"default"`
	// Meaning says in a few words what the parameter sets.
	Meaning string `json:"meaning"`
}

// paramValue is the types a parameter may have: exactly those the policy
// decoder converts (convert has a case for each), so a parameter of any
// other type does not compile.
type paramValue interface {
	string | []string | bool | int
}

// param is one typed parameter of a rule. T is what the policy holds after
// decoding (a string, a []string, a bool, an int) and what the check reads.
type param[T paramValue] struct {
	key string
	// def is the value before any policy applies; the embedded
	// default-policy.yaml spells it out.
	def T
	doc ParamDoc
	// normalise validates the written value and returns its canonical
	// form; it reports problems with c. nil: the value is kept as written.
	normalise func(c *valueCheck, v T) T
	// mergeFn combines an override's value with the inherited one. nil:
	// the override's value replaces the inherited one (an empty list
	// clears a list).
	mergeFn func(inherited, set T) T
	index   int // position in the rule's params, set by the catalogue
}

func (p *param[T]) Key() string       { return p.key }
func (p *param[T]) Doc() ParamDoc     { return p.doc }
func (p *param[T]) defaultValue() any { return p.def }
func (p *param[T]) bind(index int)    { p.index = index }
func (p *param[T]) String() string    { return p.key }
func (p *param[T]) merge(in, set any) any {
	if p.mergeFn == nil {
		return set
	}
	return p.mergeFn(in.(T), set.(T))
}

func (p *param[T]) decode(v *validator, n ast.Node, path []string) (any, bool) {
	if isNull(n) {
		return nil, false
	}
	t, ok := convert[T](v, n, path)
	if !ok {
		return nil, false
	}
	if p.normalise != nil {
		t = p.normalise(&valueCheck{v: v, path: path}, t)
	}
	return t, true
}

// get returns the parameter's effective value in the scope of s: the rules
// block's value, merged with the values of the overrides that apply, least
// specific first. It allocates nothing.
func (p *param[T]) get(s settings) T {
	v, _ := s.params[p.index].(T)
	for _, o := range s.matched {
		e := o.rules[s.rule]
		if e == nil {
			continue
		}
		if set, ok := e.params[p.index].(T); ok {
			if p.mergeFn != nil {
				v = p.mergeFn(v, set)
			} else {
				v = set
			}
		}
	}
	return v
}

// valueCheck is how a parameter reports problems with the value written at
// its key path: the decoder turns them into a PolicyError at the right line,
// or a warning.
type valueCheck struct {
	v    *validator
	path []string
}

// fail reports the value as a whole: "rules.INV-106.formats: want ...".
func (c *valueCheck) fail(value, msg string) { c.v.fail(c.path, value, msg) }

// failItem reports item i of a list value.
func (c *valueCheck) failItem(i int, value, msg string) {
	c.v.fail(at(c.path, strconv.Itoa(i)), value, msg)
}

// warn records a warning about a value the scanner accepts but does not
// know, prefixed with the key path.
func (c *valueCheck) warn(format string, args ...any) {
	c.v.warnings = append(c.v.warnings, strings.Join(c.path, ".")+": "+fmt.Sprintf(format, args...))
}

// enumParam is a parameter that takes one of values, in any case, stored in
// the spelling of values.
func enumParam(key string, values []string, def string, what string, doc ParamDoc) *param[string] {
	return &param[string]{key: key, def: def, doc: doc, normalise: func(c *valueCheck, v string) string {
		w, ok := canonical(v, values)
		if !ok {
			c.fail(v, "want "+orList(values)+" ("+what+")")
		}
		return w
	}}
}

// listParam is a parameter that takes a list of strings, each accepted by
// valid (which returns what was expected, or "" when the item is good).
// The list is kept as written; an empty list clears it.
func listParam(key string, doc ParamDoc, valid func(string) string) *param[[]string] {
	return &param[[]string]{key: key, def: []string{}, doc: doc, normalise: func(c *valueCheck, vs []string) []string {
		for i, s := range vs {
			if want := valid(s); want != "" {
				c.failItem(i, s, "want "+want)
			}
		}
		return append([]string{}, vs...)
	}}
}

// orList renders values as "A, B or C".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// appendNew appends v to vs unless it is there already.
func appendNew(vs []string, v string) []string {
	if slices.Contains(vs, v) {
		return vs
	}
	return append(vs, v)
}

// isNull reports whether n holds no value (absent or null).
func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}
