package testenv

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/s3inv/scanner/internal/standin/localserver"
)

// Moto starts moto_server for t and returns its endpoint; the server is
// closed when t's cleanup runs.
func Moto(t testing.TB) string {
	t.Helper()
	s, err := localserver.StartMoto(context.Background())
	if err != nil {
		unavailable(t, "moto_server", err)
	}
	closeAtCleanup(t, "moto_server", s.Close)
	return s.Endpoint()
}

// MotoConfig returns an SDK configuration for the server at endpoint:
// static dummy credentials, region us-east-1, and the server as the
// endpoint of every service.
func MotoConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}
