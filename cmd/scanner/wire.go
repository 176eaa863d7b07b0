package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/awsclient"
	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/scan"
)

// wire loads the SDK's standard configuration and builds what a run needs
// from it: the Organizations client and the connector that assumes the
// member role in each account (in the returned settings), and the findings
// table when cfg.Table is set. The member role's ARNs take the partition
// of the caller's own ARN (GetCallerIdentity), which also proves the
// credentials work before anything is scanned. opts add to the SDK
// configuration's (the Lambda function counts its calls).
func wire(ctx context.Context, cfg config.Config, opts ...awsclient.Option) (pipeline.Settings, *dynamo.Store, error) {
	awsCfg, err := loadAWS(ctx, cfg, opts...)
	if err != nil {
		return pipeline.Settings{}, nil, err
	}
	stsAPI := sts.NewFromConfig(awsCfg)
	partition, err := awsclient.Partition(ctx, stsAPI)
	if err != nil {
		return pipeline.Settings{}, nil, err
	}
	s := pipeline.Settings{
		Config:        cfg,
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{
			STS:       stsAPI,
			Base:      awsCfg,
			Role:      cfg.Role(partition),
			S3Options: []func(*s3.Options){awsclient.S3PathStyle},
		},
	}
	var store *dynamo.Store
	if cfg.Table != "" {
		store, err = newStore(awsCfg, cfg)
	}
	return s, store, err
}

// loadAWS loads the SDK's standard configuration (credentials, region,
// AWS_ENDPOINT_URL*, retries) with an HTTP client sized for the scanner's
// concurrency.
func loadAWS(ctx context.Context, cfg config.Config, opts ...awsclient.Option) (aws.Config, error) {
	return awsclient.Load(ctx, append([]awsclient.Option{awsclient.WithMaxInFlight(cfg.ScanOptions().MaxInFlight())}, opts...)...)
}

// newStore returns the DynamoDB findings store on cfg.Table, keeping
// resolved findings for cfg.Retention.
func newStore(awsCfg aws.Config, cfg config.Config) (*dynamo.Store, error) {
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, report.StoreOptions{Retention: cfg.Retention})
}
