package dynalite

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// ForTest starts a server for t and returns its endpoint; the server is
// closed when t's cleanup runs. When the server cannot start, t is skipped
// with the reason if the environment variable CI is unset, and fails if
// CI is set: in CI a missing server is a broken build, not a skip.
func ForTest(t testing.TB) string {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("dynalite unavailable (set CI to make this a failure): %v", err)
		}
		t.Fatalf("dynalite unavailable and CI is set: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close dynalite: %v", err)
		}
	})
	return s.Endpoint()
}

// Client returns a DynamoDB client for endpoint with static dummy
// credentials and region us-east-1, as a local server wants. optFns
// adjust the client's options (retries, for instance).
func Client(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("dummy", "dummy", ""),
	}, optFns...)
}
