package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3inv/scanner/internal/app/config"
	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/scan"
)

// TestFunction checks how the function is built and run: what `sam build`
// and the provided.al2023 runtime expect, one run at a time.
func TestFunction(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	fns := tpl.Typed.GetAllServerlessFunctionResources()
	if len(fns) != 3 {
		t.Fatalf("template.yaml: %d AWS::Serverless::Function resources; want three, ScannerFunction, WorkerFunction and DashboardFunction", len(fns))
	}
	fn, ok := fns["ScannerFunction"]
	if !ok {
		t.Fatalf("template.yaml: no ScannerFunction (the Makefile's build-ScannerFunction target is named after it)")
	}
	if fn.Runtime == nil || *fn.Runtime != "provided.al2023" {
		t.Errorf("ScannerFunction.Runtime = %v; want provided.al2023 (a Go bootstrap)", deref(fn.Runtime))
	}
	if !slices.Equal(fn.Architectures, []string{"arm64"}) {
		t.Errorf("ScannerFunction.Architectures = %v; want [arm64] (the Makefile builds GOARCH=arm64)", fn.Architectures)
	}
	if fn.Handler == nil || *fn.Handler != "bootstrap" {
		t.Errorf("ScannerFunction.Handler = %v; want bootstrap", deref(fn.Handler))
	}
	if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
		t.Errorf("ScannerFunction Metadata.BuildMethod = %v; want makefile (sam build runs the Makefile's build-ScannerFunction)", bm)
	}
	if fn.ReservedConcurrentExecutions == nil || *fn.ReservedConcurrentExecutions != 1 {
		t.Errorf("ScannerFunction.ReservedConcurrentExecutions = %v; want 1, so two runs never overlap", derefInt(fn.ReservedConcurrentExecutions))
	}
	_, props, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	if cu := props["CodeUri"]; cu != "." {
		t.Errorf("ScannerFunction.CodeUri = %v; want . (the directory of the Makefile)", cu)
	}
	for _, p := range []string{"MemorySize", "Timeout"} {
		if refName(props[p]) != p {
			t.Errorf("ScannerFunction.%s = %v; want !Ref %s (a parameter)", p, props[p], p)
		}
	}
	if fn.Timeout == nil || *fn.Timeout != 900 {
		t.Errorf("Timeout parameter default = %v; want 900 (Lambda's maximum: the scan uses all of it)", derefInt(fn.Timeout))
	}
	if fn.MemorySize == nil || *fn.MemorySize < 128 {
		t.Errorf("MemorySize parameter default = %v; want at least 128", derefInt(fn.MemorySize))
	}

	margin, err := time.ParseDuration(fmt.Sprint(raw(tpl.Raw, "Parameters", "DeadlineMargin", "Default")))
	if err != nil {
		t.Fatalf("DeadlineMargin default: %v", err)
	}
	if fn.Timeout != nil && margin >= time.Duration(*fn.Timeout)*time.Second/2 {
		t.Errorf("DeadlineMargin default %s leaves less than half of the %ds timeout to scan", margin, *fn.Timeout)
	}

	// Lambda must not retry a failed run on its own: the next schedule
	// does, and the alarm reports the failure.
	if got := raw(props, "EventInvokeConfig", "MaximumRetryAttempts"); got != float64(0) {
		t.Errorf("ScannerFunction.EventInvokeConfig.MaximumRetryAttempts = %v; want 0", got)
	}
}

// TestDashboardFunction checks how the custom-widget function is built
// and run: the Makefile's build-DashboardFunction, the findings table as
// its only setting.
func TestDashboardFunction(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	fn, ok := tpl.Typed.GetAllServerlessFunctionResources()["DashboardFunction"]
	if !ok {
		t.Fatal("template.yaml: no DashboardFunction (the Makefile's build-DashboardFunction target is named after it)")
	}
	if fn.Runtime == nil || *fn.Runtime != "provided.al2023" || !slices.Equal(fn.Architectures, []string{"arm64"}) || fn.Handler == nil || *fn.Handler != "bootstrap" {
		t.Errorf("DashboardFunction: runtime %v, architectures %v, handler %v; want provided.al2023, [arm64], bootstrap", deref(fn.Runtime), fn.Architectures, deref(fn.Handler))
	}
	if bm := fn.AWSCloudFormationMetadata["BuildMethod"]; bm != "makefile" {
		t.Errorf("DashboardFunction Metadata.BuildMethod = %v; want makefile", bm)
	}
	_, props, err := tpl.Resource("DashboardFunction")
	if err != nil {
		t.Fatal(err)
	}
	if cu := props["CodeUri"]; cu != "." {
		t.Errorf("DashboardFunction.CodeUri = %v; want .", cu)
	}
	vars, _ := raw(props, "Environment", "Variables").(map[string]any)
	if len(vars) != 1 || refName(vars["SCANNER_TABLE"]) != "FindingsTable" {
		t.Errorf("DashboardFunction environment %v; want only SCANNER_TABLE: !Ref FindingsTable", vars)
	}
	_, mk := makefile(t)
	checkSAMBuildTarget(t, mk, "build-DashboardFunction", "lambda,lambda.norpc,widget")
}

// TestMakefileBuildTarget checks that the Makefile has the target `sam
// build` calls for BuildMethod makefile, and that it writes bootstrap into
// ARTIFACTS_DIR for linux/arm64 without cgo.
func TestMakefileBuildTarget(t *testing.T) {
	_, mk := makefile(t)
	checkSAMBuildTarget(t, mk, "build-ScannerFunction", "lambda,lambda.norpc")
}

// checkSAMBuildTarget checks that the Makefile has target, which `sam
// build` calls for BuildMethod makefile, and that it builds ./cmd/scanner
// with exactly these tags for linux/arm64 without cgo into
// ARTIFACTS_DIR/bootstrap.
func checkSAMBuildTarget(t *testing.T, mk, target, tags string) {
	t.Helper()
	recipe := makeRecipe(mk, target)
	if recipe == "" {
		t.Fatalf("Makefile: no %s target; sam build (BuildMethod: makefile) calls build-<LogicalId>", target)
	}
	expanded := expandMakeVars(mk, recipe)
	for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "-tags " + tags + " ", "-o $(ARTIFACTS_DIR)/bootstrap", "./cmd/scanner"} {
		if !strings.Contains(expanded, want) {
			t.Errorf("Makefile %s: recipe %q lacks %q", target, expanded, want)
		}
	}
}

// makeRecipe returns the recipe lines of target in a Makefile.
func makeRecipe(mk, target string) string {
	lines := strings.Split(mk, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, target+":") {
			continue
		}
		var out []string
		for _, r := range lines[i+1:] {
			if !strings.HasPrefix(r, "\t") {
				break
			}
			out = append(out, strings.TrimSpace(r))
		}
		return strings.Join(out, "\n")
	}
	return ""
}

var makeVar = regexp.MustCompile(`\$\(([A-Z_]+)\)`)

// expandMakeVars expands the simple variables (NAME := value, NAME ?=
// value) the recipe uses, leaving the ones the Makefile does not set.
func expandMakeVars(mk, s string) string {
	vars := map[string]string{}
	def := regexp.MustCompile(`(?m)^([A-Z_]+)\s*[:?]?=\s*(.*)$`)
	for _, m := range def.FindAllStringSubmatch(mk, -1) {
		vars[m[1]] = strings.TrimSpace(m[2])
	}
	for range 5 {
		s = makeVar.ReplaceAllStringFunc(s, func(v string) string {
			if val, ok := vars[v[2:len(v)-1]]; ok {
				return val
			}
			return v
		})
	}
	return s
}

// TestEnvironment checks that the function declares every variable of
// config.Env and no other SCANNER_ variable, that each comes from a
// parameter or resource, that each parameter's default is config's
// default, and that the template's defaults make a valid configuration.
func TestEnvironment(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	_, props, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := raw(props, "Environment", "Variables").(map[string]any)
	params, _ := tpl.Raw["Parameters"].(map[string]any)
	resources, _ := tpl.Raw["Resources"].(map[string]any)
	known := map[string]string{}
	for _, e := range config.Env {
		known[e.Name] = e.Default
		v, ok := vars[e.Name]
		if !ok {
			t.Errorf("ScannerFunction.Environment: %s (%s) is not declared; want it set from a parameter", e.Name, e.Doc)
			continue
		}
		ref := refName(v)
		if _, isRes := resources[ref]; isRes {
			continue
		}
		p, isParam := params[ref].(map[string]any)
		if !isParam {
			t.Errorf("ScannerFunction.Environment.%s = %v; want !Ref of a parameter or resource", e.Name, v)
			continue
		}
		if def, ok := p["Default"]; ok && scalar(def) != e.Default {
			t.Errorf("parameter %s (for %s) defaults to %q; config's default is %q: make them agree", ref, e.Name, scalar(def), e.Default)
		}
		if _, ok := p["Default"]; !ok && e.Default != "" {
			t.Errorf("parameter %s (for %s) has no default; config's is %q", ref, e.Name, e.Default)
		}
	}
	for name := range vars {
		if _, ok := known[name]; !ok && strings.HasPrefix(name, "SCANNER_") {
			t.Errorf("ScannerFunction.Environment.%s: config.Env has no such variable; the scanner would ignore it", name)
		}
	}
	if refName(vars["SCANNER_TABLE"]) != "FindingsTable" {
		t.Errorf("SCANNER_TABLE = %v; want !Ref FindingsTable", vars["SCANNER_TABLE"])
	}

	// The defaults (and the other scenarios) make a configuration that
	// config accepts.
	for _, sc := range scenarios {
		s, err := newStack(tpl, sc.params)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := s.eval(props["Environment"])
		if err != nil {
			t.Fatalf("ScannerFunction.Environment: %v", err)
		}
		env, _ := raw(ev, "Variables").(map[string]any)
		getenv := func(name string) string {
			v := fmt.Sprint(env[name])
			if env[name] == nil {
				return ""
			}
			if v == "ref:AccountQueue" {
				return "https://sqs.eu-west-1.amazonaws.com/111122223333/scanner-AccountQueue-1A2B3C" // a queue's URL
			}
			if strings.HasPrefix(v, "ref:") {
				return "scanner-FindingsTable-1A2B3C" // a generated table name
			}
			return v
		}
		if _, err := config.FromEnv(getenv); err != nil {
			t.Errorf("%s: the function's environment is not a valid configuration: %v", sc.name, err)
		}
	}
}

// TestParameters checks that every parameter's default passes its own
// constraints, that the ExternalId is NoEcho, and that the patterns accept
// the IDs the scanner accepts.
func TestParameters(t *testing.T) {
	for _, file := range []string{"template.yaml", "member-role.yaml"} {
		tpl := loadTemplate(t, file)
		params, _ := tpl.Raw["Parameters"].(map[string]any)
		for name, p := range params {
			p, _ := p.(map[string]any)
			def, hasDef := p["Default"]
			if pat, ok := p["AllowedPattern"].(string); ok && hasDef {
				re, err := regexp.Compile(pat)
				if err != nil {
					t.Errorf("%s: parameter %s: AllowedPattern %q: %v", file, name, pat, err)
				} else if !re.MatchString(scalar(def)) {
					t.Errorf("%s: parameter %s: default %q does not match its AllowedPattern %q", file, name, scalar(def), pat)
				}
			}
			if av, ok := p["AllowedValues"].([]any); ok && hasDef && !slices.ContainsFunc(av, func(v any) bool { return scalar(v) == scalar(def) }) {
				t.Errorf("%s: parameter %s: default %v is not among its AllowedValues %v", file, name, def, av)
			}
			if d, ok := p["Description"].(string); !ok || d == "" {
				t.Errorf("%s: parameter %s has no Description", file, name)
			}
		}
		if raw(params, "ExternalId", "NoEcho") != true {
			t.Errorf("%s: parameter ExternalId is not NoEcho", file)
		}
	}

	tpl := loadTemplate(t, "template.yaml")
	grouped := map[string]int{}
	groups, _ := raw(tpl.Raw, "Metadata", "AWS::CloudFormation::Interface", "ParameterGroups").([]any)
	for _, g := range groups {
		for _, p := range stringList(raw(g, "Parameters")) {
			grouped[p]++
		}
	}
	for name := range raw(tpl.Raw, "Parameters").(map[string]any) {
		if grouped[name] != 1 {
			t.Errorf("template.yaml: parameter %s is in %d parameter groups (Metadata AWS::CloudFormation::Interface); want 1", name, grouped[name])
		}
	}
	accept := map[string][]string{
		"Accounts":        {"", "111111111111", "111111111111,222222222222", "111111111111, 222222222222"},
		"IncludeOUs":      {"", "r-ab12", "ou-ab12-abcdefgh", "r-ab12,ou-ab12-abcdefgh"},
		"ExcludeAccounts": {"", "111111111111"},
		"MemberRoleName":  {"S3InventoryScannerMember", "security/S3InventoryScannerMember", "scanner-{account_id}", "{account_id}-scanner"},
		"DeadlineMargin":  {"0s", "30s", "2m", "500ms"},
	}
	reject := map[string][]string{
		// A tab or a line break too: the roles' AssumeRole condition
		// drops the spaces of the list, nothing else.
		"Accounts":       {"12345", "111111111111,", "abc", "111111111111,\t222222222222", "111111111111,\n222222222222"},
		"IncludeOUs":     {"ou-", "111111111111"},
		"MemberRoleName": {"/security/S3InventoryScannerMember", "role name", "{account_id}", "security/{account_id}", "{account_id}{account_id}", "scanner-*"},
	}
	// The role names the lists give the scanner, which accepts the first
	// and rejects the names that would grant every role.
	for _, v := range accept["MemberRoleName"] {
		if err := (scan.Role{Name: v, SessionName: "ok"}).Validate(); err != nil {
			t.Errorf("the scanner rejects MemberRoleName %q (%v); the test says it accepts it", v, err)
		}
	}
	for _, v := range reject["MemberRoleName"] {
		if err := (scan.Role{Name: v, SessionName: "ok"}).Validate(); err == nil && strings.ContainsAny(v, "{*") {
			t.Errorf("the scanner accepts MemberRoleName %q; the test says it rejects it", v)
		}
	}
	for name, vals := range accept {
		re := regexp.MustCompile(fmt.Sprint(raw(tpl.Raw, "Parameters", name, "AllowedPattern")))
		for _, v := range vals {
			if !re.MatchString(v) {
				t.Errorf("template.yaml: parameter %s rejects %q, which the scanner accepts", name, v)
			}
		}
		for _, v := range reject[name] {
			if re.MatchString(v) {
				t.Errorf("template.yaml: parameter %s accepts %q, which the scanner rejects", name, v)
			}
		}
	}
}

// TestSchedule checks the EventBridge Scheduler event: a parameter for
// the expression, retries, a dead-letter queue encrypted at rest, and the
// payload the function reads as a scheduled run.
func TestSchedule(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	ev := scheduleEvent(t, tpl)
	p := refName(ev["ScheduleExpression"])
	def := fmt.Sprint(raw(tpl.Raw, "Parameters", p, "Default"))
	if p == "" || !regexp.MustCompile(`^(rate|cron)\(.+\)$`).MatchString(def) {
		t.Errorf("ScheduleV2.ScheduleExpression = %v (default %q); want !Ref of a parameter defaulting to rate(...) or cron(...)", ev["ScheduleExpression"], def)
	}
	if n, _ := raw(ev, "RetryPolicy", "MaximumRetryAttempts").(float64); n < 1 {
		t.Errorf("ScheduleV2.RetryPolicy.MaximumRetryAttempts = %v; want at least 1", raw(ev, "RetryPolicy", "MaximumRetryAttempts"))
	}
	dlq := strings.TrimSuffix(getAttName(raw(ev, "DeadLetterConfig", "Arn")), ".Arn")
	typ, q, err := tpl.Resource(dlq)
	if err != nil || typ != "AWS::SQS::Queue" {
		t.Fatalf("ScheduleV2.DeadLetterConfig.Arn = %v; want !GetAtt <AWS::SQS::Queue of the template>.Arn", raw(ev, "DeadLetterConfig"))
	}
	if q["SqsManagedSseEnabled"] != true && q["KmsMasterKeyId"] == nil {
		t.Errorf("%s: not encrypted at rest; want SqsManagedSseEnabled: true or KmsMasterKeyId", dlq)
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(fmt.Sprint(ev["Input"])), &input); err != nil {
		t.Fatalf("ScheduleV2.Input %v: want a JSON object: %v", ev["Input"], err)
	}
	if len(input) != 1 || input["trigger"] != "schedule" {
		t.Errorf(`ScheduleV2.Input = %v; want {"trigger":"schedule"}, the payload the function reads as a scheduled run`, ev["Input"])
	}
	// A fixed name collides with a second stack in the same Region.
	if name := fmt.Sprint(raw(ev, "Name", "Fn::Sub")); !strings.Contains(name, "${AWS::StackName}") {
		t.Errorf("ScheduleV2.Name = %v; want a name derived from the stack (!Sub ${AWS::StackName}-...)", ev["Name"])
	}
}

// TestRetainedOnDelete: what tells what happened (the logs, the
// undelivered schedule events, the findings) outlives the stack.
func TestRetainedOnDelete(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	for _, typ := range []string{"AWS::Logs::LogGroup", "AWS::SQS::Queue", "AWS::DynamoDB::Table"} {
		rs := tpl.ResourcesOfType(typ)
		if len(rs) == 0 {
			t.Errorf("template.yaml: no %s", typ)
		}
		for name, r := range rs {
			if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
				t.Errorf("%s: DeletionPolicy %v, UpdateReplacePolicy %v; want Retain for both", name, r["DeletionPolicy"], r["UpdateReplacePolicy"])
			}
		}
	}
}

// TestNoScanAlarm: an alarm fires when no scan finished in the window,
// counting an hour without data (no run at all) as breaching. It reads
// the EMF metric ScansFinished, 1 per run that writes findings.
func TestNoScanAlarm(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	var found bool
	for name, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		p, _ := a["Properties"].(map[string]any)
		if p["MetricName"] != emf.ScansFinished.Name {
			continue
		}
		found = true
		s, err := newStack(tpl, map[string]string{"ExternalId": "ext-0123"})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := s.eval(p)
		if err != nil {
			t.Fatal(err)
		}
		hours := fmt.Sprint(raw(ev, "EvaluationPeriods"))
		if p["TreatMissingData"] != "breaching" || p["ComparisonOperator"] != "LessThanThreshold" || p["Threshold"] != float64(1) ||
			p["Statistic"] != "Sum" || p["Period"] != float64(3600) || hours != "26" || fmt.Sprint(raw(ev, "DatapointsToAlarm")) != hours {
			t.Errorf("%s: %v; want Sum over 1-hour periods < 1 for 26 of 26 hours, missing data breaching", name, ev)
		}
	}
	if !found {
		t.Errorf("template.yaml: no alarm on %s", emf.ScansFinished.Name)
	}
}

// TestCfnLint runs the official CloudFormation linter, with its
// informational checks, on both templates.
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("cfn-lint not on PATH (CI is set): %v", err)
		}
		t.Skipf("cfn-lint not on PATH: %v", err)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--include-checks", "I", "--", "template.yaml", "member-role.yaml")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("cfn-lint --include-checks I: %v\n%s", err, out)
	}
}

// TestLogging checks that the function logs JSON into a log group of the
// template that has a retention.
func TestLogging(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	_, props, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	lc, _ := props["LoggingConfig"].(map[string]any)
	if lc["LogFormat"] != "JSON" {
		t.Errorf("ScannerFunction.LoggingConfig.LogFormat = %v; want JSON (the dashboard's Logs Insights query reads JSON fields)", lc["LogFormat"])
	}
	if lvl, ok := lc["ApplicationLogLevel"]; ok && !slices.Contains([]any{"TRACE", "DEBUG", "INFO"}, lvl) {
		t.Errorf("ScannerFunction.LoggingConfig.ApplicationLogLevel = %v; the EMF lines, which have no level, are INFO to Lambda", lvl)
	}
	lg := refName(lc["LogGroup"])
	typ, group, err := tpl.Resource(lg)
	if err != nil || typ != "AWS::Logs::LogGroup" {
		t.Fatalf("ScannerFunction.LoggingConfig.LogGroup = %v; want !Ref <AWS::Logs::LogGroup of the template>", lc["LogGroup"])
	}
	for name, g := range tpl.ResourcesOfType("AWS::Logs::LogGroup") {
		if raw(g, "Properties", "RetentionInDays") == nil {
			t.Errorf("%s: no RetentionInDays; logs would be kept forever", name)
		}
	}
	if p := refName(group["RetentionInDays"]); p == "" || raw(tpl.Raw, "Parameters", p) == nil {
		t.Errorf("%s.RetentionInDays = %v; want !Ref of a parameter", lg, group["RetentionInDays"])
	}
}

// TestAlarms checks the alarm on the function's errors and the one on
// coverage findings, which reads the EMF metric the function prints after
// each run.
func TestAlarms(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	alarms := tpl.ResourcesOfType("AWS::CloudWatch::Alarm")

	var errorsAlarm bool
	for _, a := range alarms {
		p, _ := a["Properties"].(map[string]any)
		if p["Namespace"] == "AWS/Lambda" && p["MetricName"] == "Errors" {
			dims, _ := p["Dimensions"].([]any)
			if len(dims) == 1 && raw(dims[0], "Name") == "FunctionName" && refName(raw(dims[0], "Value")) == "ScannerFunction" {
				errorsAlarm = true
			}
		}
	}
	if !errorsAlarm {
		t.Errorf("template.yaml: no alarm on AWS/Lambda Errors with dimension FunctionName = !Ref ScannerFunction")
	}

	// The scanner's own alarms read the metrics it prints (EMF), in the
	// MetricsNamespace parameter's namespace, as emf.Definitions defines
	// them; no log metric filter measures what they measure.
	if filters := tpl.ResourcesOfType("AWS::Logs::MetricFilter"); len(filters) > 0 {
		t.Errorf("template.yaml: %d log metric filters; the function prints its metrics as EMF", len(filters))
	}
	var coverageAlarm bool
	for name, a := range alarms {
		p, _ := a["Properties"].(map[string]any)
		if raw(p, "Namespace") == "AWS/Lambda" || raw(p, "Namespace") == "AWS/SQS" {
			continue
		}
		if refName(p["Namespace"]) != "MetricsNamespace" {
			t.Errorf("%s: Namespace %v; want !Ref MetricsNamespace", name, p["Namespace"])
		}
		var def *emf.Definition
		for _, d := range emf.Definitions() {
			if d.Name == p["MetricName"] && len(d.Dimensions) == 0 {
				def = &d
			}
		}
		if def == nil || p["Dimensions"] != nil {
			t.Errorf("%s: %v with dimensions %v: not a metric the function prints (emf.Definitions)", name, p["MetricName"], p["Dimensions"])
		}
		if p["MetricName"] != emf.CoverageFindings.Name {
			continue
		}
		coverageAlarm = true
		if p["ComparisonOperator"] != "GreaterThanThreshold" || p["Threshold"] != float64(0) {
			t.Errorf("%s: %v %v; want GreaterThanThreshold 0 (any coverage finding)", name, p["ComparisonOperator"], p["Threshold"])
		}
	}
	if !coverageAlarm {
		t.Errorf("template.yaml: no alarm on the metric %s (coverage findings)", emf.CoverageFindings.Name)
	}

	// Alarm actions: the topic when the parameter is set, none otherwise.
	for _, sc := range []struct {
		topic string
		want  []string
	}{{"", nil}, {"arn:aws:sns:eu-west-1:111122223333:alerts", []string{"arn:aws:sns:eu-west-1:111122223333:alerts"}}} {
		s, err := newStack(tpl, map[string]string{"ExternalId": "ext-0123", "AlarmTopicArn": sc.topic})
		if err != nil {
			t.Fatal(err)
		}
		for name, a := range alarms {
			p, err := s.eval(a["Properties"])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := stringList(raw(p, "AlarmActions")); !slices.Equal(got, sc.want) {
				t.Errorf("%s with AlarmTopicArn=%q: AlarmActions %v; want %v", name, sc.topic, got, sc.want)
			}
		}
	}
}

// TestOutputs checks the outputs an operator and member-role.yaml need.
func TestOutputs(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	s, err := newStack(tpl, scenarios[0].params)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"ScannerFunctionArn": "getatt:ScannerFunction.Arn",
		"ScannerRoleArn":     "getatt:" + functionRole(t, s) + ".Arn",
		"FindingsTableName":  "ref:FindingsTable",
		"FindingsTableArn":   "getatt:FindingsTable.Arn",
	}
	for name, w := range want {
		v, err := s.eval(raw(tpl.Raw, "Outputs", name, "Value"))
		if err != nil || v != w {
			t.Errorf("output %s = %v; want %s", name, raw(tpl.Raw, "Outputs", name, "Value"), w)
		}
	}
}

func deref(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefInt(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
