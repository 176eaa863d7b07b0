package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/standin/localserver"
)

// Dynalite starts a local DynamoDB server for t and returns its endpoint;
// the server is closed when t's cleanup runs.
func Dynalite(t testing.TB) string {
	t.Helper()
	s, err := localserver.StartDynalite(context.Background())
	if err != nil {
		unavailable(t, "dynalite", err)
	}
	closeAtCleanup(t, "dynalite", s.Close)
	return s.Endpoint()
}

// DynamoClient returns a DynamoDB client for endpoint with static dummy
// credentials and region us-east-1, as a local server wants. optFns
// adjust the client's options (retries, for instance).
func DynamoClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("dummy", "dummy", ""),
	}, optFns...)
}
