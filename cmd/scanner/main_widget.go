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

	"github.com/s3inv/scanner/internal/app/webui/widget"
)

// main is the entry point of the dashboard's custom-widget function
// (-tags lambda,lambda.norpc,widget; make build-DashboardFunction).
func main() {
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") == "" {
		os.Exit(noCommandLine(os.Stderr))
	}
	widgetMain()
}

// widgetMain runs the custom-widget function: the findings table is
// SCANNER_TABLE, reached with the SDK's standard configuration. A bad
// configuration is logged at cold start and returned by every
// invocation.
func widgetMain() {
	log := lambdacontext.NewLogger()
	w, err := func() (*widget.Widget, error) {
		table := os.Getenv("SCANNER_TABLE")
		if table == "" {
			return nil, errors.New("SCANNER_TABLE is not set; want the name of the findings table")
		}
		awsCfg, err := awsconfig.LoadDefaultConfig(context.Background())
		if err != nil {
			return nil, err
		}
		return widget.New(dynamodb.NewFromConfig(awsCfg), table, log)
	}()
	if err != nil {
		log.Error("invalid configuration", "error", err.Error())
		lambda.Start(func(context.Context, json.RawMessage) (any, error) { return nil, err })
		return
	}
	lambda.Start(w.Handle)
}
