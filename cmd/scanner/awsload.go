package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/scan"
)

// errNoRegion: the SDK's standard chain names no region.
var errNoRegion = errors.New("AWS region: none configured; set AWS_REGION (for example us-east-1)")

// loadAWS loads the SDK's standard configuration (credentials, region,
// AWS_ENDPOINT_URL*, retries) with an HTTP client sized for the scanner's
// concurrency, so every request in flight keeps its connection.
func loadAWS(ctx context.Context, c config.Config) (aws.Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithHTTPClient(scan.NewHTTPClient(c.ScanOptions())))
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errNoRegion
	}
	return cfg, nil
}

// pathStyleForCustomEndpoints makes S3 use path-style addressing whenever
// its endpoint is not AWS's own.
func pathStyleForCustomEndpoints(o *s3.Options) {
	if o.BaseEndpoint != nil {
		o.UsePathStyle = true
	}
}
