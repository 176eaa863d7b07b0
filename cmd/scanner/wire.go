//go:build !lambda || !widget

package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/scan"
)

// wire loads the SDK's standard configuration and builds what a run needs
// from it: the Organizations client and the connector that assumes the
// member role in each account (in the returned settings), and the
// findings table when cfg.Table is set, with the log of the changes it
// writes (Settings.Transitions) and, when cfg.EventBus is set too, the
// publisher of those changes (Settings.Publisher), and when
// cfg.SecurityHub is, their exporter to the member accounts' Security
// Hub (Settings.Exporter), which imports with the credentials the
// connector assumed for the scan. The member role's ARNs
// take the partition of the caller's own ARN (GetCallerIdentity), which
// also proves the credentials work before anything is scanned. opts add
// to the SDK configuration's (the Lambda function counts its calls).
func wire(ctx context.Context, cfg config.Config, opts ...awsclient.Option) (pipeline.Settings, *dynamo.Store, pipeline.Fanout, error) {
	awsCfg, err := loadAWS(ctx, cfg, opts...)
	if err != nil {
		return pipeline.Settings{}, nil, pipeline.Fanout{}, err
	}
	stsAPI := sts.NewFromConfig(awsCfg)
	partition, err := awsclient.Partition(ctx, stsAPI)
	if err != nil {
		return pipeline.Settings{}, nil, pipeline.Fanout{}, err
	}
	connector := &scan.RoleConnector{
		STS:       stsAPI,
		Base:      awsCfg,
		Role:      cfg.Role(partition),
		S3Options: []func(*s3.Options){awsclient.S3PathStyle},
	}
	s := pipeline.Settings{
		Config:        cfg,
		Organizations: organizations.NewFromConfig(awsCfg),
		Connector:     connector,
	}
	if cfg.Table == "" {
		return s, nil, pipeline.Fanout{}, nil
	}
	s.Transitions = &report.TransitionLog{}
	store, err := newStore(awsCfg, cfg, s.Transitions.Record)
	if err != nil {
		return s, nil, pipeline.Fanout{}, err
	}
	if cfg.EventBus != "" {
		if s.Publisher, err = newPublisher(awsCfg, cfg); err != nil {
			return s, nil, pipeline.Fanout{}, err
		}
	}
	if cfg.SecurityHub {
		if s.Exporter, err = newExporter(awsCfg, partition, connector); err != nil {
			return s, nil, pipeline.Fanout{}, err
		}
	}
	return s, store, newFanout(awsCfg, cfg, store), nil
}

// newFanout returns what fan-out runs need: the ledger on the findings
// table (a worker needs it whatever the mode), and the SQS client when
// cfg.QueueURL is set.
func newFanout(awsCfg aws.Config, cfg config.Config, store *dynamo.Store) pipeline.Fanout {
	f := pipeline.Fanout{Ledger: dynamo.NewLedger(store), QueueURL: cfg.QueueURL}
	if cfg.QueueURL != "" {
		f.Queue = sqs.NewFromConfig(awsCfg)
	}
	return f
}

// loadAWS loads the SDK's standard configuration (credentials, region,
// AWS_ENDPOINT_URL*, retries) with an HTTP client sized for the scanner's
// concurrency.
func loadAWS(ctx context.Context, cfg config.Config, opts ...awsclient.Option) (aws.Config, error) {
	return awsclient.Load(ctx, append([]awsclient.Option{awsclient.WithMaxInFlight(cfg.ScanOptions().MaxInFlight())}, opts...)...)
}

// newStore returns the DynamoDB findings store on cfg.Table, keeping
// resolved findings for cfg.Retention and reporting the changes it writes
// to onChange (nil: to nobody).
func newStore(awsCfg aws.Config, cfg config.Config, onChange report.TransitionFunc) (*dynamo.Store, error) {
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, report.StoreOptions{Retention: cfg.Retention, OnTransition: onChange})
}
