package awssim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// A simulated organization in a process of its own, for the benchmarks
// that measure the scanner's memory: in the benchmark's process the
// simulator's heap (150 MiB for 100,000 buckets) makes every GC cycle
// longer, what is allocated while a cycle marks counts as live, and the
// scanner looks heavier the larger the organization. The test binary is
// started again (testenv.SimProcess) with ProcessEnv set, and its TestMain
// serves the organization (ServeProcess) until the benchmark ends.

// ProcessEnv carries the argument of the organization to serve to the
// test binary started by testenv.SimProcess.
const ProcessEnv = "AWSSIM_PROCESS"

// Remote is a simulated organization served by another process.
type Remote struct {
	URL    string `json:"url"`
	KeyID  string `json:"key_id"`
	Secret string `json:"secret"`
}

// Build returns the organization a process serves for arg, and the
// server's options.
type Build func(arg string) (*Fixture, []Option, error)

// ServeProcess is for TestMain, before m.Run: when ProcessEnv is set it
// serves the organization build returns for its value, prints how to
// reach it on standard output, returns once standard input closes, and
// reports true (TestMain then exits); otherwise it reports false at once.
func ServeProcess(build Build) (served bool, err error) {
	arg := os.Getenv(ProcessEnv)
	if arg == "" {
		return false, nil
	}
	fx, opts, err := build(arg)
	if err != nil {
		return true, fmt.Errorf("%s=%q: %w", ProcessEnv, arg, err)
	}
	srv, err := New(fx, opts...)
	if err != nil {
		return true, err
	}
	defer srv.Close()
	id, secret := srv.ManagementCredentials()
	if err := json.NewEncoder(os.Stdout).Encode(Remote{URL: srv.URL(), KeyID: id, Secret: secret}); err != nil {
		return true, err
	}
	_, err = io.Copy(io.Discard, os.Stdin)
	return true, err
}

// AWSConfig returns an SDK configuration that calls the remote
// organization with its management account's credentials in region.
func (r Remote) AWSConfig(ctx context.Context, region string, optFns ...func(*awsconfig.LoadOptions) error) (aws.Config, error) {
	opts := append([]func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(region),
		awsconfig.WithBaseEndpoint(r.URL),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(r.KeyID, r.Secret, "")),
	}, optFns...)
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awssim: load AWS configuration: %w", err)
	}
	return cfg, nil
}
