package iampolicy

import (
	"strings"
	"unicode/utf8"
)

// tri is a three-valued truth: whether a statement or condition applies
// is yes, no, or cannot be decided (maybe).
type tri int8

const (
	no tri = iota
	yes
	maybe
)

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return maybe
}

// verdict is a tri with the reason it is maybe.
type verdict struct {
	t      tri
	reason string
}

var (
	vYes = verdict{t: yes}
	vNo  = verdict{t: no}
)

func verdictOf(b bool) verdict {
	if b {
		return vYes
	}
	return vNo
}

func undecided(reason string) verdict { return verdict{t: maybe, reason: reason} }

func (v verdict) not() verdict { return verdict{t: v.t.not(), reason: v.reason} }

// anyOf is a three-valued OR: yes if one is yes, else maybe if one is
// maybe (keeping the first reason), else no.
func anyOf(n int, f func(i int) verdict) verdict {
	out := vNo
	for i := range n {
		switch v := f(i); v.t {
		case yes:
			return vYes
		case maybe:
			if out.t != maybe {
				out = v
			}
		}
	}
	return out
}

// allOf is a three-valued AND: no if one is no, else maybe if one is
// maybe, else yes.
func allOf(n int, f func(i int) verdict) verdict {
	out := vYes
	for i := range n {
		switch v := f(i); v.t {
		case no:
			return vNo
		case maybe:
			if out.t != maybe {
				out = v
			}
		}
	}
	return out
}

// glob reports whether s matches pattern, where * matches any run of
// characters (including none, and including '/' and ':') and ? exactly one
// character. It runs in O(len(pattern)·len(s)) at worst, never
// exponentially.
func glob(pattern, s string) bool {
	p, str := 0, 0
	star, mark := -1, 0
	for str < len(s) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				star, mark = p, str
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(s[str:])
				p++
				str += n
				continue
			default:
				if pattern[p] == s[str] {
					p++
					str++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		// Let the last star absorb one more character and retry.
		_, n := utf8.DecodeRuneInString(s[mark:])
		mark += n
		p, str = star+1, mark
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

// matchAction matches an IAM action pattern ("*", "s3:Put*") against an
// action, case-insensitively as IAM does.
func matchAction(pattern, action string) bool {
	return glob(strings.ToLower(pattern), strings.ToLower(action))
}

// splitARN splits an ARN into its six colon-separated parts ("arn",
// partition, service, region, account, resource); the resource part keeps
// any further colons.
func splitARN(s string) ([]string, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" && !hasWildcard(parts[0]) {
		return nil, false
	}
	return parts, true
}

// matchARN matches an ARN pattern against an ARN segment by segment, each
// segment with * and ? wildcards, case-sensitively: the semantics of
// ArnLike and ArnEquals, and of the Resource element. The pattern "*"
// matches anything. A pattern that is not an ARN cannot be decided; a
// value that is not an ARN does not match.
func matchARN(pattern, value string) verdict {
	if pattern == "*" {
		return vYes
	}
	pp, ok := splitARN(pattern)
	if !ok {
		return undecided("pattern " + quote(pattern) + " is not an ARN")
	}
	vp, ok := splitARN(value)
	if !ok {
		return vNo
	}
	for i := range pp {
		if !glob(pp[i], vp[i]) {
			return vNo
		}
	}
	return vYes
}

func quote(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\""
}
