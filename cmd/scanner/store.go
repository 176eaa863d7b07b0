package main

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

// newStore returns the DynamoDB findings store on cfg.Table, keeping
// resolved findings for cfg.Retention.
func newStore(awsCfg aws.Config, cfg config.Config) (*dynamo.Store, error) {
	return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table, report.StoreOptions{Retention: cfg.Retention})
}

// awsQueryExample is an AWS CLI command that reads the open CRITICAL
// findings, newest first, from the table at endpoint.
func awsQueryExample(table, endpoint string) string {
	return fmt.Sprintf(`aws dynamodb query --endpoint-url %s --table-name %s --index-name %s `+
		`--key-condition-expression "open_severity = :s" --expression-attribute-values '{":s":{"S":"CRITICAL"}}' `+
		`--no-scan-index-forward --max-items 5`, endpoint, table, dynamo.IndexOpenBySeverity)
}
