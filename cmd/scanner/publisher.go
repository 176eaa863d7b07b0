//go:build !widget

package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report/events"
)

// newPublisher returns the EventBridge publisher of the findings' changes
// on cfg.EventBus.
func newPublisher(awsCfg aws.Config, cfg config.Config) (pipeline.Publisher, error) {
	return events.New(eventbridge.NewFromConfig(awsCfg), events.Options{Bus: cfg.EventBus})
}
