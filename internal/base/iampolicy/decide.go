package iampolicy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Outcome is what a policy says about a request.
type Outcome int

// The outcomes. The zero value is Unknown, so a Decision nobody filled in
// never reads as an answer.
const (
	// Unknown: a statement that could apply uses something the evaluator
	// does not implement, and the answer depends on it.
	Unknown Outcome = iota
	// NotAllowed: no statement allows the request (an implicit deny).
	NotAllowed
	// Allow: a statement allows the request and none denies it.
	Allow
	// Deny: a statement denies the request (an explicit deny, which wins
	// over any Allow).
	Deny
)

var outcomeNames = [...]string{Unknown: "Unknown", NotAllowed: "NotAllowed", Allow: "Allow", Deny: "Deny"}

// String returns the outcome's name, such as "NotAllowed".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) {
	if o < 0 || int(o) >= len(outcomeNames) {
		return nil, fmt.Errorf("invalid outcome %d", int(o))
	}
	return []byte(o.String()), nil
}

// Decision is an Outcome with its explanation.
type Decision struct {
	Outcome Outcome
	// Statements labels (Sid, or "#<index>") the statements behind the
	// outcome: the matching Deny statements for Deny, the matching Allow
	// statements for Allow, the undecidable ones for Unknown; none for
	// NotAllowed.
	Statements []string
	// Reason says, for Unknown, what the evaluator could not decide.
	Reason string
}

// Request is what the policy is asked about.
type Request struct {
	// Service is the service principal making the request, such as
	// "s3.amazonaws.com". Exactly one of Service and AWS is set.
	Service string
	// AWS is an IAM principal: a 12-digit account ID or the ARN of a root
	// user, user, role or assumed-role session.
	AWS string
	// Action is the action requested, such as "s3:PutObject".
	Action string
	// Resource is the ARN of the resource acted on.
	Resource string
	// Context holds the condition keys present in the request with their
	// values. Key names are case-insensitive. A key of KnownKeys that is
	// not in Context is absent from the request; any other key a
	// statement's condition names makes that statement undecidable.
	Context map[string][]string
}

// The condition keys the evaluator knows the absence of: a condition on
// one of them that is not in the request's Context reads it as absent.
var knownKeys = []string{
	"aws:securetransport",
	"aws:sourceaccount",
	"aws:sourcearn",
	"aws:sourceorgid",
	"s3:x-amz-acl",
}

// KnownKeys returns the condition keys, lower-cased, whose absence from a
// Request's Context means they are absent from the request. A condition on
// any other key is decided only when the Context holds that key.
func KnownKeys() []string { return slices.Clone(knownKeys) }

func (r *Request) validate() error {
	switch {
	case (r.Service == "") == (r.AWS == ""):
		return errors.New("request: want exactly one of Service and AWS principal")
	case r.AWS != "" && !isAccountID(r.AWS) && !isARN(r.AWS):
		return fmt.Errorf("request principal %q: want a 12-digit account ID or an ARN", r.AWS)
	case !strings.Contains(r.Action, ":") || strings.ContainsAny(r.Action, "*?"):
		return fmt.Errorf("request action %q: want service:Action without wildcards", r.Action)
	case !isARN(r.Resource) || strings.ContainsAny(r.Resource, "*?"):
		return fmt.Errorf("request resource %q: want an ARN without wildcards", r.Resource)
	}
	return nil
}

func isARN(s string) bool { _, ok := splitARN(s); return ok && strings.HasPrefix(s, "arn:") }

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Decide evaluates the policy for one request, as IAM evaluates a
// resource policy on its own: an explicit Deny wins, else an Allow
// allows, else the request is NotAllowed. Statements whose applicability
// cannot be decided make the outcome Unknown only when the answer depends
// on them: a matching Deny still decides Deny, and an undecidable Deny
// does not change NotAllowed. The error is for an invalid request only.
//
// An identity-based policy is asked about an IAM principal's request
// only, and its statements apply to that principal. Such a policy is
// combined with others (an SCP with the account's own policies), where
// its explicit Deny and its implicit one differ: an undecidable Deny
// makes its outcome Unknown even when nothing is allowed.
func (p *Policy) Decide(r Request) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	if p.Identity && r.AWS == "" {
		return Decision{}, errors.New("request: an identity policy governs IAM principals; want an AWS principal, not a service")
	}
	ctx := make(map[string][]string, len(r.Context))
	for k, v := range r.Context {
		ctx[strings.ToLower(k)] = v
	}
	e := evaluator{req: &r, ctx: ctx, literal: p.Version != Version2012}
	var deny, allow, unknownDeny, unknownAllow []string
	var reason string
	for i := range p.Statements {
		st := &p.Statements[i]
		v := e.statement(st)
		switch {
		case v.t == yes && st.Effect == EffectDeny:
			deny = append(deny, st.Label())
		case v.t == yes:
			allow = append(allow, st.Label())
		case v.t == maybe && st.Effect == EffectDeny:
			unknownDeny = append(unknownDeny, st.Label())
		case v.t == maybe:
			unknownAllow = append(unknownAllow, st.Label())
		}
		if v.t == maybe && reason == "" {
			reason = "statement " + st.Label() + ": " + v.reason
		}
	}
	switch {
	case len(deny) > 0:
		return Decision{Outcome: Deny, Statements: deny}, nil
	case len(unknownDeny) > 0 && (len(allow) > 0 || len(unknownAllow) > 0 || p.Identity):
		return Decision{Outcome: Unknown, Statements: unknownDeny, Reason: reason}, nil
	case len(allow) > 0:
		return Decision{Outcome: Allow, Statements: allow}, nil
	case len(unknownAllow) > 0:
		return Decision{Outcome: Unknown, Statements: unknownAllow, Reason: reason}, nil
	}
	return Decision{Outcome: NotAllowed}, nil
}

type evaluator struct {
	req *Request
	ctx map[string][]string
	// literal is set for Version 2008-10-17 documents, where "${...}" is
	// plain text; under 2012-10-17 it is a policy variable, out of scope.
	literal bool
}

func (e *evaluator) variable(s string) bool { return !e.literal && strings.Contains(s, "${") }

// statement reports whether the statement applies to the request.
func (e *evaluator) statement(st *Statement) verdict {
	parts := []func() verdict{
		func() verdict {
			switch {
			case st.NotPrincipal != nil:
				return e.principal(st.NotPrincipal).not()
			case st.Principal == nil: // an identity policy's: its holder
				return vYes
			}
			return e.principal(st.Principal)
		},
		func() verdict {
			if st.NotAction != nil {
				return e.actions(st.NotAction).not()
			}
			return e.actions(st.Action)
		},
		func() verdict {
			if st.NotResource != nil {
				return e.resources(st.NotResource).not()
			}
			return e.resources(st.Resource)
		},
		func() verdict {
			return allOf(len(st.Conditions), func(i int) verdict { return e.condition(&st.Conditions[i]) })
		},
	}
	return allOf(len(parts), func(i int) verdict { return parts[i]() })
}

func (e *evaluator) principal(p *Principal) verdict {
	if p.All {
		return vYes
	}
	if e.req.Service != "" {
		// AWS "*" is every principal, services included; only a
		// Service entry names a service.
		return anyOf(len(p.AWS)+len(p.Service), func(i int) verdict {
			if i < len(p.AWS) {
				return verdictOf(p.AWS[i] == "*")
			}
			s := p.Service[i-len(p.AWS)]
			switch {
			case s == e.req.Service:
				return vYes
			case strings.EqualFold(s, e.req.Service):
				return undecided("service principal " + quote(s) + " differs from " + quote(e.req.Service) + " in case only")
			case hasWildcard(s):
				return undecided("service principal " + quote(s) + " has a wildcard")
			}
			return vNo
		})
	}
	v := anyOf(len(p.AWS), func(i int) verdict { return e.awsPrincipal(p.AWS[i]) })
	if v.t == no && len(p.CanonicalUser) > 0 {
		return undecided("canonical user principals are not mapped to accounts")
	}
	return v
}

// awsPrincipal matches one AWS principal entry against the request's IAM
// principal: "*", an account (ID or root ARN) covering every principal of
// that account, or an ARN naming one principal (a role covering its
// assumed-role sessions).
func (e *evaluator) awsPrincipal(entry string) verdict {
	if entry == "*" {
		return vYes
	}
	if hasWildcard(entry) || e.variable(entry) {
		return undecided("AWS principal " + quote(entry) + " has a wildcard or variable")
	}
	reqAcct, reqARN := e.req.AWS, ""
	if !isAccountID(reqAcct) {
		parts, _ := splitARN(e.req.AWS)
		reqAcct, reqARN = parts[4], e.req.AWS
	}
	if isAccountID(entry) {
		return verdictOf(entry == reqAcct)
	}
	parts, ok := splitARN(entry)
	if !ok {
		return undecided("AWS principal " + quote(entry) + " is neither an account ID nor an ARN")
	}
	if parts[2] == "iam" && parts[5] == "root" {
		return verdictOf(parts[4] == reqAcct)
	}
	if reqARN == "" {
		return vNo
	}
	if entry == reqARN {
		return vYes
	}
	// arn:aws:iam::A:role/path/name covers arn:aws:sts::A:assumed-role/name/session.
	rp, _ := splitARN(reqARN)
	if parts[2] == "iam" && strings.HasPrefix(parts[5], "role/") &&
		rp[2] == "sts" && strings.HasPrefix(rp[5], "assumed-role/") && parts[4] == rp[4] && parts[1] == rp[1] {
		name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
		session := strings.SplitN(strings.TrimPrefix(rp[5], "assumed-role/"), "/", 2)
		return verdictOf(session[0] == name)
	}
	return vNo
}

func (e *evaluator) actions(patterns []string) verdict {
	return anyOf(len(patterns), func(i int) verdict {
		if e.variable(patterns[i]) {
			return undecided("action " + quote(patterns[i]) + " has a policy variable")
		}
		return verdictOf(matchAction(patterns[i], e.req.Action))
	})
}

func (e *evaluator) resources(patterns []string) verdict {
	return anyOf(len(patterns), func(i int) verdict {
		if e.variable(patterns[i]) {
			return undecided("resource " + quote(patterns[i]) + " has a policy variable")
		}
		return matchARN(patterns[i], e.req.Resource)
	})
}
