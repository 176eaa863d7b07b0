//go:build !lambda

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/console"
	"github.com/s3inv/scanner/internal/app/pipeline"
	"github.com/s3inv/scanner/internal/base/awsclient"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

const usage = `Usage: scanner <command> [flags]

Commands:
  scan       scan the organization's buckets and report inventory findings
  findings   query the findings table
  dashboard  serve the findings table as a web page on 127.0.0.1
  rules      list the rule catalogue
  plan       scan, then print the changes that would fix the findings the policy lets it fix
  scp        print a service control policy that reserves inventory changes to the remediation role
  demo       scan a built-in simulated organization (no AWS account needed)
  version    print the version

Run 'scanner <command> -h' for the flags of a command.
`

// run is the command line: it returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "scan":
		return runScan(ctx, rest, stdout, stderr)
	case "findings":
		return runFindings(ctx, rest, stdout, stderr)
	case "dashboard":
		return runDashboard(ctx, rest, stdout, stderr)
	case "rules":
		return runRules(rest, stdout, stderr)
	case "plan":
		return runPlan(ctx, rest, stdout, stderr)
	case "scp":
		return runSCP(rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "version":
		if code := parseFlags(newFlagSet("version", "Print the version."), rest, stderr); code >= 0 {
			return code
		}
		fmt.Fprintln(stdout, "scanner", version)
		return exitOK
	case "-version", "--version":
		fmt.Fprintln(stdout, "scanner", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "scanner: unknown command %q; want scan, findings, dashboard, rules, plan, scp, demo or version\n", cmd)
		return exitUsage
	}
}

// newFlagSet returns a flag set whose usage names the command and says
// what it does; parseFlags decides when to show it (only for -h).
func newFlagSet(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: scanner %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and turns flag errors into exit codes: 0 for -h
// (usage printed), 2 with a one-line message otherwise; -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) int {
	// The flag package prints its message and the usage on every error:
	// keep them, and show the usage only when it was asked for.
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		stderr.Write(usage.Bytes())
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "scanner %s: %v\n", fs.Name(), err)
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "scanner %s: unexpected argument %q; flags only\n", fs.Name(), fs.Arg(0))
		return exitUsage
	}
	return -1
}

// listFlag is a comma-separated list flag.
type listFlag struct{ p *[]string }

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}
func (l listFlag) Set(s string) error { *l.p = config.List(s); return nil }

// severityFlag is an optional severity threshold.
type severityFlag struct{ s *rules.Severity }

func (f severityFlag) String() string {
	if f.s == nil || *f.s == 0 {
		return ""
	}
	return f.s.String()
}
func (f severityFlag) Set(v string) error { return f.s.UnmarshalText([]byte(v)) }

// flagVars maps each flag of bindConfig to the environment variables it
// overrides, so that errors name the flag when the user typed it.
var flagVars = map[string][]string{
	"accounts":            {"SCANNER_ACCOUNTS", "SCANNER_ACCOUNT_SOURCE"},
	"org":                 {"SCANNER_ACCOUNT_SOURCE"},
	"include-ous":         {"SCANNER_INCLUDE_OUS"},
	"exclude-ous":         {"SCANNER_EXCLUDE_OUS"},
	"include-accounts":    {"SCANNER_INCLUDE_ACCOUNTS"},
	"exclude-accounts":    {"SCANNER_EXCLUDE_ACCOUNTS"},
	"role-name":           {"SCANNER_ROLE_NAME"},
	"external-id":         {"SCANNER_EXTERNAL_ID"},
	"session-name":        {"SCANNER_SESSION_NAME"},
	"account-concurrency": {"SCANNER_ACCOUNT_CONCURRENCY"},
	"bucket-concurrency":  {"SCANNER_BUCKET_CONCURRENCY"},
	"policy":              {"SCANNER_POLICY_FILE"},
	"table":               {"SCANNER_TABLE"},
}

// flagNames says which settings the command line set, and by which flag
// (config.Names); it fails when two flags contradict each other.
func flagNames(fs *flag.FlagSet) (config.Names, error) {
	names, set := config.Names{}, map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		set[f.Name] = true
		for _, v := range flagVars[f.Name] {
			names[v] = "--" + f.Name
		}
	})
	if set["accounts"] && set["org"] {
		return nil, errors.New("--accounts and --org: want one of them (a list of accounts, or the organization's)")
	}
	return names, nil
}

// bindConfig declares the flags that override the configuration loaded
// from the environment.
func bindConfig(fs *flag.FlagSet, c *config.Config) {
	fs.Func("accounts", "scan these account IDs (comma-separated) instead of the organization's", func(s string) error {
		c.Accounts, c.AccountSource = config.List(s), config.SourceStatic
		return nil
	})
	fs.BoolFunc("org", "scan the accounts AWS Organizations lists (the default)", func(string) error {
		c.AccountSource, c.Accounts = config.SourceOrganizations, nil
		return nil
	})
	fs.Var(listFlag{&c.Filter.IncludeOUs}, "include-ous", "scan only accounts under these OU or root IDs")
	fs.Var(listFlag{&c.Filter.ExcludeOUs}, "exclude-ous", "skip accounts under these OU or root IDs")
	fs.Var(listFlag{&c.Filter.IncludeAccounts}, "include-accounts", "scan only these account IDs")
	fs.Var(listFlag{&c.Filter.ExcludeAccounts}, "exclude-accounts", "skip these account IDs")
	fs.StringVar(&c.RoleName, "role-name", c.RoleName, "member role name; {account_id} is replaced (never the whole name)")
	fs.StringVar(&c.ExternalID, "external-id", c.ExternalID, "ExternalId sent with AssumeRole")
	fs.StringVar(&c.SessionName, "session-name", c.SessionName, "role session name")
	fs.IntVar(&c.AccountConcurrency, "account-concurrency", c.AccountConcurrency, "accounts started at once (role assumed, buckets listed)")
	fs.IntVar(&c.BucketConcurrency, "bucket-concurrency", c.BucketConcurrency, "AWS requests in flight per account slot (account-concurrency × this, shared by all accounts)")
	fs.StringVar(&c.PolicyFile, "policy", c.PolicyFile, "policy file (YAML or JSON); default: the built-in policy")
	fs.StringVar(&c.Table, "table", c.Table, "DynamoDB findings table to write (default: none)")
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return code
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return fail(exitUsage, err)
	}
	fs := newFlagSet("scan", "Scan every bucket of every account for S3 Inventory compliance and print the findings.\nAWS credentials, region and endpoints come from the SDK's standard configuration.")
	bindConfig(fs, &cfg)
	format := fs.String("format", "json", "output: json (one finding per line), table, csv or ocsf (OCSF Compliance Findings, one per line)")
	var failOn rules.Severity
	fs.Var(severityFlag{&failOn}, "fail-on", "exit 3 when an open finding is at or above this severity (CRITICAL, HIGH, MEDIUM, LOW, INFO)")
	verbose := fs.Bool("v", false, "log progress and failures to stderr")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	out, err := outputSink(*format, stdout)
	if err != nil {
		return fail(exitUsage, err)
	}
	policy, err := scanPolicy(fs, &cfg, "scan", stderr)
	if err != nil {
		return fail(exitUsage, err)
	}

	s, store, _, err := wire(ctx, cfg)
	if err != nil {
		return fail(exitCode(err), err)
	}
	sinks := []report.Sink{out}
	if store != nil {
		sinks = append(sinks, store)
	}
	gate := report.NewGate(failOn)
	sinks = append(sinks, gate)

	logLevel := slog.LevelError + 1 // quiet: failures are findings
	if *verbose {
		logLevel = slog.LevelInfo
	}
	prog := console.NewProgressBar(stderr)
	s.Policy, s.Sink, s.Trigger, s.Progress = policy, report.Fanout(sinks...), "cli", prog.Update
	s.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel}))
	sum, err := pipeline.Run(ctx, s)
	prog.Done()
	if sum.ScanID != "" {
		fmt.Fprintf(stderr, "scan %s: %s (%d complete, %d failed, %d incomplete), %s, %s, %s in %s\n",
			sum.ScanID, console.Count(sum.AccountsComplete+sum.AccountsFailed+sum.AccountsIncomplete, "account", ""),
			sum.AccountsComplete, sum.AccountsFailed, sum.AccountsIncomplete, console.Count(sum.Buckets, "bucket", ""),
			console.Count(sum.Configs, "configuration", ""), console.Count(sum.Findings(), "finding", ""), sum.Duration().Round(time.Millisecond))
	}
	if err != nil {
		return fail(exitCode(err), err)
	}
	if n := gate.Count(); n > 0 {
		return fail(exitFindings, fmt.Errorf("%s at or above %s", console.Count(n, "open finding", ""), failOn))
	}
	return exitOK
}

// scanPolicy checks the configuration of a command that scans (its flags
// bound by bindConfig to fs and cfg) and loads its policy, printing the
// policy's notices to stderr as warnings of cmd.
func scanPolicy(fs *flag.FlagSet, cfg *config.Config, cmd string, stderr io.Writer) (*rules.Policy, error) {
	names, err := flagNames(fs)
	if err != nil {
		return nil, err
	}
	if cfg.PolicyFile != "" && names["SCANNER_POLICY_FILE"] != "" {
		cfg.Policy = "" // the flag wins over SCANNER_POLICY
	}
	if err := cfg.ValidateAs(names); err != nil {
		return nil, err
	}
	policy, err := cfg.LoadPolicy()
	if err != nil {
		return nil, err
	}
	for _, n := range policy.Notices(time.Now()) {
		fmt.Fprintf(stderr, "scanner %s: warning: %s\n", cmd, n)
	}
	return policy, nil
}

// openTable opens the findings table of a command that reads it
// (--table or SCANNER_TABLE), after checking the configuration; on error
// it returns the exit code too.
func openTable(ctx context.Context, fs *flag.FlagSet, cfg config.Config) (*dynamo.Store, int, error) {
	if cfg.Table == "" {
		return nil, exitUsage, errors.New("no table; set --table or SCANNER_TABLE")
	}
	names, err := flagNames(fs)
	if err != nil {
		return nil, exitUsage, err
	}
	if err := cfg.ValidateAs(names); err != nil {
		return nil, exitUsage, err
	}
	awsCfg, err := loadAWS(ctx, cfg)
	if err != nil {
		return nil, exitCode(err), err
	}
	store, err := newStore(awsCfg, cfg, nil)
	if err != nil {
		return nil, exitUsage, err
	}
	return store, exitOK, nil
}

// exitCode is the exit code for an error that stopped a run: a usage
// error for what the user must fix in their configuration (no region),
// 1 for everything else.
func exitCode(err error) int {
	if errors.Is(err, awsclient.ErrNoRegion) {
		return exitUsage
	}
	return exitError
}

func runRules(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rules", "List the rule catalogue.")
	format := fs.String("format", "table", "output: table or json")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	all := rules.All()
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			fmt.Fprintf(stderr, "scanner rules: %v\n", err)
			return exitError
		}
	case "table":
		if err := console.Catalogue(stdout, all); err != nil {
			fmt.Fprintf(stderr, "scanner rules: %v\n", err)
			return exitError
		}
	default:
		fmt.Fprintf(stderr, "scanner rules: -format %q: want table or json\n", *format)
		return exitUsage
	}
	return exitOK
}
