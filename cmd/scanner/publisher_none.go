//go:build lambda && !events && !widget

package main

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/pipeline"
)

// newPublisher refuses SCANNER_EVENT_BUS in a function built without the
// EventBridge client (the build tag events adds it): the function fails
// at its cold start rather than drop every event.
func newPublisher(aws.Config, config.Config) (pipeline.Publisher, error) {
	return nil, errors.New("SCANNER_EVENT_BUS is set, but this build of the function has no EventBridge client; build it with the tag events, or leave SCANNER_EVENT_BUS empty")
}
