package remediate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// DefaultRoleName is the remediation role's name in member-role.yaml.
const DefaultRoleName = "S3InventoryScannerRemediation"

// MaxSCPSize is the largest service control policy AWS Organizations
// accepts, in bytes of the document as saved (the API and the CLI keep
// its whitespace; the console removes it).
const MaxSCPSize = 5120

// SensitiveFields are the inventory optional fields the SCP forbids
// exporting: each object's ACL and owner.
var SensitiveFields = []string{"ObjectAccessControlList", "ObjectOwner"}

// The statement IDs of the SCP.
const (
	SidOnlyRemediation = "OnlyTheRemediationRolePutsInventory"
	SidSensitiveFields = "NoSensitiveInventoryFields"
)

// putInventory is the IAM action of PutBucketInventoryConfiguration and
// DeleteBucketInventoryConfiguration.
const putInventory = "s3:PutInventoryConfiguration"

// SCPOptions say which roles may put inventory configurations.
type SCPOptions struct {
	// RemediationRole is the remediation role's name, after its path if
	// it has one ("security/S3InventoryScannerRemediation");
	// DefaultRoleName when empty. The role of that name is exempt in
	// every account.
	RemediationRole string
	// BreakGlass are further exempt roles: a name (path/name) exempts the
	// role of that name in every account, a role ARN that role only.
	BreakGlass []string
}

var (
	roleNameRe  = regexp.MustCompile(`^([\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	accountIDRe = regexp.MustCompile(`^\d{12}$`)
	partitionRe = regexp.MustCompile(`^aws[a-z-]*$`)
)

// RoleError says which role of SCPOptions is not one IAM could name.
type RoleError struct {
	// BreakGlass is set for a role of SCPOptions.BreakGlass, clear for
	// the remediation role.
	BreakGlass bool
	// Role is the value given.
	Role string
	// Want says what was expected.
	Want string
}

func (e *RoleError) Error() string {
	what := "remediation role"
	if e.BreakGlass {
		what = "break-glass role"
	}
	return fmt.Sprintf("%s %q: %s", what, e.Role, e.Want)
}

// rolePattern turns a role name or role ARN into the ARN pattern
// aws:PrincipalArn is compared with, or says what is wrong with it.
func rolePattern(breakGlass bool, role string) (string, error) {
	if !strings.HasPrefix(role, "arn:") {
		if !roleNameRe.MatchString(role) {
			return "", &RoleError{breakGlass, role, "want a role name (1-64 of letters, digits and +=,.@_-, optionally after a path/) or a role ARN, without wildcards"}
		}
		return "arn:*:iam::*:role/" + role, nil
	}
	a, err := arn.Parse(role)
	name, isRole := strings.CutPrefix(a.Resource, "role/")
	if err != nil || a.Service != "iam" || a.Region != "" || !accountIDRe.MatchString(a.AccountID) ||
		!isRole || !roleNameRe.MatchString(name) || !partitionRe.MatchString(a.Partition) {
		return "", &RoleError{breakGlass, role, "want a role ARN (arn:aws:iam::<12-digit account>:role/<path/>name) without wildcards, or a role name"}
	}
	return role, nil
}

// exempt returns the ARN patterns of the roles the SCP exempts, the
// remediation role first, each once.
func (o SCPOptions) exempt() ([]string, error) {
	main := o.RemediationRole
	if main == "" {
		main = DefaultRoleName
	}
	if strings.HasPrefix(main, "arn:") {
		return nil, &RoleError{false, main, "want the role's name (it is exempt in every account), not an ARN"}
	}
	p, err := rolePattern(false, main)
	if err != nil {
		return nil, err
	}
	out := []string{p}
	for _, r := range o.BreakGlass {
		p, err := rolePattern(true, r)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

type scpStatement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    string                         `json:"Action"`
	Resource  string                         `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition"`
}

// SCP returns the service control policy for o, minified (see the
// package documentation), or a one-line error naming the role (a
// *RoleError) or the size that is wrong.
func SCP(o SCPOptions) ([]byte, error) {
	exempt, err := o.exempt()
	if err != nil {
		return nil, err
	}
	doc := struct {
		Version   string         `json:"Version"`
		Statement []scpStatement `json:"Statement"`
	}{Version: "2012-10-17", Statement: []scpStatement{
		{Sid: SidOnlyRemediation, Effect: "Deny", Action: putInventory, Resource: "*",
			Condition: map[string]map[string][]string{"ArnNotLike": {"aws:PrincipalArn": exempt}}},
		{Sid: SidSensitiveFields, Effect: "Deny", Action: putInventory, Resource: "*",
			Condition: map[string]map[string][]string{"ForAnyValue:StringEquals": {"s3:InventoryAccessibleOptionalFields": SensitiveFields}}},
	}}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode the service control policy: %w", err)
	}
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(out) > MaxSCPSize {
		return nil, fmt.Errorf("the service control policy with %d break-glass roles is %d bytes; AWS Organizations accepts at most %d: name fewer (a role name exempts that role in every account)",
			len(exempt)-1, len(out), MaxSCPSize)
	}
	return out, nil
}
