package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MaxPolicySize bounds the policy documents Parse reads. S3 bucket
// policies are at most 20 KB and KMS key policies at most 32 KB; anything
// larger did not come from either service.
const MaxPolicySize = 64 << 10

// maxDepth bounds JSON nesting. A policy nests five deep at most
// (Statement, statement, Condition, operator, values).
const maxDepth = 16

// The policy language versions IAM accepts. A document without a Version
// is read as Version2008, as IAM does.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect.
type Effect string

// The two effects.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Policy is a parsed policy document: a resource policy (Parse) or an
// identity-based policy (ParseIdentity).
type Policy struct {
	// Identity is set for an identity-based policy (an IAM policy of a
	// user or role, or a service control policy): its statements name no
	// principal and apply to whoever the policy governs.
	Identity bool
	// Version is the document's Version, or "" when it has none.
	Version string
	// ID is the document's Id, if any.
	ID string
	// Statements are the document's statements in document order.
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Principal and
// NotPrincipal (neither, in an identity-based policy), of Action and
// NotAction, and of Resource and NotResource is set.
type Statement struct {
	// Index is the statement's position in the document, from 0.
	Index        int
	Sid          string
	Effect       Effect
	Principal    *Principal
	NotPrincipal *Principal
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	// Conditions holds the Condition block, one entry per operator and
	// key, sorted by operator then key.
	Conditions []Condition
}

// Label names the statement in explanations: its Sid, or "#<index>" when
// it has none.
func (s *Statement) Label() string {
	if s.Sid != "" {
		return s.Sid
	}
	return "#" + strconv.Itoa(s.Index)
}

// Principal is a Principal or NotPrincipal element.
type Principal struct {
	// All is set for "Principal": "*".
	All           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one operator and key of a Condition block with its values.
// Operator is kept as written (such as "ForAnyValue:StringLikeIfExists");
// Parse accepts any operator name, and Decide answers Unknown for the
// ones it does not implement.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Parse reads a resource policy document. It is strict: a document larger
// than MaxPolicySize, invalid or nested too deeply, with a duplicate key
// in any object (encoding/json would silently keep the last one), an
// unknown element or principal type, or a statement missing Effect,
// Principal, Action or Resource is an error naming what was wrong.
func Parse(doc []byte) (*Policy, error) { return parse(doc, false) }

// ParseIdentity reads an identity-based policy: an IAM policy attached to
// a user or role, or an AWS Organizations service control policy. It is
// as strict as Parse, except that a statement must name no Principal or
// NotPrincipal (the policy applies to whoever it governs).
func ParseIdentity(doc []byte) (*Policy, error) { return parse(doc, true) }

func parse(doc []byte, identity bool) (*Policy, error) {
	if len(doc) > MaxPolicySize {
		return nil, fmt.Errorf("policy document: %d bytes, want at most %d", len(doc), MaxPolicySize)
	}
	if err := checkStructure(doc); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	top, err := object(doc, "policy document")
	if err != nil {
		return nil, err
	}
	if err := onlyKeys(top, "policy document", "Version", "Id", "Statement"); err != nil {
		return nil, err
	}
	p := &Policy{Identity: identity}
	if raw, ok := top["Version"]; ok {
		if p.Version, err = str(raw, "Version"); err != nil {
			return nil, err
		}
		if p.Version != Version2012 && p.Version != Version2008 {
			return nil, fmt.Errorf("policy Version %q: want %q or %q", p.Version, Version2012, Version2008)
		}
	}
	if raw, ok := top["Id"]; ok {
		if p.ID, err = str(raw, "Id"); err != nil {
			return nil, err
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, errors.New("policy document: no Statement")
	}
	var stmts []json.RawMessage
	switch firstByte(raw) {
	case '[':
		if err := json.Unmarshal(raw, &stmts); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	case '{':
		stmts = []json.RawMessage{raw}
	default:
		return nil, errors.New("policy Statement: want an object or an array of objects")
	}
	if len(stmts) == 0 {
		return nil, errors.New("policy Statement: empty, want at least one statement")
	}
	for i, raw := range stmts {
		s, err := parseStatement(raw, i, identity)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, i int, identity bool) (Statement, error) {
	where := fmt.Sprintf("statement #%d", i)
	s := Statement{Index: i}
	m, err := object(raw, where)
	if err != nil {
		return s, err
	}
	if v, ok := m["Sid"]; ok {
		if s.Sid, err = str(v, where+" Sid"); err != nil {
			return s, err
		}
		where = fmt.Sprintf("statement %q", s.Sid)
	}
	if err := onlyKeys(m, where, "Sid", "Effect", "Principal", "NotPrincipal",
		"Action", "NotAction", "Resource", "NotResource", "Condition"); err != nil {
		return s, err
	}
	v, ok := m["Effect"]
	if !ok {
		return s, fmt.Errorf("%s: no Effect, want \"Allow\" or \"Deny\"", where)
	}
	e, err := str(v, where+" Effect")
	if err != nil {
		return s, err
	}
	if s.Effect = Effect(e); s.Effect != EffectAllow && s.Effect != EffectDeny {
		return s, fmt.Errorf("%s Effect %q: want \"Allow\" or \"Deny\"", where, e)
	}
	if s.Principal, s.NotPrincipal, err = principals(m, where, identity); err != nil {
		return s, err
	}
	if s.Action, s.NotAction, err = pair(m, where, "Action", "NotAction"); err != nil {
		return s, err
	}
	for _, a := range append(slices.Clone(s.Action), s.NotAction...) {
		if a != "*" && !strings.Contains(a, ":") {
			return s, fmt.Errorf("%s action %q: want \"*\" or \"service:action\"", where, a)
		}
	}
	if s.Resource, s.NotResource, err = pair(m, where, "Resource", "NotResource"); err != nil {
		return s, err
	}
	if v, ok := m["Condition"]; ok {
		if s.Conditions, err = parseConditions(v, where); err != nil {
			return s, err
		}
	}
	return s, nil
}

// principals reads Principal or NotPrincipal; a resource policy statement
// has exactly one of them, an identity policy statement neither.
func principals(m map[string]json.RawMessage, where string, identity bool) (p, notP *Principal, err error) {
	pv, hasP := m["Principal"]
	nv, hasN := m["NotPrincipal"]
	switch {
	case identity && (hasP || hasN):
		return nil, nil, fmt.Errorf("%s: a Principal or NotPrincipal in an identity policy, want none (it applies to whoever it governs)", where)
	case identity:
		return nil, nil, nil
	case hasP && hasN:
		return nil, nil, fmt.Errorf("%s: both Principal and NotPrincipal, want one", where)
	case hasP:
		p, err = parsePrincipal(pv, where+" Principal")
	case hasN:
		notP, err = parsePrincipal(nv, where+" NotPrincipal")
	default:
		return nil, nil, fmt.Errorf("%s: no Principal or NotPrincipal, want one (resource policy)", where)
	}
	return p, notP, err
}

func parsePrincipal(raw json.RawMessage, where string) (*Principal, error) {
	if firstByte(raw) == '"' {
		s, err := str(raw, where)
		if err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, fmt.Errorf("%s %q: want \"*\" or an object such as {\"Service\": ...}", where, s)
		}
		return &Principal{All: true}, nil
	}
	m, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	if err := onlyKeys(m, where, "AWS", "Service", "Federated", "CanonicalUser"); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: empty, want \"*\" or a principal type", where)
	}
	p := &Principal{}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"AWS", &p.AWS}, {"Service", &p.Service}, {"Federated", &p.Federated}, {"CanonicalUser", &p.CanonicalUser}} {
		if v, ok := m[f.name]; ok {
			if *f.dst, err = strs(v, where+" "+f.name); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// pair reads an element that comes in a positive and a Not form (Action and
// NotAction, Resource and NotResource): exactly one must be present.
func pair(m map[string]json.RawMessage, where, name, notName string) (pos, neg []string, err error) {
	pv, hasP := m[name]
	nv, hasN := m[notName]
	switch {
	case hasP && hasN:
		return nil, nil, fmt.Errorf("%s: both %s and %s, want one", where, name, notName)
	case hasP:
		pos, err = strs(pv, where+" "+name)
	case hasN:
		neg, err = strs(nv, where+" "+notName)
	default:
		return nil, nil, fmt.Errorf("%s: no %s or %s, want one", where, name, notName)
	}
	return pos, neg, err
}

func parseConditions(raw json.RawMessage, where string) ([]Condition, error) {
	where += " Condition"
	ops, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	var out []Condition
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		body := ops[op]
		if op == "" {
			return nil, fmt.Errorf("%s: empty operator", where)
		}
		keys, err := object(body, where+" "+op)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("%s %s: no condition keys", where, op)
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			v := keys[k]
			if k == "" {
				return nil, fmt.Errorf("%s %s: empty condition key", where, op)
			}
			vals, err := conditionValues(v, where+" "+op+" "+k)
			if err != nil {
				return nil, err
			}
			out = append(out, Condition{Operator: op, Key: k, Values: vals})
		}
	}
	return out, nil
}

// conditionValues reads a condition's value: a string, boolean or number,
// or a non-empty array of them, each kept as its text.
func conditionValues(raw json.RawMessage, where string) ([]string, error) {
	var items []json.RawMessage
	if firstByte(raw) == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		if len(items) == 0 {
			return nil, fmt.Errorf("%s: empty array, want at least one value", where)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch b := firstByte(it); {
		case b == '"':
			s, err := str(it, where)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		case b == 't' || b == 'f' || b == '-' || (b >= '0' && b <= '9'):
			out = append(out, string(bytes.TrimSpace(it)))
		default:
			return nil, fmt.Errorf("%s: want a string, boolean or number, or an array of them", where)
		}
	}
	return out, nil
}

// checkStructure walks the whole document once: it must be one valid JSON
// value, nested at most maxDepth deep, without a duplicate key in any
// object.
func checkStructure(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if err := walk(dec, "$", 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON document")
	}
	return nil
}

func walk(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON at %s: %w", path, err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("nested deeper than %d at %s", maxDepth, path)
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("invalid JSON at %s: %w", path, err)
			}
			k, _ := kt.(string)
			if seen[k] {
				return fmt.Errorf("duplicate key %q at %s", k, path)
			}
			seen[k] = true
			if err := walk(dec, path+"."+k, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walk(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("invalid JSON at %s: %w", path, err)
	}
	return nil
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func object(raw []byte, where string) (map[string]json.RawMessage, error) {
	if firstByte(raw) != '{' {
		return nil, fmt.Errorf("%s: want a JSON object", where)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return m, nil
}

func onlyKeys(m map[string]json.RawMessage, where string, allowed ...string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("%s: unknown element %q, want one of %s", where, unknown[0], strings.Join(allowed, ", "))
}

func str(raw []byte, where string) (string, error) {
	if firstByte(raw) != '"' {
		return "", fmt.Errorf("%s: want a string", where)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s: %w", where, err)
	}
	return s, nil
}

// strs reads a string or a non-empty array of strings.
func strs(raw []byte, where string) ([]string, error) {
	if firstByte(raw) == '"' {
		s, err := str(raw, where)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	if firstByte(raw) != '[' {
		return nil, fmt.Errorf("%s: want a string or an array of strings", where)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s: empty array, want at least one string", where)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, err := str(it, where)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
