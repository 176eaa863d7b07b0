package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/scan"
)

// wire loads the SDK's standard configuration and builds what a run needs
// from it: the Organizations client and the connector that assumes the
// member role in each account (in the returned settings), and the findings
// table when cfg.Table is set.
func wire(ctx context.Context, cfg config.Config) (pipeline.Settings, *dynamo.Store, error) {
	awsCfg, err := loadAWS(ctx, cfg)
	if err != nil {
		return pipeline.Settings{}, nil, err
	}
	s := pipeline.Settings{
		Config:        cfg,
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector: &scan.RoleConnector{
			STS:       sts.NewFromConfig(awsCfg),
			Base:      awsCfg,
			Role:      cfg.Role(scan.PartitionOf(awsCfg.Region)),
			S3Options: []func(*s3.Options){pathStyleForCustomEndpoints},
		},
	}
	var store *dynamo.Store
	if cfg.Table != "" {
		store, err = newStore(awsCfg, cfg)
	}
	return s, store, err
}

// newStore returns the DynamoDB findings store on cfg.Table, keeping
// resolved findings for cfg.Retention.
func newStore(awsCfg aws.Config, cfg config.Config) (*dynamo.Store, error) {
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, report.StoreOptions{Retention: cfg.Retention})
}
