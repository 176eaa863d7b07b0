package moto

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
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
			t.Skipf("moto_server unavailable (set CI to make this a failure): %v", err)
		}
		t.Fatalf("moto_server unavailable and CI is set: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close moto_server: %v", err)
		}
	})
	return s.Endpoint()
}

// Config returns an SDK configuration for the server at endpoint: static
// dummy credentials, region us-east-1, and the server as the endpoint of
// every service.
func Config(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}
