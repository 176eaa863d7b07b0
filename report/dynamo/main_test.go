package dynamo

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/standin/localserver"
	"github.com/s3inv/scanner/internal/testenv"
	"github.com/s3inv/scanner/report"
)

// One dynalite server serves every test of the package; each store gets a
// table of its own.
var (
	serverOnce sync.Once
	server     *localserver.Server
	serverErr  error
	tables     atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.Close()
	}
	os.Exit(code)
}

// testClient returns a client of the shared server, skipping (CI unset)
// or failing (CI set) when it cannot start.
func testClient(t testing.TB) *dynamodb.Client {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = localserver.StartDynalite(context.Background()) })
	if serverErr != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("dynalite unavailable (set CI to make this a failure): %v", serverErr)
		}
		t.Fatalf("dynalite unavailable and CI is set: %v", serverErr)
	}
	return testenv.DynamoClient(server.Endpoint())
}

// newTestStore creates a new table and a store on it; api wraps the
// client when not nil.
func newTestStore(t testing.TB, opts report.StoreOptions, wrap func(API) API) *Store {
	t.Helper()
	var api API = testClient(t)
	if wrap != nil {
		api = wrap(api)
	}
	s, err := New(api, fmt.Sprintf("findings-%d", tables.Add(1)), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}
