package rules

import (
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The policy is converted from the parser's syntax tree by the functions
// below rather than by the YAML library's reflection-based decoder: a
// policy has few shapes (mappings of known keys, lists of strings, strings,
// booleans, the version), so a direct conversion is short, names the key
// path of every bad value, and keeps the decoder out of the Lambda binary.
// Anchors and aliases never get here (checkShape, checkNoAliases); the
// parser has refused duplicate keys.
//
// Scalars: a quoted or block scalar is its text; a plain scalar is the
// text as written, so an unquoted 012345678901 keeps its leading zero and
// 1.50 stays 1.50 where a string is wanted. Only true and false are
// booleans (yes and on are strings). Tags are looked through, except that
// !!str makes a scalar a string.

// document converts the body of a policy document; problems go to v.
func (v *validator) document(n ast.Node) policyDoc {
	var doc policyDoc
	if m, _ := untag(n); isNull(m) {
		written := ""
		if m != nil && m.GetToken() != nil {
			written = m.GetToken().Value
		}
		v.fail(nil, written, "want a mapping")
		return doc
	}
	values, _ := v.mapping(n, nil, "want a mapping")
	for _, mv := range values {
		key := keyOf(mv)
		kp := []string{key}
		switch key {
		case "version":
			doc.Version = v.version(mv.Value, kp)
		case "rules":
			doc.Rules = v.ruleBlock(mv.Value, kp)
		case "overrides":
			items, _ := v.sequence(mv.Value, kp)
			for i, item := range items {
				doc.Overrides = append(doc.Overrides, v.override(item, at(kp, strconv.Itoa(i))))
			}
		case "waivers":
			items, _ := v.sequence(mv.Value, kp)
			for i, item := range items {
				doc.Waivers = append(doc.Waivers, v.waiver(item, at(kp, strconv.Itoa(i))))
			}
		case "remediation":
			doc.Remediation = v.remediation(mv.Value, kp)
		case "limits":
			doc.Limits = v.limits(mv.Value, kp)
		default:
			v.failKey(kp, "unknown key: want one of version, rules, overrides, waivers, limits, remediation")
		}
	}
	return doc
}

// version converts the value of version: an integer stays one (int64 or
// uint64), another scalar is its text, for compile to refuse.
func (v *validator) version(n ast.Node, p []string) any {
	m, str := untag(n)
	switch t := m.(type) {
	case nil, *ast.NullNode:
		return nil
	case *ast.IntegerNode:
		if !str {
			return t.GetValue()
		}
	}
	if s, ok := scalarText(n); ok {
		return s
	}
	v.fail(p, "", "want the integer 1")
	return nil
}

// ruleBlock keeps the settings of each rule of a rules block as syntax
// nodes, by rule ID; validator.ruleEntry converts them.
func (v *validator) ruleBlock(n ast.Node, p []string) map[string]ast.Node {
	values, ok := v.mapping(n, p, "want a mapping")
	if !ok {
		return nil
	}
	m := make(map[string]ast.Node, len(values))
	for _, mv := range values {
		m[keyOf(mv)] = mv.Value
	}
	return m
}

// override converts one entry of overrides.
func (v *validator) override(n ast.Node, p []string) overrideDoc {
	var o overrideDoc
	values, _ := v.mapping(n, p, "want a mapping")
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		switch key {
		case "name":
			o.Name, _ = v.str(mv.Value, kp)
		case "match":
			o.Match = v.match(mv.Value, kp)
		case "rules":
			o.Rules = v.ruleBlock(mv.Value, kp)
		default:
			v.failKey(kp, "unknown key: want one of name, match, rules")
		}
	}
	return o
}

// match converts the match of an override.
func (v *validator) match(n ast.Node, p []string) matchDoc {
	var m matchDoc
	values, _ := v.mapping(n, p, "want a mapping")
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		switch key {
		case "ous":
			m.OUs, _ = v.strs(mv.Value, kp)
		case "accounts":
			m.Accounts, _ = v.strs(mv.Value, kp)
		case "buckets":
			m.Buckets, _ = v.strs(mv.Value, kp)
		default:
			v.failKey(kp, "unknown key: want one of ous, accounts, buckets")
		}
	}
	return m
}

// waiver converts one entry of waivers.
func (v *validator) waiver(n ast.Node, p []string) Waiver {
	var w Waiver
	values, _ := v.mapping(n, p, "want a mapping")
	v.stringFields(values, p, []stringField{
		{"rule", &w.Rule}, {"account", &w.Account}, {"bucket", &w.Bucket}, {"reason", &w.Reason}, {"expires", &w.Expires},
	})
	return w
}

// stringField is a key of a mapping whose value is a string, and where
// it goes.
type stringField struct {
	key string
	dst *string
}

// stringFields converts the values of a mapping (at key path p) whose
// keys are fields, each a string; another key is an error that lists
// them.
func (v *validator) stringFields(values []*ast.MappingValueNode, p []string, fields []stringField) {
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		i := slices.IndexFunc(fields, func(f stringField) bool { return f.key == key })
		if i < 0 {
			keys := make([]string, len(fields))
			for j, f := range fields {
				keys[j] = f.key
			}
			v.failKey(kp, "unknown key: want one of "+strings.Join(keys, ", "))
			continue
		}
		*fields[i].dst, _ = v.str(mv.Value, kp)
	}
}

// convert converts the value at node n (key path p) into a T, one of the
// types of rule parameters (paramValue, whose every type has its case
// here). It reports whether the value had the right type; if not, the
// problem went to v.
func convert[T paramValue](v *validator, n ast.Node, p []string) (T, bool) {
	var t T
	var ok bool
	switch d := any(&t).(type) {
	case *string:
		*d, ok = v.str(n, p)
	case *[]string:
		*d, ok = v.strs(n, p)
	case *bool:
		*d, ok = v.boolean(n, p)
	case *int:
		*d, ok = v.integer(n, p)
	}
	return t, ok
}

// mapping returns the entries of the mapping at n (key path p), none for
// null; ok is false after reporting want when n is not a mapping.
func (v *validator) mapping(n ast.Node, p []string, want string) (values []*ast.MappingValueNode, ok bool) {
	m, _ := untag(n)
	switch t := m.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.MappingNode:
		return t.Values, true
	case *ast.MappingValueNode: // a mapping of one entry
		return []*ast.MappingValueNode{t}, true
	}
	s, _ := scalarText(n)
	v.fail(p, s, want)
	return nil, false
}

// sequence returns the items of the list at n (key path p), none for
// null; ok is false after reporting that n is not a list.
func (v *validator) sequence(n ast.Node, p []string) (items []ast.Node, ok bool) {
	m, _ := untag(n)
	switch t := m.(type) {
	case nil, *ast.NullNode:
		return nil, true
	case *ast.SequenceNode:
		return t.Values, true
	}
	s, _ := scalarText(n)
	v.fail(p, s, "want a list")
	return nil, false
}

// strs converts a list of strings (null is none, a null item is ""). ok
// is false after reporting a value that is not a list or an item that is
// not a scalar.
func (v *validator) strs(n ast.Node, p []string) ([]string, bool) {
	items, ok := v.sequence(n, p)
	if !ok || items == nil && isNull(n) {
		return nil, ok
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, good := v.str(item, at(p, strconv.Itoa(i)))
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// str converts a scalar to a string (null is ""). ok is false after
// reporting a list or a mapping.
func (v *validator) str(n ast.Node, p []string) (string, bool) {
	s, ok := scalarText(n)
	if !ok {
		v.fail(p, "", "want a string")
	}
	return s, ok
}

// boolean converts true or false. ok is false after reporting anything
// else.
func (v *validator) boolean(n ast.Node, p []string) (b, ok bool) {
	if m, str := untag(n); !str {
		if t, isBool := m.(*ast.BoolNode); isBool {
			return t.Value, true
		}
	}
	s, _ := scalarText(n)
	v.fail(p, s, "want true or false")
	return false, false
}

// integer converts a whole number. ok is false after reporting anything
// else (a quoted number included).
func (v *validator) integer(n ast.Node, p []string) (int, bool) {
	s, _ := scalarText(n)
	if m, str := untag(n); !str {
		if _, isInt := m.(*ast.IntegerNode); isInt {
			if i, err := strconv.Atoi(s); err == nil {
				return i, true
			}
		}
	}
	v.fail(p, s, "want a whole number")
	return 0, false
}

// scalarText returns the text of the scalar at n ("" for null); false
// when n is a list or a mapping.
func scalarText(n ast.Node) (string, bool) {
	m, _ := untag(n)
	switch t := m.(type) {
	case nil, *ast.NullNode:
		return "", true
	case *ast.StringNode:
		return t.Value, true
	case *ast.LiteralNode: // | and > block scalars
		if t.Value == nil {
			return "", true
		}
		return t.Value.Value, true
	case ast.ScalarNode:
		if tk := t.GetToken(); tk != nil {
			return tk.Value, true
		}
		return "", true
	}
	return "", false
}

// untag returns the node under any tags, and whether one of them is !!str.
func untag(n ast.Node) (ast.Node, bool) {
	str := false
	for {
		t, ok := n.(*ast.TagNode)
		if !ok {
			return n, str
		}
		if t.Start != nil && token.ReservedTagKeyword(t.Start.Value) == token.StringTag {
			str = true
		}
		n = t.Value
	}
}

// keyOf returns the key of a mapping entry as written ("" for none).
func keyOf(mv *ast.MappingValueNode) string {
	if mv.Key == nil {
		return ""
	}
	return keyString(mv.Key)
}
