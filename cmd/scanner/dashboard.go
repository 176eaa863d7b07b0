//go:build !lambda

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/report"
)

const dashboardSynopsis = `Serve the findings table as a web page on 127.0.0.1, until interrupted:
open findings (CRITICAL and HIGH first), the worst accounts, what was not
fully scanned and why, and the scan history, with filters by account, rule
and severity. The page needs no JavaScript and reads the table only through
its key and indexes (never a Scan). It answers only requests addressed to
127.0.0.1, localhost or [::1] with its port (421 to any other Host, such as
a web page's whose name was made to resolve to 127.0.0.1).
The table is --table, or SCANNER_TABLE. AWS credentials, region and endpoint
(AWS_ENDPOINT_URL_DYNAMODB) come from the SDK's standard configuration.`

// defaultDashboardPort is where `scanner dashboard` listens unless told.
const defaultDashboardPort = 8080

func runDashboard(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "scanner dashboard: %v\n", err)
		return code
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fail(exitUsage, err)
	}
	fs := newFlagSet("dashboard", dashboardSynopsis)
	fs.StringVar(&cfg.Table, "table", cfg.Table, "DynamoDB findings table (default: $SCANNER_TABLE)")
	port := fs.Int("port", defaultDashboardPort, "port on 127.0.0.1 (0: any free port)")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if err := checkPort(*port); err != nil {
		return fail(exitUsage, err)
	}
	store, code, err := openTable(ctx, fs, cfg)
	if err != nil {
		return fail(code, err)
	}
	// Read the table once before serving it: a wrong name, endpoint or
	// credentials is an error now, not a page later.
	if _, err := store.Runs(ctx, 1); err != nil {
		return fail(exitError, fmt.Errorf("read table %s: %w", cfg.Table, err))
	}
	if err := serveDashboard(ctx, store, cfg.Table, *port, stdout); err != nil {
		return fail(exitError, err)
	}
	return exitOK
}

// checkPort accepts 0 (any free port) to 65535.
func checkPort(port int) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("--port %d: want 0 (any free port) to 65535", port)
	}
	return nil
}

// serveDashboard serves the dashboard of the table (q, named table) on
// 127.0.0.1:port to requests whose Host is a loopback name with that port
// (webui.LoopbackOnly: 421 to any other), prints its URL to stdout, and
// returns once ctx is done and the requests in flight have been answered.
func serveDashboard(ctx context.Context, q report.Querier, table string, port int, stdout io.Writer) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	// Only requests addressed to a loopback name with this port: another
	// Host is a page of another site reaching here (DNS rebinding).
	srv := &http.Server{
		Handler:           webui.LoopbackOnly(&webui.Dashboard{Store: q, Title: table}, ln.Addr().(*net.TCPAddr).Port),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	fmt.Fprintf(stdout, "Dashboard of table %s: http://%s/ (Ctrl-C to stop)\n", table, ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("dashboard: %w", err)
	case <-ctx.Done():
	}
	stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(stop); err != nil {
		return fmt.Errorf("dashboard: stop: %w", err)
	}
	return nil
}
