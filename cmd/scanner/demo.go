//go:build !lambda

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/console"
	"github.com/s3inv/scanner/internal/app/demo"
	"github.com/s3inv/scanner/internal/standin/awssim"
	"github.com/s3inv/scanner/internal/standin/localserver"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

// demoTable is the findings table the demo writes.
const demoTable = "s3-inventory-findings"

// scheduledEvent is what EventBridge sends the function on schedule; the
// demo invokes the function's handler with it.
const scheduledEventJSON = `{"version":"0","id":"5d3c9f1e-demo","detail-type":"Scheduled Event","source":"aws.events",` +
	`"account":"100000000001","time":"2026-01-01T06:00:00Z","region":"us-east-1","resources":[],"detail":{}}`

const demoSynopsis = `Scan a built-in simulated organization (25 accounts in 5 OUs, 300 buckets in
5 regions) through the same code as the Lambda function, and print a
dashboard. No AWS account needed: the simulated organization speaks the AWS
APIs on a loopback port. With -dynalite or -endpoint the findings table is
written to DynamoDB as well. With -plan it prints instead the plan that
would fix the findings the demo's policy lets it fix (as scanner plan does).`

// demoFlags are the flags of `scanner demo`.
type demoFlags struct {
	dynalite                  bool
	endpoint, table, findings string
	json, keep, dashboard     bool
	plan                      bool
	port                      int
}

// runDemo is `scanner demo`: it starts the simulated organization (and
// dynalite), runs the Lambda function's handler over it with a scheduled
// event, prints the outcome, and with --keep keeps them running.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code := parseDemoFlags(args, stderr)
	if code >= 0 {
		return code
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "scanner demo: %v\n", err)
		return code
	}
	var extra []report.Sink
	if f.findings != "" {
		out, err := outputSink(f.findings, stdout)
		if err != nil {
			return fail(exitUsage, fmt.Errorf("--findings: %w", err))
		}
		extra = append(extra, out)
	}

	sim, err := awssim.New(demo.Organization())
	if err != nil {
		return fail(exitError, err)
	}
	defer sim.Close()
	if f.plan {
		return demoPlan(ctx, sim, stdout, stderr)
	}
	if f.dynalite {
		db, err := localserver.StartDynalite(ctx)
		if err != nil {
			return fail(exitError, err)
		}
		defer db.Close()
		f.endpoint = db.Endpoint()
	}

	policy := demo.Policy(time.Now())
	cfg, err := demoConfig(f, policy)
	if err != nil {
		return fail(exitUsage, err)
	}
	fn, err := newDemoFunction(ctx, sim, cfg, f.endpoint, stderr, extra)
	if err != nil {
		return fail(exitError, err)
	}
	prog := console.NewProgressBar(stderr)
	fn.run.Progress = prog.Update
	sum, err := fn.handle(ctx, json.RawMessage(scheduledEventJSON))
	prog.Done()
	if err != nil {
		return fail(exitError, err)
	}

	policyFile, err := printDemo(stdout, sim, sum, cfg, f, policy)
	if policyFile != "" {
		defer os.Remove(policyFile)
	}
	if err != nil {
		return fail(exitError, err)
	}
	if f.keep {
		if err := keepDemo(ctx, sim, fn.store, cfg.Table, f, stderr); err != nil {
			return fail(exitError, err)
		}
	}
	return exitOK
}

// parseDemoFlags reads and checks the demo's flags; a code of 0 or more
// is the exit code to return (the usage printed, or the error).
func parseDemoFlags(args []string, stderr io.Writer) (demoFlags, int) {
	var f demoFlags
	fs := newFlagSet("demo", demoSynopsis)
	fs.BoolVar(&f.dynalite, "dynalite", false, "start a local DynamoDB (dynalite, from node_modules: make deps) and write the findings table to it")
	fs.StringVar(&f.endpoint, "endpoint", "", "write the findings table to the DynamoDB API at this URL (e.g. http://127.0.0.1:8000)")
	fs.StringVar(&f.table, "table", demoTable, "findings table name")
	fs.StringVar(&f.findings, "findings", "", "also print every finding: table, json or csv")
	fs.BoolVar(&f.json, "json", false, "print the run's summary as JSON instead of the dashboard")
	fs.BoolVar(&f.keep, "keep", false, "keep the simulated organization and dynalite running until interrupted, to try queries")
	fs.BoolVar(&f.dashboard, "dashboard", false, "serve the findings table as a web page on 127.0.0.1 until interrupted (with --dynalite or --endpoint; implies --keep)")
	fs.IntVar(&f.port, "port", 0, "with --dashboard: the page's port (0: any free port)")
	fs.BoolVar(&f.plan, "plan", false, "print the plan that would fix the demo's findings (scanner plan) instead of the dashboard")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return f, code
	}
	var err error
	switch {
	case f.dynalite && f.endpoint != "":
		err = fmt.Errorf("--dynalite and --endpoint %q: want at most one", f.endpoint)
	case f.plan && (f.dynalite || f.endpoint != "" || f.findings != "" || f.json || f.keep || f.dashboard):
		err = errors.New("--plan prints the plan alone; want none of --dynalite, --endpoint, --findings, --json, --keep, --dashboard with it")
	case f.dashboard && !f.dynalite && f.endpoint == "":
		err = errors.New("--dashboard shows the findings table; want --dynalite or --endpoint too")
	default:
		err = checkPort(f.port)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanner demo: %v\n", err)
		return f, exitUsage
	}
	f.keep = f.keep || f.dashboard
	return f, -1
}

// demoPlan scans the simulated organization with the demo's policy and
// prints the plan of its remediation section, through the code of
// `scanner plan`.
func demoPlan(ctx context.Context, sim *awssim.Server, stdout, stderr io.Writer) int {
	cfg, err := demoConfig(demoFlags{}, demo.Policy(time.Now()))
	if err != nil {
		fmt.Fprintf(stderr, "scanner demo: %v\n", err)
		return exitUsage
	}
	policy, err := cfg.LoadPolicy()
	if err == nil {
		err = pointAWSAt(sim, "")
	}
	if err != nil {
		fmt.Fprintf(stderr, "scanner demo: %v\n", err)
		return exitError
	}
	plan, sum, err := scanAndPlan(ctx, cfg, policy, false, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "scanner demo: %v\n", err)
		return exitCode(err)
	}
	return writePlan("demo", plan, sum, "text", "", stdout, stderr)
}

// demoConfig is the function's configuration, read as it is in Lambda:
// SCANNER_* from its environment, here the demo's member role, its
// ExternalId, its policy and, when the findings go to a DynamoDB
// endpoint, the table.
func demoConfig(f demoFlags, policy string) (config.Config, error) {
	env := map[string]string{
		"SCANNER_ROLE_NAME":   demo.RoleName,
		"SCANNER_EXTERNAL_ID": demo.ExternalID,
		"SCANNER_POLICY":      policy,
	}
	if f.endpoint != "" {
		env["SCANNER_TABLE"] = f.table
	}
	return config.FromEnv(func(k string) string { return env[k] })
}

// newDemoFunction builds the Lambda function over the simulated
// organization, its AWS settings read through the SDK's standard chain
// (pointAWSAt), DynamoDB at endpoint when set, and creates the table
// there: a local DynamoDB starts empty, where the deployed table comes
// from the SAM template. extra are the sinks besides the table.
func newDemoFunction(ctx context.Context, sim *awssim.Server, cfg config.Config, endpoint string, stderr io.Writer, extra []report.Sink) (*function, error) {
	if err := pointAWSAt(sim, endpoint); err != nil {
		return nil, err
	}
	// What could not be scanned is on the dashboard; the log says only
	// what went wrong with the run itself.
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	fn, err := buildFunction(ctx, cfg, log, extra...)
	if err != nil {
		return nil, err
	}
	if fn.store != nil {
		if err := fn.store.EnsureTable(ctx); err != nil {
			return nil, err
		}
	}
	return fn, nil
}

// printDemo prints the run's summary: as JSON with --json, otherwise as
// the dashboard with the commands to dig further, and with --keep the
// command that scans the kept organization again. It returns the policy
// file that command reads, for the caller to remove when the demo ends.
func printDemo(stdout io.Writer, sim *awssim.Server, sum report.Summary, cfg config.Config, f demoFlags, policy string) (policyFile string, err error) {
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return "", enc.Encode(sum)
	}
	queries := demoQueries(cfg.Table, f.endpoint, f.keep)
	if f.keep {
		scanCmd, err := keptScanCommand(sim, cfg.Table, f.endpoint, policy)
		if err != nil {
			return "", err
		}
		policyFile = scanCmd.policyFile
		queries = append(queries, scanCmd.lines...)
	}
	d := console.Dashboard{Summary: sum, Color: console.UseColor(stdout), Queries: queries}
	return policyFile, d.Write(stdout)
}

// keepDemo says where the simulated organization and the table are, then
// keeps them (and, with --dashboard, the findings table's web page on
// f.port) until ctx is done.
func keepDemo(ctx context.Context, sim *awssim.Server, store *dynamo.Store, table string, f demoFlags, stderr io.Writer) error {
	fmt.Fprintf(stderr, "Simulated organization at %s", sim.URL())
	if f.endpoint != "" {
		fmt.Fprintf(stderr, ", findings table %s at %s", table, f.endpoint)
	}
	fmt.Fprintln(stderr, ". Press Ctrl-C to stop.")
	if f.dashboard && store != nil {
		if err := serveDashboard(ctx, store, table, f.port, stderr); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return nil
}

// keptScan is how to scan the simulated organization that --keep keeps
// running, with the demo's policy (written to policyFile).
type keptScan struct {
	policyFile string
	lines      []string
}

// keptScanCommand returns the command that scans the kept simulated
// organization again, exactly as the demo did: its endpoint and
// management credentials, the member role and its ExternalId, the demo's
// policy, and the findings table when there is one.
func keptScanCommand(sim *awssim.Server, table, endpoint, policy string) (keptScan, error) {
	f, err := os.CreateTemp("", "scanner-demo-policy-*.yaml")
	if err != nil {
		return keptScan{}, err
	}
	defer f.Close()
	if _, err := f.WriteString(policy); err != nil {
		return keptScan{}, errors.Join(err, os.Remove(f.Name()))
	}
	id, secret := sim.ManagementCredentials()
	cmd := fmt.Sprintf("AWS_ENDPOINT_URL=%s AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s "+
		"go run ./cmd/scanner scan --role-name %s --external-id %s --policy %s --format table",
		sim.URL(), id, secret, demo.RoleName, demo.ExternalID, f.Name())
	if table != "" {
		cmd = "AWS_ENDPOINT_URL_DYNAMODB=" + endpoint + " " + cmd + " --table " + table
	}
	return keptScan{policyFile: f.Name(), lines: []string{"", "Scan the simulated organization again (it runs until Ctrl-C):", cmd}}, nil
}

// pointAWSAt sends the SDK's standard configuration to the simulated
// organization (and DynamoDB to dynamo when set), with its management
// credentials, exactly as AWS_ENDPOINT_URL and friends would in Lambda.
// Profiles and shared files are set aside so nothing of the user's real
// AWS configuration is used.
func pointAWSAt(sim *awssim.Server, dynamo string) error {
	id, secret := sim.ManagementCredentials()
	set := map[string]string{
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           id,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_ENDPOINT_URL":            sim.URL(),
		"AWS_ENDPOINT_URL_DYNAMODB":   dynamo,
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_ORGANIZATIONS"} {
		if err := os.Unsetenv(k); err != nil {
			return err
		}
	}
	for k, v := range set {
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("set %s: %w", k, err)
		}
	}
	if dynamo == "" {
		return os.Unsetenv("AWS_ENDPOINT_URL_DYNAMODB")
	}
	return nil
}

// demoQueries are the commands the dashboard suggests to dig further.
func demoQueries(table, endpoint string, keep bool) []string {
	if table == "" {
		return []string{
			"scanner demo --findings table         every finding, most severe first",
			"scanner demo --dynalite --keep        write the findings table and keep it to query",
			"scanner demo --dynalite --dashboard   see the findings table in a browser",
			"scanner rules                         what each rule checks",
		}
	}
	// AWS_DEFAULT_REGION is for the AWS CLI v1, which does not read
	// AWS_REGION.
	env := "AWS_ENDPOINT_URL_DYNAMODB=" + endpoint + " AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo"
	qs := []string{
		"export " + env,
		fmt.Sprintf("go run ./cmd/scanner findings --table %s --severity CRITICAL", table),
		fmt.Sprintf("go run ./cmd/scanner findings --table %s --account %s", table, demo.DataLake),
		fmt.Sprintf("go run ./cmd/scanner findings --table %s --scans", table),
		fmt.Sprintf("go run ./cmd/scanner dashboard --table %s --port 0", table),
		awsQueryExample(table, endpoint),
	}
	if !keep {
		qs = append(qs, "(the demo's dynalite stops now: run `go run ./cmd/scanner demo --dynalite --keep` to keep it for these)")
	}
	return qs
}

// awsQueryExample is an AWS CLI command that reads the open CRITICAL
// findings, newest first, from the table at endpoint.
func awsQueryExample(table, endpoint string) string {
	return fmt.Sprintf(`aws dynamodb query --endpoint-url %s --table-name %s --index-name %s `+
		`--key-condition-expression "open_severity = :s" --expression-attribute-values '{":s":{"S":"CRITICAL"}}' `+
		`--no-scan-index-forward --max-items 5`, endpoint, table, dynamo.IndexOpenBySeverity)
}
