//go:build lambda && widget

package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// lambdaMain runs the custom-widget function (-tags lambda,widget): the
// findings table is SCANNER_TABLE, reached with the SDK's standard
// configuration. A bad configuration is logged at cold start and
// returned by every invocation.
func lambdaMain() {
	log := lambdacontext.NewLogger()
	w, err := func() (*widget, error) {
		table := os.Getenv("SCANNER_TABLE")
		if table == "" {
			return nil, errors.New("SCANNER_TABLE is not set; want the name of the findings table")
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, err
		}
		return newWidget(dynamodb.NewFromConfig(awsCfg), table, log)
	}()
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		lambda.Start(func(context.Context, json.RawMessage) (any, error) { return nil, err })
		return
	}
	lambda.Start(w.handle)
}
