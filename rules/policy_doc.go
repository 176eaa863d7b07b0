package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// policyDoc is the policy document as written (YAML or JSON), converted
// from its syntax tree by validator.document; docs/policy.md describes each
// key. The settings of a rule stay syntax nodes until the rule's parameters
// decode them.
type policyDoc struct {
	Version   any // an integer (int64, uint64), the text of another scalar, or nil
	Rules     map[string]ast.Node
	Overrides []overrideDoc
	Waivers   []Waiver
	// Remediation is the remediation section; nil when absent.
	Remediation *Remediation
	// Limits is the limits section; nil when absent.
	Limits *limitsDoc
}

// overrideDoc is one entry of overrides.
type overrideDoc struct {
	Name  string
	Match matchDoc
	Rules map[string]ast.Node
}

// matchDoc says which accounts and buckets an override applies to.
type matchDoc struct {
	OUs      []string `json:"ous,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Buckets  []string `json:"buckets,omitempty"`
}

// policyOut is the normalised document (Policy.MarshalJSON).
type policyOut struct {
	Version   int                   `json:"version"`
	Rules     map[string]*ruleEntry `json:"rules,omitempty"`
	Overrides []overrideOut         `json:"overrides,omitempty"`
	Waivers   []Waiver              `json:"waivers,omitempty"`
	// Remediation is written only when the document has the section.
	Remediation *Remediation `json:"remediation,omitempty"`
	Limits      *limitsDoc   `json:"limits,omitempty"`
}

type overrideOut struct {
	Name  string                `json:"name,omitempty"`
	Match matchDoc              `json:"match"`
	Rules map[string]*ruleEntry `json:"rules"`
}

// ruleEntry is the settings of one rule in the rules block or in one
// override, validated and normalised. Only what the document sets is set.
type ruleEntry struct {
	rule     *Rule
	enabled  *bool
	severity Severity // 0: not set
	params   []any    // indexed like rule.params; nil: not set
}

// MarshalJSON writes the settings in the order of the reference: enabled,
// severity, then the rule's parameters as it declares them.
func (e *ruleEntry) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	field := func(k string, v any) error {
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%s", k, j)
		return nil
	}
	if e.enabled != nil {
		field("enabled", *e.enabled)
	}
	if e.severity != 0 {
		field("severity", e.severity.String())
	}
	for i, v := range e.params {
		if v != nil {
			if err := field(e.rule.params[i].Key(), v); err != nil {
				return nil, err
			}
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// PolicyError is a policy that could not be loaded: where, what and what
// was expected. Its Error is one line.
type PolicyError struct {
	Source string // the input: a file path, "SCANNER_POLICY"
	Line   int    // 1-based line in the document; 0 when unknown
	Path   string // the key path, such as rules.INV-101.severity
	Value  string // the offending value, when there is one
	Msg    string // what is wrong and what was expected
	Err    error  // the YAML parser's error, if any
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("policy ")
	b.WriteString(e.Source)
	if e.Line > 0 {
		b.WriteString(" line ")
		b.WriteString(strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.Value != "" {
		fmt.Fprintf(&b, " %q", e.Value)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

func (e *PolicyError) Unwrap() error { return e.Err }

// decode parses the document strictly: unknown keys, duplicate keys and
// values of the wrong type are errors. It returns the syntax tree too, for
// the line numbers of later errors.
func decode(data []byte, source string) (policyDoc, *ast.File, error) {
	if pe := checkShape(data, source); pe != nil {
		return policyDoc{}, nil, pe
	}
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return policyDoc{}, nil, syntaxError(err, source)
	}
	switch n := len(file.Docs); {
	case n == 0 || file.Docs[0].Body == nil:
		return policyDoc{}, nil, &PolicyError{Source: source, Msg: "empty document: want a mapping with version, rules, overrides, waivers, limits or remediation"}
	case n > 1:
		return policyDoc{}, nil, &PolicyError{Source: source, Line: docLine(file.Docs[1]), Msg: "several YAML documents: want one"}
	}
	if pe := checkNoAliases(file.Docs[0].Body, source); pe != nil {
		return policyDoc{}, nil, pe
	}
	v := &validator{source: source, file: file}
	doc := v.document(file.Docs[0].Body)
	if v.err != nil {
		return policyDoc{}, nil, v.err
	}
	return doc, file, nil
}

func docLine(d *ast.DocumentNode) int {
	if d == nil {
		return 0
	}
	t := d.Start
	if t == nil && d.Body != nil {
		t = d.Body.GetToken()
	}
	if t != nil && t.Position != nil {
		return t.Position.Line
	}
	return 0
}

// syntaxError turns an error of the YAML parser into a one-line
// PolicyError with its line.
func syntaxError(err error, source string) *PolicyError {
	pe := &PolicyError{Source: source, Err: err, Msg: firstLine(err.Error())}
	var ye interface {
		GetMessage() string
		GetToken() *token.Token
	}
	if errors.As(err, &ye) {
		pe.Msg = firstLine(ye.GetMessage())
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			pe.Line = tk.Position.Line
		}
	}
	return pe
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	// goccy prefixes "[line:col] "; the line is reported separately.
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "] "); i > 0 {
			s = s[i+2:]
		}
	}
	return s
}

// lineOf returns the line of the value at the key path, or of its key
// when key is true; 0 when the document does not hold it.
func lineOf(file *ast.File, p []string, key bool) int {
	if file == nil || len(file.Docs) == 0 {
		return 0
	}
	n := file.Docs[0].Body
	var keyNode ast.Node
	for _, seg := range p {
		n, keyNode = child(n, seg)
		if n == nil && keyNode == nil {
			return 0
		}
	}
	if key && keyNode != nil {
		n = keyNode
	}
	if n == nil {
		n = keyNode
	}
	if n == nil {
		return 0
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line
	}
	return 0
}

// child returns the value (and key) under seg of a mapping, or the element
// seg of a sequence.
func child(n ast.Node, seg string) (value, key ast.Node) {
	for {
		switch t := n.(type) {
		case *ast.TagNode:
			n = t.Value
			continue
		case *ast.AnchorNode:
			n = t.Value
			continue
		}
		break
	}
	switch t := n.(type) {
	case *ast.MappingNode:
		for _, mv := range t.Values {
			if mv.Key != nil && keyString(mv.Key) == seg {
				return mv.Value, mv.Key
			}
		}
	case *ast.MappingValueNode:
		if t.Key != nil && keyString(t.Key) == seg {
			return t.Value, t.Key
		}
	case *ast.SequenceNode:
		if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(t.Values) {
			return t.Values[i], t.Values[i]
		}
	}
	return nil, nil
}

func keyString(k ast.MapKeyNode) string {
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

// Validation patterns of the policy's own keys; rules declare those of
// their parameters.
var (
	accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)
	ouIDRe      = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$`)
	dateRe      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// validator collects the first error of a document, and its warnings.
type validator struct {
	source   string
	file     *ast.File // nil when the lines are unknown
	err      *PolicyError
	warnings []string
}

// fail records the first error: at the value of key path p.
func (v *validator) fail(p []string, value, msg string) {
	if v.err != nil {
		return
	}
	v.err = &PolicyError{Source: v.source, Line: lineOf(v.file, p, false), Path: strings.Join(p, "."), Value: value, Msg: msg}
}

// failKey records the first error: on the key at the end of path p.
func (v *validator) failKey(p []string, msg string) {
	if v.err != nil {
		return
	}
	v.err = &PolicyError{Source: v.source, Line: lineOf(v.file, p, true), Path: strings.Join(p[:len(p)-1], "."), Value: p[len(p)-1], Msg: msg}
}

func at(p []string, segs ...string) []string { return append(slices.Clip(p), segs...) }

// compileChecked validates a decoded document with line numbers from its
// syntax tree file (nil: none).
func compileChecked(doc policyDoc, file *ast.File, source string) (*Policy, error) {
	v := &validator{source: source, file: file}
	p := v.compile(doc)
	if v.err != nil {
		return nil, v.err
	}
	return p, nil
}

// compile validates doc without line numbers.
func compile(doc policyDoc, source string) (*Policy, error) {
	return compileChecked(doc, nil, source)
}

// compile validates and normalises doc and builds the Policy; on error
// v.err is set and the result means nothing.
func (v *validator) compile(doc policyDoc) *Policy {
	p := &Policy{source: v.source}
	v.checkVersion(doc.Version)
	out := policyOut{Version: 1}
	p.base, out.Rules = v.baseSettings(doc.Rules)
	p.overrides, out.Overrides = v.overrides(doc.Overrides)
	p.waivers = v.waivers(doc.Waivers)
	out.Waivers = slices.Clone(p.waivers)
	p.remediation = v.checkRemediation(doc.Remediation)
	if doc.Remediation != nil {
		r := p.remediation
		out.Remediation = &r
	}
	p.findingsPerBucket = DefaultFindingsPerBucket
	if l := doc.Limits; l != nil && l.FindingsPerBucket != nil {
		p.findingsPerBucket = *l.FindingsPerBucket
		out.Limits = &limitsDoc{FindingsPerBucket: l.FindingsPerBucket}
	}
	p.doc = out
	p.warnings = v.warnings
	return p
}

// checkVersion checks the document's version: absent, or the integer 1.
func (v *validator) checkVersion(ver any) {
	switch ver := ver.(type) {
	case nil:
	case uint64, int64, int:
		if fmt.Sprint(ver) != "1" {
			v.fail([]string{"version"}, fmt.Sprint(ver), "want 1")
		}
	default:
		v.fail([]string{"version"}, fmt.Sprint(ver), "want the integer 1")
	}
}

// baseSettings returns every rule's settings: the registry's defaults,
// then the policy's rules block, which it returns normalised too.
func (v *validator) baseSettings(block map[string]ast.Node) ([]settings, map[string]*ruleEntry) {
	rules := catalogue()
	base := make([]settings, len(rules))
	for i := range rules {
		r := &rules[i]
		base[i] = settings{enabled: true, severity: r.Severity, rule: i, params: make([]any, len(r.params))}
		for j, pr := range r.params {
			base[i].params[j] = pr.defaultValue()
		}
	}
	named, indexed := v.ruleEntries(block, []string{"rules"})
	for i, e := range indexed {
		b := &base[i]
		if e.enabled != nil {
			b.enabled = *e.enabled
		}
		if e.severity != 0 {
			b.severity = e.severity
		}
		for j, set := range e.params {
			if set != nil {
				b.params[j] = rules[i].params[j].merge(b.params[j], set)
			}
		}
	}
	return base, named
}

// overrides validates the overrides in document order and returns them
// least specific first (OUs, then accounts, then buckets), with their
// normalised document.
func (v *validator) overrides(docs []overrideDoc) ([]override, []overrideOut) {
	type ranked struct {
		rank int
		o    override
	}
	var rs []ranked
	var out []overrideOut
	for i, od := range docs {
		op := []string{"overrides", strconv.Itoa(i)}
		m := od.Match
		if len(m.OUs)+len(m.Accounts)+len(m.Buckets) == 0 {
			v.fail(at(op, "match"), "", "want at least one of ous, accounts, buckets")
		}
		for j, ou := range m.OUs {
			if !ouIDRe.MatchString(ou) {
				v.fail(at(op, "match", "ous", strconv.Itoa(j)), ou, "want an OU ID (ou-xxxx-xxxxxxxx) or a root ID (r-xxxx)")
			}
		}
		v.accountIDs(m.Accounts, at(op, "match", "accounts"))
		v.globs(m.Buckets, at(op, "match", "buckets"), "a bucket-name glob")
		if len(od.Rules) == 0 {
			v.fail(at(op, "rules"), "", "want the settings of at least one rule")
		}
		named, entries := v.ruleEntries(od.Rules, at(op, "rules"))
		rank := 0
		switch {
		case len(m.Buckets) > 0:
			rank = 2
		case len(m.Accounts) > 0:
			rank = 1
		}
		match := matchDoc{OUs: slices.Clone(m.OUs), Accounts: slices.Clone(m.Accounts), Buckets: slices.Clone(m.Buckets)}
		rs = append(rs, ranked{rank, override{
			name: od.Name, ous: match.OUs, accounts: match.Accounts, buckets: match.Buckets, rules: entries,
		}})
		out = append(out, overrideOut{Name: od.Name, Match: match, Rules: named})
	}
	slices.SortStableFunc(rs, func(a, b ranked) int { return a.rank - b.rank })
	var sorted []override
	for _, r := range rs {
		sorted = append(sorted, r.o)
	}
	return sorted, out
}

// waivers validates the waivers.
func (v *validator) waivers(docs []Waiver) []Waiver {
	var ws []Waiver
	for i, w := range docs {
		wp := []string{"waivers", strconv.Itoa(i)}
		if _, ok := Lookup(w.Rule); !ok {
			v.fail(at(wp, "rule"), w.Rule, "want a rule ID of the catalogue (scanner rules)")
		}
		if w.Account != "*" && !accountIDRe.MatchString(w.Account) {
			v.fail(at(wp, "account"), w.Account, `want a 12-digit account ID or "*"`)
		}
		if w.Bucket != "" {
			v.globs([]string{w.Bucket}, at(wp, "bucket"), "a bucket-name glob")
		}
		if strings.TrimSpace(w.Reason) == "" {
			v.fail(at(wp, "reason"), w.Reason, "want the reason for the waiver (a ticket, a date, a person)")
		}
		if !validDate(w.Expires) {
			v.fail(at(wp, "expires"), w.Expires, "want a date YYYY-MM-DD (the last day the waiver applies)")
		}
		ws = append(ws, w)
	}
	return ws
}

// validDate reports whether s is a real calendar date YYYY-MM-DD.
func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// ruleEntries validates and normalises a rules block (at path p), in rule
// ID order. It returns the block by rule ID, for the normalised document,
// and by catalogue index, for evaluation.
func (v *validator) ruleEntries(m map[string]ast.Node, p []string) (map[string]*ruleEntry, map[int]*ruleEntry) {
	if m == nil {
		return nil, nil
	}
	named := make(map[string]*ruleEntry, len(m))
	indexed := make(map[int]*ruleEntry, len(m))
	rules := catalogue()
	for _, id := range slices.Sorted(maps.Keys(m)) {
		rp := at(p, id)
		i := index(id)
		if i < 0 {
			v.failKey(rp, "unknown rule ID: want one of the catalogue (scanner rules), such as "+rules[0].ID)
			continue
		}
		e := v.ruleEntry(&rules[i], m[id], rp)
		named[id], indexed[i] = e, e
	}
	return named, indexed
}

// ruleEntry decodes the settings of rule r written at node n (key path
// p): enabled and severity, which every rule takes, and the rule's own
// parameters, each decoded by the parameter.
func (v *validator) ruleEntry(r *Rule, n ast.Node, p []string) *ruleEntry {
	e := &ruleEntry{rule: r, params: make([]any, len(r.params))}
	values, _ := v.mapping(n, p, "want a mapping of enabled, severity"+keyList(r.Parameters))
	for _, mv := range values {
		key := keyOf(mv)
		kp := at(p, key)
		switch key {
		case "enabled":
			if isNull(mv.Value) {
				continue
			}
			b, ok := v.boolean(mv.Value, kp)
			if !ok {
				continue
			}
			if !b && r.Kind == KindCoverage {
				v.fail(kp, "false", "coverage findings cannot be disabled: want true (waive them instead)")
			}
			e.enabled = &b
		case "severity":
			if isNull(mv.Value) {
				continue
			}
			s, ok := v.str(mv.Value, kp)
			if !ok {
				continue
			}
			sev, err := ParseSeverity(s)
			switch {
			case r.folds:
				v.fail(kp, s, "the folded findings' worst severity is "+r.ID+"'s: want no severity (waive it instead)")
			case err != nil:
				v.fail(kp, s, "want one of CRITICAL, HIGH, MEDIUM, LOW, INFO")
			}
			e.severity = sev
		default:
			pr, ok := r.param(key)
			if !ok {
				v.failKey(kp, unknownRuleKey(r, key))
				continue
			}
			if val, set := pr.decode(v, mv.Value, kp); set {
				e.params[slices.Index(r.params, pr)] = val
			}
		}
	}
	return e
}

// unknownRuleKey says what is wrong with key in the settings of rule r.
func unknownRuleKey(r *Rule, key string) string {
	takes := "only enabled and severity"
	if len(r.Parameters) > 0 {
		takes = "enabled, severity" + keyList(r.Parameters)
	}
	for _, other := range catalogue() {
		if _, ok := other.param(key); ok {
			return fmt.Sprintf("not a parameter of %s: it takes %s", r.ID, takes)
		}
	}
	return "unknown key: want one of enabled, severity" + keyList(r.Parameters)
}

// keyList renders parameter keys after enabled and severity: ", a, b".
func keyList(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return ", " + strings.Join(keys, ", ")
}

func (v *validator) accountIDs(ids []string, p []string) {
	for j, id := range ids {
		if !accountIDRe.MatchString(id) {
			v.fail(at(p, strconv.Itoa(j)), id, "want a 12-digit account ID")
		}
	}
}

func (v *validator) globs(gs []string, p []string, what string) {
	for j, g := range gs {
		if !validGlob(g) {
			v.fail(at(p, strconv.Itoa(j)), g, "want "+what+" in path.Match syntax (* ? [a-z])")
		}
	}
}

// validGlob reports whether g is a non-empty path.Match pattern.
func validGlob(g string) bool {
	_, err := path.Match(g, "")
	return err == nil && g != ""
}
