package deploy

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// noValue is what AWS::NoValue evaluates to; maps and lists drop it.
type noValue struct{}

// stack evaluates the raw intrinsic functions of a template as
// CloudFormation would for one set of parameter values. References to
// resources evaluate to "ref:Name", Fn::GetAtt to "getatt:Name.Attr", so a
// check can tell exactly which resource a value points at.
type stack struct {
	t      *Template
	params map[string]string
	conds  map[string]bool
}

// newStack evaluates t with its parameters' defaults overridden by
// overrides. A parameter without a default must be in overrides.
func newStack(t *Template, overrides map[string]string) (*stack, error) {
	s := &stack{t: t, params: map[string]string{}, conds: map[string]bool{}}
	params, _ := t.Raw["Parameters"].(map[string]any)
	for name, p := range params {
		p, _ := p.(map[string]any)
		if v, ok := overrides[name]; ok {
			s.params[name] = v
			continue
		}
		def, ok := p["Default"]
		if !ok {
			return nil, fmt.Errorf("parameter %s has no default: give it a value", name)
		}
		s.params[name] = scalar(def)
	}
	for name := range overrides {
		if _, ok := params[name]; !ok {
			return nil, fmt.Errorf("no parameter %s", name)
		}
	}
	conds, _ := t.Raw["Conditions"].(map[string]any)
	names := make([]string, 0, len(conds))
	for name := range conds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := s.condition(name, 0); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// scalar renders a YAML scalar as CloudFormation passes it on (a Number
// parameter's value is a string).
func scalar(v any) string {
	switch v := v.(type) {
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (s *stack) condition(name string, depth int) (bool, error) {
	if v, ok := s.conds[name]; ok {
		return v, nil
	}
	if depth > 20 {
		return false, fmt.Errorf("condition %s: cycle", name)
	}
	conds, _ := s.t.Raw["Conditions"].(map[string]any)
	expr, ok := conds[name]
	if !ok {
		return false, fmt.Errorf("no condition %s", name)
	}
	v, err := s.boolean(expr, depth+1)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	s.conds[name] = v
	return v, nil
}

func (s *stack) boolean(expr any, depth int) (bool, error) {
	m, ok := expr.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("%v: want a condition function", expr)
	}
	for fn, arg := range m {
		args, _ := arg.([]any)
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return s.condition(name, depth)
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals: want 2 arguments")
			}
			a, err := s.str(args[0])
			if err != nil {
				return false, err
			}
			b, err := s.str(args[1])
			if err != nil {
				return false, err
			}
			return a == b, nil
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not: want 1 argument")
			}
			v, err := s.boolean(args[0], depth)
			return !v, err
		case "Fn::And", "Fn::Or":
			all := fn == "Fn::And"
			for _, a := range args {
				v, err := s.boolean(a, depth)
				if err != nil {
					return false, err
				}
				if v != all {
					return v, nil
				}
			}
			return all, nil
		}
		return false, fmt.Errorf("%s: not a condition function", fn)
	}
	panic("unreachable")
}

func (s *stack) str(v any) (string, error) {
	e, err := s.eval(v)
	if err != nil {
		return "", err
	}
	switch e := e.(type) {
	case string:
		return e, nil
	case float64, bool:
		return scalar(e), nil
	}
	return "", fmt.Errorf("%v: want a string", v)
}

var pseudo = map[string]string{
	"AWS::Partition": "aws",
	"AWS::Region":    "eu-west-1",
	"AWS::AccountId": "111122223333",
	"AWS::StackName": "scanner",
	"AWS::URLSuffix": "amazonaws.com",
}

func (s *stack) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := pseudo[name]; ok {
		return v, nil
	}
	if v, ok := s.params[name]; ok {
		return v, nil
	}
	resources, _ := s.t.Raw["Resources"].(map[string]any)
	if _, ok := resources[name]; ok {
		return "ref:" + name, nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

func (s *stack) getAtt(arg any) (string, error) {
	var name string
	switch a := arg.(type) {
	case string:
		name = a
	case []any:
		if len(a) == 2 {
			name = fmt.Sprintf("%v.%v", a[0], a[1])
		}
	}
	res, _, _ := strings.Cut(name, ".")
	resources, _ := s.t.Raw["Resources"].(map[string]any)
	if _, ok := resources[res]; !ok || !strings.Contains(name, ".") {
		return "", fmt.Errorf("Fn::GetAtt %v: want Resource.Attribute of a resource of the template", arg)
	}
	return "getatt:" + name, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// eval evaluates v: intrinsic functions are applied, maps and lists are
// evaluated element by element, AWS::NoValue is dropped.
func (s *stack) eval(v any) (any, error) {
	switch v := v.(type) {
	case []any:
		out := make([]any, 0, len(v))
		for _, e := range v {
			r, err := s.eval(e)
			if err != nil {
				return nil, err
			}
			if _, ok := r.(noValue); !ok {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if r, ok, err := s.intrinsic(fn, arg); ok {
					return r, err
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			r, err := s.eval(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, ok := r.(noValue); !ok {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (s *stack) intrinsic(fn string, arg any) (any, bool, error) {
	args, _ := arg.([]any)
	switch fn {
	case "Ref":
		name, _ := arg.(string)
		r, err := s.ref(name)
		return r, true, err
	case "Fn::GetAtt":
		r, err := s.getAtt(arg)
		return r, true, err
	case "Fn::If":
		if len(args) != 3 {
			return nil, true, fmt.Errorf("Fn::If: want [condition, then, else]")
		}
		name, _ := args[0].(string)
		c, err := s.condition(name, 0)
		if err != nil {
			return nil, true, err
		}
		if c {
			r, err := s.eval(args[1])
			return r, true, err
		}
		r, err := s.eval(args[2])
		return r, true, err
	case "Fn::Join":
		if len(args) != 2 {
			return nil, true, fmt.Errorf("Fn::Join: want [delimiter, list]")
		}
		delim, _ := args[0].(string)
		list, err := s.eval(args[1])
		if err != nil {
			return nil, true, err
		}
		items, ok := list.([]any)
		if !ok {
			return nil, true, fmt.Errorf("Fn::Join: %v is not a list", args[1])
		}
		parts := make([]string, len(items))
		for i, it := range items {
			if parts[i], err = s.str(it); err != nil {
				return nil, true, err
			}
		}
		return strings.Join(parts, delim), true, nil
	case "Fn::Split":
		if len(args) != 2 {
			return nil, true, fmt.Errorf("Fn::Split: want [delimiter, string]")
		}
		delim, _ := args[0].(string)
		src, err := s.str(args[1])
		if err != nil {
			return nil, true, err
		}
		var out []any
		for _, p := range strings.Split(src, delim) {
			out = append(out, p)
		}
		return out, true, nil
	case "Fn::Sub":
		var (
			src  string
			vars = map[string]string{}
		)
		switch a := arg.(type) {
		case string:
			src = a
		case []any:
			if len(a) != 2 {
				return nil, true, fmt.Errorf("Fn::Sub: want a string or [string, variables]")
			}
			src, _ = a[0].(string)
			m, _ := a[1].(map[string]any)
			for k, e := range m {
				str, err := s.str(e)
				if err != nil {
					return nil, true, fmt.Errorf("Fn::Sub variable %s: %w", k, err)
				}
				vars[k] = str
			}
		}
		var firstErr error
		out := subVar.ReplaceAllStringFunc(src, func(m string) string {
			name := m[2 : len(m)-1]
			if strings.HasPrefix(name, "!") {
				return "${" + name[1:] + "}"
			}
			if v, ok := vars[name]; ok {
				return v
			}
			var (
				r   any
				err error
			)
			if strings.Contains(name, ".") && !strings.HasPrefix(name, "AWS::") {
				r, err = s.getAtt(name)
			} else {
				r, err = s.ref(name)
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
			return fmt.Sprint(r)
		})
		return out, true, firstErr
	}
	return nil, false, nil
}

// strings of v: a string, or a list of strings.
func stringList(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	if v == nil {
		return nil
	}
	return []string{fmt.Sprint(v)}
}

// iamMatch reports whether an IAM resource pattern (* and ? wildcards)
// matches s.
func iamMatch(pattern, s string) bool {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(s)
}
