package scan

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// AccountPlaceholder in a role name template is replaced by the account ID.
const AccountPlaceholder = "{account_id}"

var (
	// IAM role names: 1–64 of [\w+=,.@-]; a path may precede the name.
	roleNamePattern    = regexp.MustCompile(`^(/?[\w+=,.@-]+/)*[\w+=,.@-]{1,64}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // 2–1224 characters, checked apart
)

// Role says which role to assume in each member account and how.
type Role struct {
	// Name is the role name, optionally with a path, and optionally with
	// the placeholder {account_id}.
	Name string
	// ExternalID is sent with every AssumeRole when set.
	ExternalID string
	// SessionName names the sessions in the member accounts' CloudTrail.
	SessionName string
	// Partition of the role ARNs ("aws", "aws-cn", "aws-us-gov", ...): the
	// caller's own, from awsclient.Partition.
	Partition string
	// Duration of the credentials; 15 minutes when zero.
	Duration time.Duration
}

// RoleError says which setting of a Role is invalid: Field is "Name",
// "ExternalID", "SessionName" or "Duration".
type RoleError struct {
	Field string
	Msg   string
}

func (e *RoleError) Error() string { return e.Msg }

// Validate checks the role settings against IAM's and STS's rules. The
// error is a *RoleError. It never repeats the external ID, which is a
// shared secret of sorts.
func (r Role) Validate() error {
	if err := validRoleName(r.Name); err != nil {
		return err
	}
	if r.ExternalID != "" && (len(r.ExternalID) < 2 || len(r.ExternalID) > 1224 || !externalIDPattern.MatchString(r.ExternalID)) {
		return &RoleError{"ExternalID", "external ID: want 2-1224 of letters, digits and +=,.@:/_-"}
	}
	if !sessionNamePattern.MatchString(r.SessionName) {
		return &RoleError{"SessionName", fmt.Sprintf("session name %q: want 2-64 of letters, digits and +=,.@_-", r.SessionName)}
	}
	if r.Duration != 0 && (r.Duration < 15*time.Minute || r.Duration > time.Hour) {
		return &RoleError{"Duration", fmt.Sprintf("role duration %s: want 15m to 1h (role chaining caps it at 1h)", r.Duration)}
	}
	return nil
}

// maxRolePath is the longest path IAM gives a role, slashes included.
const maxRolePath = 512

// validRoleName checks a role name template: once {account_id} is
// replaced it must be an IAM role name (optionally after a path), and its
// name must not be the placeholder alone: IAM policies grant the template
// with * for the placeholder (an account ID has no fixed form there), so
// "{account_id}" would be role/*, every role of every account, the
// administrators' among them.
func validRoleName(tmpl string) error {
	if last := tmpl[strings.LastIndexByte(tmpl, '/')+1:]; last != "" && strings.ReplaceAll(last, AccountPlaceholder, "") == "" {
		return &RoleError{"Name", fmt.Sprintf("role name %q: %s alone is every role (role/*) where IAM grants the name; want a fixed part too, such as scanner-%s", short(tmpl), AccountPlaceholder, AccountPlaceholder)}
	}
	name := strings.ReplaceAll(tmpl, AccountPlaceholder, "123456789012")
	full := "/" + strings.TrimPrefix(name, "/")
	if path := full[:strings.LastIndexByte(full, '/')+1]; !roleNamePattern.MatchString(name) || len(path) > maxRolePath {
		return &RoleError{"Name", fmt.Sprintf("role name %q: want an IAM role name (1-64 of letters, digits and +=,.@_-, optionally after a path of at most %d characters)", short(tmpl), maxRolePath)}
	}
	return nil
}

// short cuts s to 80 characters for a message.
func short(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// ARN returns the ARN of the role in the given account.
func (r Role) ARN(accountID string) string {
	name := strings.ReplaceAll(r.Name, AccountPlaceholder, accountID)
	return arn.ARN{
		Partition: r.Partition,
		Service:   "iam",
		AccountID: accountID,
		Resource:  "role/" + strings.TrimPrefix(name, "/"),
	}.String()
}

// RoleConnector gives each member account an S3 client that uses the
// credentials of the member role, assumed through STS.
type RoleConnector struct {
	// STS is the client that assumes roles, in the scanner's own region
	// (the SDK calls the regional STS endpoint).
	STS stscreds.AssumeRoleAPIClient
	// Base is the configuration the S3 clients start from (endpoint,
	// retryer, HTTP client); its credentials are replaced.
	Base aws.Config
	// Role is the member role.
	Role Role
	// S3Options adjust every S3 client (path-style addressing for custom
	// endpoints, for example).
	S3Options []func(*s3.Options)
	// KMSOptions adjust every KMS client (the destination reads').
	KMSOptions []func(*kms.Options)

	mu    sync.Mutex
	creds map[string]*aws.CredentialsCache // by account, the last Connect's
}

// memberClient is a member account's S3 client, which also reads its KMS
// keys (KMSProvider) for the destination checks. Both use the member
// role's cached credentials.
type memberClient struct {
	*s3.Client
	kms *kms.Client
}

func (m memberClient) KMS() KMSAPI { return m.kms }

// Connect assumes the member role of acct and returns an S3 client using
// it, which is also a DestinationS3API and a KMSProvider. The credentials
// are fetched here, so a missing or denied role fails now rather than on
// the first bucket; they are cached and refreshed by
// aws.CredentialsCache, and kept for Credentials.
func (c *RoleConnector) Connect(ctx context.Context, acct inventory.Account) (S3API, error) {
	creds, err := c.assume(ctx, acct.ID)
	if err != nil {
		return nil, err
	}
	cfg := c.Base.Copy()
	cfg.Credentials = creds
	return memberClient{Client: s3.NewFromConfig(cfg, c.S3Options...), kms: kms.NewFromConfig(cfg, c.KMSOptions...)}, nil
}

// Credentials returns the member role's credentials of an account: those
// the last Connect of the account assumed (refreshed when they expire),
// or, for an account not connected yet, credentials assumed now. The
// outputs of a run (Security Hub) use them, so that they assume no role
// the scan already did.
func (c *RoleConnector) Credentials(ctx context.Context, accountID string) (aws.CredentialsProvider, error) {
	c.mu.Lock()
	creds := c.creds[accountID]
	c.mu.Unlock()
	if creds != nil {
		return creds, nil
	}
	return c.assume(ctx, accountID)
}

// assume assumes the member role of an account, checks that it can, and
// keeps the credentials' cache for Credentials.
func (c *RoleConnector) assume(ctx context.Context, accountID string) (*aws.CredentialsCache, error) {
	roleARN := c.Role.ARN(accountID)
	provider := stscreds.NewAssumeRoleProvider(c.STS, roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = c.Role.SessionName
		if c.Role.ExternalID != "" {
			o.ExternalID = aws.String(c.Role.ExternalID)
		}
		if c.Role.Duration != 0 {
			o.Duration = c.Role.Duration
		}
	})
	creds := aws.NewCredentialsCache(provider)
	_, err := creds.Retrieve(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.creds, accountID) // the role is gone or denied now: forget what it was
		return nil, fmt.Errorf("assume role %s: %w", roleARN, err)
	}
	if c.creds == nil {
		c.creds = map[string]*aws.CredentialsCache{}
	}
	c.creds[accountID] = creds
	return creds, nil
}
