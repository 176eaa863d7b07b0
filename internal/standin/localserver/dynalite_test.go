package localserver_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/internal/standin/localserver"
	"github.com/s3inv/scanner/internal/testenv"
)

func TestDynaliteAnswersDynamoDB(t *testing.T) {
	endpoint := testenv.Dynalite(t)
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint() = %q; want http://127.0.0.1:PORT", endpoint)
	}
	ctx := context.Background()
	db := testenv.DynamoClient(endpoint)
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("probe"),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String("probe")})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if got := out.Table.TableStatus; got != types.TableStatusActive {
		t.Errorf("table status right after CreateTable = %s; want ACTIVE (--createTableMs 0)", got)
	}
}

func TestDynaliteCloseStopsTheProcessGroup(t *testing.T) {
	s, err := localserver.StartDynalite(context.Background())
	if err != nil {
		skipOrFail(t, err)
	}
	pid := s.Pid()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The group is gone: signal 0 to it fails with ESRCH.
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(-%d, 0) after Close = %v; want ESRCH (no process left)", pid, err)
	}
	db := testenv.DynamoClient(s.Endpoint())
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }); err == nil {
		t.Error("ListTables after Close succeeded; want a connection error")
	}
}

func TestDynaliteEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := localserver.StartDynalite(ctx)
	if err != nil {
		cancel()
		skipOrFail(t, err)
	}
	cancel()
	<-s.Done() // the watcher kills it
	if err := s.Close(); err != nil {
		t.Errorf("Close after cancel: %v", err)
	}
}

func TestDynaliteScriptOverride(t *testing.T) {
	t.Setenv(localserver.EnvDynaliteScript, filepath.Join(t.TempDir(), "missing.js"))
	_, err := localserver.DynaliteScript()
	if err == nil || !strings.Contains(err.Error(), localserver.EnvDynaliteScript) {
		t.Fatalf("localserver.DynaliteScript() with a missing override = %v; want an error naming %s", err, localserver.EnvDynaliteScript)
	}
	if _, err := localserver.StartDynalite(context.Background()); err == nil {
		t.Fatal("StartDynalite with a missing script succeeded")
	}
}

func TestDynaliteScriptNotFound(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("touch", filepath.Join(dir, "go.mod")).Run(); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(localserver.EnvDynaliteScript, "")
	_, err := localserver.DynaliteScript()
	if err == nil || !strings.Contains(err.Error(), "make deps") {
		t.Fatalf("localserver.DynaliteScript() in a module without node_modules = %v; want an error that says to run make deps", err)
	}
}

// skipOrFail applies testenv.Dynalite's rule to a failed Start.
func skipOrFail(t *testing.T, err error) {
	t.Helper()
	if os.Getenv("CI") == "" {
		t.Skipf("dynalite unavailable (set CI to make this a failure): %v", err)
	}
	t.Fatalf("StartDynalite: %v", err)
}
