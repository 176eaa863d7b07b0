//go:build !lambda || !widget

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/report/events"
	"github.com/s3inv/scanner/report/securityhub"
	"github.com/s3inv/scanner/scan"
)

// newPublisher returns the EventBridge publisher of the findings' changes
// on cfg.EventBus.
func newPublisher(awsCfg aws.Config, cfg config.Config) (pipeline.Publisher, error) {
	return events.New(eventbridge.NewFromConfig(awsCfg), events.Options{Bus: cfg.EventBus})
}

// newExporter returns the exporter of the findings' changes to each
// member account's Security Hub, through the member role's credentials
// the connector assumed for the scan; account-level findings go to the
// scanner's own Region.
func newExporter(awsCfg aws.Config, partition string, conn *scan.RoleConnector) (pipeline.Exporter, error) {
	return securityhub.New(&securityhub.RoleClients{Base: awsCfg, Credentials: conn},
		securityhub.Options{Partition: partition, HomeRegion: awsCfg.Region})
}
