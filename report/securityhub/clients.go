package securityhub

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
)

// CredentialSource gives the credentials of the member role of an
// account. scan.RoleConnector implements it with the credentials the scan
// assumed (cached and refreshed by aws.CredentialsCache), so importing
// assumes no role again.
type CredentialSource interface {
	Credentials(ctx context.Context, accountID string) (aws.CredentialsProvider, error)
}

// RoleClients opens Security Hub clients with the member role's
// credentials.
type RoleClients struct {
	// Base is the configuration the clients start from (endpoint,
	// retryer, HTTP client); its credentials and Region are replaced.
	Base aws.Config
	// Credentials gives each account's member role credentials.
	Credentials CredentialSource
}

var _ Clients = (*RoleClients)(nil)

// Client returns a client of account's Security Hub in region.
func (c *RoleClients) Client(ctx context.Context, account, region string) (API, error) {
	creds, err := c.Credentials.Credentials(ctx, account)
	if err != nil {
		return nil, err
	}
	cfg := c.Base.Copy()
	cfg.Credentials, cfg.Region = creds, region
	return securityhub.NewFromConfig(cfg), nil
}
