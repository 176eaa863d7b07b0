package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3inv/scanner/internal/standin/awssim"
)

// Sim starts a simulator of fx for t, closed when t ends, and returns it
// with an SDK configuration that reaches it in us-east-1 with the
// management credentials and awssim.FastRetries.
func Sim(t testing.TB, fx *awssim.Fixture, opts ...awssim.Option) (*awssim.Server, aws.Config) {
	t.Helper()
	srv, err := awssim.New(fx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	cfg, err := srv.AWSConfig(context.Background(), "us-east-1", awssim.FastRetries)
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg
}

// SimProcess starts the test binary again to serve the organization of
// arg (awssim.ServeProcess in its TestMain, see ServeSimOrRun), until tb
// ends: the benchmarks that measure the scanner's memory keep the
// simulator's heap out of their own.
func SimProcess(tb testing.TB, arg string) awssim.Remote {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), awssim.ProcessEnv+"="+arg)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	var r awssim.Remote
	if err := json.NewDecoder(stdout).Decode(&r); err != nil {
		tb.Fatalf("simulated organization process (%s=%s): %v", awssim.ProcessEnv, arg, err)
	}
	return r
}

// ServeSimOrRun is a test binary's TestMain: it serves the organization
// of awssim.ProcessEnv (awssim.ServeProcess) when set, or runs the tests,
// and returns the exit code.
func ServeSimOrRun(m *testing.M, build awssim.Build) int {
	served, err := awssim.ServeProcess(build)
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, "simulated organization:", err)
		return 1
	case served:
		return 0
	}
	return m.Run()
}
