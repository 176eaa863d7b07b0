package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// ForTest starts a simulator of fx for a test, closed when the test ends,
// and returns it with an SDK configuration that reaches it in us-east-1
// with the management credentials and FastRetries.
func ForTest(t testing.TB, fx *Fixture, opts ...Option) (*Server, aws.Config) {
	t.Helper()
	srv, err := New(fx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(context.Background(), "us-east-1", FastRetries)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}
