package awssim_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/testenv"
)

// TestMain runs the tests, or serves a fixture of testdata for
// TestStartProcess (awssim.ServeProcess).
func TestMain(m *testing.M) {
	os.Exit(testenv.ServeSimOrRun(m, func(arg string) (*awssim.Fixture, []awssim.Option, error) {
		fx, err := awssim.LoadFixture("testdata/" + arg)
		return fx, nil, err
	}))
}

// TestStartProcess: the fixture served by another process answers as
// the same fixture served here.
func TestStartProcess(t *testing.T) {
	ctx := context.Background()
	remote := testenv.SimProcess(t, "small.yaml")
	cfg, err := remote.AWSConfig(ctx, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	_, local := testenv.Sim(t, small(t))
	accounts := func(cfg aws.Config) []string {
		out, err := organizations.NewFromConfig(cfg).ListAccounts(ctx, &organizations.ListAccountsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
		return ids
	}
	got, want := accounts(cfg), accounts(local)
	if len(want) == 0 || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the process's accounts %v; want the fixture's %v", got, want)
	}
}
