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
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/s3inv/scanner/internal/config"
	"github.com/s3inv/scanner/internal/inventory"
	"github.com/s3inv/scanner/internal/pipeline"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1 // the run failed
	exitUsage    = 2 // bad flags, configuration or input
	exitFindings = 3 // --fail-on: an open finding at or above the threshold
)

const usage = `Usage: scanner <command> [flags]

Commands:
  scan       scan the organization's buckets and report inventory findings
  findings   query the findings table
  rules      list the rule catalogue
  demo       scan a built-in simulated organization (no AWS account needed)
  version    print the version

Run 'scanner <command> -h' for the flags of a command.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
	case "rules":
		return runRules(rest, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "scanner", version)
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "scanner: unknown command %q; want scan, findings, rules, demo or version\n", cmd)
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

// bindConfig declares the flags that override the configuration loaded
// from the environment.
func bindConfig(fs *flag.FlagSet, c *config.Config) {
	fs.Func("accounts", "scan these account IDs (comma-separated) instead of the organization's", func(s string) error {
		c.Accounts, c.AccountSource = config.List(s), config.SourceStatic
		return nil
	})
	fs.BoolFunc("org", "scan the accounts AWS Organizations lists (the default)", func(string) error {
		c.AccountSource = config.SourceOrganizations
		return nil
	})
	fs.Var(listFlag{&c.Filter.IncludeOUs}, "include-ous", "scan only accounts under these OU or root IDs")
	fs.Var(listFlag{&c.Filter.ExcludeOUs}, "exclude-ous", "skip accounts under these OU or root IDs")
	fs.Var(listFlag{&c.Filter.IncludeAccounts}, "include-accounts", "scan only these account IDs")
	fs.Var(listFlag{&c.Filter.ExcludeAccounts}, "exclude-accounts", "skip these account IDs")
	fs.StringVar(&c.RoleName, "role-name", c.RoleName, "member role name; {account_id} is replaced")
	fs.StringVar(&c.ExternalID, "external-id", c.ExternalID, "ExternalId sent with AssumeRole")
	fs.StringVar(&c.SessionName, "session-name", c.SessionName, "role session name")
	fs.IntVar(&c.AccountConcurrency, "account-concurrency", c.AccountConcurrency, "accounts started at once (role assumed, buckets listed)")
	fs.IntVar(&c.BucketConcurrency, "bucket-concurrency", c.BucketConcurrency, "AWS requests in flight per account slot (account-concurrency × this, shared by all accounts)")
	fs.StringVar(&c.PolicyFile, "policy", c.PolicyFile, "policy file (YAML or JSON); default: the built-in policy")
	fs.StringVar(&c.Table, "table", c.Table, "DynamoDB findings table to write (default: none)")
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitUsage
	}
	fs := newFlagSet("scan", "Scan every bucket of every account for S3 Inventory compliance and print the findings.\nAWS credentials, region and endpoints come from the SDK's standard configuration.")
	bindConfig(fs, &cfg)
	format := fs.String("format", "json", "output: json (one finding per line), table or csv")
	var failOn rules.Severity
	fs.Var(severityFlag{&failOn}, "fail-on", "exit 3 when an open finding is at or above this severity (CRITICAL, HIGH, MEDIUM, LOW, INFO)")
	verbose := fs.Bool("v", false, "log progress and failures to stderr")
	if code := parseFlags(fs, args, stderr); code >= 0 {
		return code
	}
	if cfg.PolicyFile != "" {
		cfg.Policy = "" // the flag wins over SCANNER_POLICY
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitUsage
	}
	out, err := outputSink(*format, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitUsage
	}
	policy, err := cfg.LoadPolicy()
	if err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitUsage
	}
	for _, n := range pipeline.PolicyNotices(policy, time.Now()) {
		fmt.Fprintf(stderr, "scanner scan: warning: %s\n", n)
	}

	awsCfg, err := pipeline.LoadAWS(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitError
	}
	sinks := []report.Sink{out}
	if cfg.Table != "" {
		store, err := newStore(awsCfg, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "scanner scan: %v\n", err)
			return exitError
		}
		sinks = append(sinks, store)
	}
	gate := &gateSink{threshold: failOn}
	sinks = append(sinks, gate)

	logLevel := slog.LevelError + 1 // quiet: failures are findings
	if *verbose {
		logLevel = slog.LevelInfo
	}
	prog := newProgress(stderr)
	sum, err := pipeline.Run(ctx, pipeline.Settings{
		Config:   cfg,
		Policy:   policy,
		AWS:      awsCfg,
		Sink:     pipeline.Fanout(sinks...),
		Trigger:  "cli",
		Logger:   slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel})),
		Progress: prog.update,
	})
	prog.done()
	if err != nil {
		fmt.Fprintf(stderr, "scanner scan: %v\n", err)
		return exitError
	}
	fmt.Fprintf(stderr, "scan %s: %d accounts (%d complete, %d failed, %d incomplete), %d buckets, %d configurations, %d findings in %s\n",
		sum.ScanID, sum.AccountsComplete+sum.AccountsFailed+sum.AccountsIncomplete, sum.AccountsComplete, sum.AccountsFailed,
		sum.AccountsIncomplete, sum.Buckets, sum.Configs, sum.Findings(), sum.Duration().Round(time.Millisecond))
	if gate.tripped() {
		fmt.Fprintf(stderr, "scanner scan: %d open findings at or above %s\n", gate.count(), failOn)
		return exitFindings
	}
	return exitOK
}

// gateSink counts the open findings at or above a threshold (--fail-on).
type gateSink struct {
	threshold rules.Severity
	mu        sync.Mutex
	n         int
}

func (g *gateSink) Begin(context.Context, report.Run) error { return nil }
func (g *gateSink) End(context.Context, report.Run) error   { return nil }
func (g *gateSink) AccountDone(context.Context, string, inventory.AccountResult) error {
	return nil
}
func (g *gateSink) Put(_ context.Context, fs []rules.Finding) error {
	if g.threshold == 0 {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, f := range fs {
		if f.Status == rules.StatusOpen && f.Severity >= g.threshold {
			g.n++
		}
	}
	return nil
}
func (g *gateSink) count() int    { g.mu.Lock(); defer g.mu.Unlock(); return g.n }
func (g *gateSink) tripped() bool { return g.threshold != 0 && g.count() > 0 }

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
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSEVERITY\tLEVEL\tTITLE")
		for _, r := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Severity, r.Level, r.Title)
		}
		tw.Flush()
	default:
		fmt.Fprintf(stderr, "scanner rules: -format %q: want table or json\n", *format)
		return exitUsage
	}
	return exitOK
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor reports whether to colour output for w: a terminal, and
// NO_COLOR unset (https://no-color.org).
func useColor(w io.Writer) bool {
	return isTerminal(w) && os.Getenv("NO_COLOR") == ""
}
