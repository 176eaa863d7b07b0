package deploy

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/scan"
)

// statement is one IAM policy statement of a role, evaluated.
type statement struct {
	role      string // logical ID of the role
	policy    string // policy name
	effect    string
	actions   []string
	resources []string
	raw       map[string]any
}

func (s statement) where() string { return s.role + "/" + s.policy }

// role is an IAM role of a template, evaluated.
type role struct {
	name       string
	trust      []map[string]any // AssumeRolePolicyDocument statements
	statements []statement
}

// trustedServices returns the service principals the role trusts.
func (r role) trustedServices() []string {
	var out []string
	for _, st := range r.trust {
		p, _ := st["Principal"].(map[string]any)
		out = append(out, stringList(p["Service"])...)
	}
	return out
}

// statementsOf returns the statements of a policy document.
func statementsOf(doc any) []map[string]any {
	d, _ := doc.(map[string]any)
	switch st := d["Statement"].(type) {
	case map[string]any:
		return []map[string]any{st}
	case []any:
		var out []map[string]any
		for _, e := range st {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

// roles evaluates every IAM role of the stack with its inline policies,
// and the AWS::IAM::Policy / RolePolicy / ManagedPolicy resources attached
// to them. SAM functions must name their role (no Policies), so every
// permission the stack grants is in these roles.
func roles(t *testing.T, s *stack) map[string]*role {
	t.Helper()
	resources, _ := s.t.Raw["Resources"].(map[string]any)
	out := map[string]*role{}
	active := func(r map[string]any) bool {
		c, ok := r["Condition"].(string)
		if !ok {
			return true
		}
		v, err := s.condition(c, 0)
		if err != nil {
			t.Fatalf("%s: %v", s.t.Path, err)
		}
		return v
	}
	add := func(roleName, policy string, doc any) {
		r := out[roleName]
		if r == nil {
			t.Fatalf("%s: policy %s is attached to %s, which is not a role of the template", s.t.Path, policy, roleName)
		}
		for _, st := range statementsOf(doc) {
			r.statements = append(r.statements, statement{
				role: roleName, policy: policy, raw: st,
				effect:    fmt.Sprint(st["Effect"]),
				actions:   stringList(st["Action"]),
				resources: stringList(st["Resource"]),
			})
		}
	}
	evalProps := func(name string, r map[string]any) map[string]any {
		props, err := s.eval(r["Properties"])
		if err != nil {
			t.Fatalf("%s: %s: %v", s.t.Path, name, err)
		}
		m, _ := props.(map[string]any)
		return m
	}
	for name, r := range resources {
		r, _ := r.(map[string]any)
		if r["Type"] == "AWS::IAM::Role" && active(r) {
			props := evalProps(name, r)
			out[name] = &role{name: name, trust: statementsOf(props["AssumeRolePolicyDocument"])}
			if len(stringList(props["ManagedPolicyArns"])) > 0 {
				t.Errorf("%s: role %s has ManagedPolicyArns %v: managed policies grant more than the scanner needs; write the statements inline", s.t.Path, name, props["ManagedPolicyArns"])
			}
			policies, _ := props["Policies"].([]any)
			for _, p := range policies {
				p, _ := p.(map[string]any)
				add(name, fmt.Sprint(p["PolicyName"]), p["PolicyDocument"])
			}
		}
	}
	for name, r := range resources {
		r, _ := r.(map[string]any)
		switch r["Type"] {
		case "AWS::IAM::Policy", "AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy":
			if !active(r) {
				continue
			}
			props := evalProps(name, r)
			targets := stringList(props["Roles"])
			if rn, ok := props["RoleName"]; ok {
				targets = append(targets, fmt.Sprint(rn))
			}
			if len(stringList(props["Users"]))+len(stringList(props["Groups"])) > 0 {
				t.Errorf("%s: %s is attached to users or groups; the stack should grant nothing beyond its roles", s.t.Path, name)
			}
			for _, target := range targets {
				add(strings.TrimPrefix(target, "ref:"), name, props["PolicyDocument"])
			}
		case "AWS::Serverless::Function":
			props, _ := r["Properties"].(map[string]any)
			if _, ok := props["Policies"]; ok {
				t.Errorf("%s: function %s has Policies: name its role (Role: !GetAtt ...) and write the statements there, so SAM adds nothing and these checks see everything", s.t.Path, name)
			}
			if _, ok := props["Role"]; !ok {
				t.Errorf("%s: function %s has no Role: SAM would create one with AWSLambdaBasicExecutionRole (logs on every log group)", s.t.Path, name)
			}
		}
	}
	return out
}

// recordingOrgs is an Organizations API that records which operations
// account discovery calls: one root, one OU, one account in each.
type recordingOrgs struct {
	mu    sync.Mutex
	calls map[string]bool
}

func (r *recordingOrgs) record(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]bool{}
	}
	r.calls[op] = true
}

var orgAccounts = []orgtypes.Account{
	{Id: aws.String("111111111111"), Name: aws.String("a"), State: orgtypes.AccountStateActive},
	{Id: aws.String("222222222222"), Name: aws.String("b"), State: orgtypes.AccountStateActive},
}

func (r *recordingOrgs) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	r.record("ListAccounts")
	return &organizations.ListAccountsOutput{Accounts: orgAccounts}, nil
}

func (r *recordingOrgs) ListRoots(context.Context, *organizations.ListRootsInput, ...func(*organizations.Options)) (*organizations.ListRootsOutput, error) {
	r.record("ListRoots")
	return &organizations.ListRootsOutput{Roots: []orgtypes.Root{{Id: aws.String("r-ab12")}}}, nil
}

func (r *recordingOrgs) ListOrganizationalUnitsForParent(_ context.Context, in *organizations.ListOrganizationalUnitsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error) {
	r.record("ListOrganizationalUnitsForParent")
	out := &organizations.ListOrganizationalUnitsForParentOutput{}
	if aws.ToString(in.ParentId) == "r-ab12" {
		out.OrganizationalUnits = []orgtypes.OrganizationalUnit{{Id: aws.String("ou-ab12-abcdefgh")}}
	}
	return out, nil
}

func (r *recordingOrgs) ListAccountsForParent(_ context.Context, in *organizations.ListAccountsForParentInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error) {
	r.record("ListAccountsForParent")
	out := &organizations.ListAccountsForParentOutput{}
	switch aws.ToString(in.ParentId) {
	case "r-ab12":
		out.Accounts = orgAccounts[:1]
	case "ou-ab12-abcdefgh":
		out.Accounts = orgAccounts[1:]
	}
	return out, nil
}

var _ scan.OrganizationsAPI = (*recordingOrgs)(nil)

// organizationsActions returns the IAM actions account discovery uses
// with the filter, as "organizations:Op".
func organizationsActions(t *testing.T, f scan.Filter) []string {
	t.Helper()
	rec := &recordingOrgs{}
	if _, err := scan.OrganizationAccounts(context.Background(), rec, f); err != nil {
		t.Fatalf("scan.OrganizationAccounts with a recording fake: %v", err)
	}
	var out []string
	for op := range rec.calls {
		out = append(out, "organizations:"+op)
	}
	sort.Strings(out)
	return out
}

// granted returns the actions the role's Allow statements grant, sorted.
func (r *role) granted(prefix string) []string {
	var out []string
	for _, st := range r.statements {
		if st.effect != "Allow" {
			continue
		}
		for _, a := range st.actions {
			if strings.HasPrefix(a, prefix) && !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

// scenarios are the parameter sets the IAM checks run with.
var scenarios = []struct {
	name   string
	params map[string]string
}{
	{"defaults", map[string]string{"ExternalId": "ext-0123"}},
	{"ou filters", map[string]string{"ExternalId": "ext-0123", "IncludeOUs": "ou-ab12-abcdefgh", "ExcludeOUs": "r-ab12"}},
	{"static accounts", map[string]string{"ExternalId": "ext-0123", "AccountSource": "static", "Accounts": "111111111111,222222222222"}},
	{"role with a path", map[string]string{"ExternalId": "ext-0123", "MemberRoleName": "security/S3InventoryScannerMember"}},
	{"role per account", map[string]string{"ExternalId": "ext-0123", "MemberRoleName": "scanner-{account_id}"}},
	{"alarm topic", map[string]string{"ExternalId": "ext-0123", "AlarmTopicArn": "arn:aws:sns:eu-west-1:111122223333:alerts"}},
	{"no events", map[string]string{"ExternalId": "ext-0123", "EventBusName": "", "NotificationEmail": "sec@example.com"}},
	{"default bus", map[string]string{"ExternalId": "ext-0123", "EventBusName": "default"}},
	{"custom bus, e-mail", map[string]string{"ExternalId": "ext-0123", "EventBusName": "security-findings", "NotificationEmail": "sec@example.com"}},
	// The export imports through the member role: the function's own
	// role gains nothing (no securityhub action passes checkAction).
	{"security hub export", map[string]string{"ExternalId": "ext-0123", "SecurityHubExport": "true"}},
}

// TestScannerIAMLeastPrivilege walks every statement of every role of
// template.yaml, for several parameter sets, and allows only what the
// scanner needs, on only the resources it needs.
func TestScannerIAMLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	storeActions := dynamoActions(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s, err := newStack(tpl, sc.params)
			if err != nil {
				t.Fatalf("template.yaml: %v", err)
			}
			rs := roles(t, s)
			fnRole := functionRole(t, s)
			workerRole := roleOf(t, s, "WorkerFunction")
			dashRole := roleOf(t, s, "DashboardFunction")
			fromOrgs := s.params["AccountSource"] == "organizations"
			withOUs := s.params["IncludeOUs"]+s.params["ExcludeOUs"] != ""
			memberPattern := scan.Role{Name: s.params["MemberRoleName"], Partition: "aws"}.ARN("*")
			busARN := ""
			if bus := s.params["EventBusName"]; bus != "" {
				busARN = "arn:aws:events:eu-west-1:111122223333:event-bus/" + bus
			}

			for _, r := range rs {
				services := r.trustedServices()
				for _, st := range r.statements {
					if _, ok := st.raw["NotAction"]; ok {
						t.Errorf("%s: NotAction grants everything but a list; name the actions", st.where())
					}
					if _, ok := st.raw["NotResource"]; ok {
						t.Errorf("%s: NotResource grants everything but a list; name the resources", st.where())
					}
					if st.effect != "Allow" {
						continue
					}
					for _, a := range st.actions {
						if strings.ContainsAny(a, "*?") {
							t.Errorf("%s: action %q has a wildcard; name each action", st.where(), a)
							continue
						}
						if r.name == dashRole {
							if msg := checkDashboardAction(a, st); msg != "" {
								t.Errorf("%s: %s", st.where(), msg)
							}
							continue
						}
						if msg := checkAction(a, st, roleKind(r.name, fnRole, workerRole), services, memberPattern, busARN, storeActions); msg != "" {
							t.Errorf("%s: %s", st.where(), msg)
						}
					}
				}
			}

			r := rs[fnRole]
			if r == nil {
				t.Fatalf("template.yaml: the function's role %q is not a role of the template", fnRole)
			}
			if got := r.trustedServices(); !slices.Equal(got, []string{"lambda.amazonaws.com"}) {
				t.Errorf("%s: trusted by %v; want lambda.amazonaws.com only", fnRole, got)
			}
			for _, want := range []string{"sts:AssumeRole", "logs:CreateLogStream", "logs:PutLogEvents"} {
				if !slices.Contains(r.granted(""), want) {
					t.Errorf("%s: does not grant %s, which the function needs", fnRole, want)
				}
			}
			if got := r.granted("dynamodb:"); !slices.Equal(got, storeActions) {
				t.Errorf("%s: grants %v on the table; report/dynamo calls %v: grant exactly those", fnRole, got, storeActions)
			}
			var wantEvents []string
			if busARN != "" {
				wantEvents = []string{"events:PutEvents"}
			}
			if got := r.granted("events:"); !slices.Equal(got, wantEvents) {
				t.Errorf("%s: grants %v with EventBusName=%q; want %v (report/events calls PutEvents only, and only when a bus is set)", fnRole, got, s.params["EventBusName"], wantEvents)
			}
			var wantOrgs []string
			if fromOrgs {
				filter := scan.Filter{}
				if withOUs {
					filter.IncludeOUs = []string{"ou-ab12-abcdefgh"}
				}
				wantOrgs = organizationsActions(t, filter)
			}
			if got := r.granted("organizations:"); !slices.Equal(got, wantOrgs) {
				t.Errorf("%s: grants %v with AccountSource=%s, IncludeOUs=%q, ExcludeOUs=%q; scan.OrganizationAccounts calls %v then: grant exactly those (a Condition on the parameters)",
					fnRole, got, s.params["AccountSource"], s.params["IncludeOUs"], s.params["ExcludeOUs"], wantOrgs)
			}
			if got := r.granted("sqs:"); !slices.Equal(got, []string{"sqs:SendMessage"}) {
				t.Errorf("%s: grants %v on SQS; the coordinator sends the fan-out's messages (sqs:SendMessage) only", fnRole, got)
			}

			// The fan-out workers: the member role, the table, the queue
			// the event source reads (and a split account's chunks sent
			// to it), the bus; no Organizations.
			w := rs[workerRole]
			if w == nil || workerRole == fnRole {
				t.Fatalf("template.yaml: WorkerFunction's role %q; want a role of its own", workerRole)
			}
			if got := w.granted("dynamodb:"); !slices.Equal(got, storeActions) {
				t.Errorf("%s: grants %v on the table; report/dynamo calls %v: grant exactly those", workerRole, got, storeActions)
			}
			if got := w.granted("sqs:"); !slices.Equal(got, []string{"sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"}) {
				t.Errorf("%s: grants %v on SQS; the event source mapping needs ReceiveMessage, DeleteMessage, GetQueueAttributes, and a worker sends the chunks of a split account (SendMessage)", workerRole, got)
			}
			if got := w.granted("organizations:"); len(got) > 0 {
				t.Errorf("%s: grants %v; a worker never lists accounts", workerRole, got)
			}
			if got := w.granted("events:"); !slices.Equal(got, wantEvents) {
				t.Errorf("%s: grants %v with EventBusName=%q; want %v", workerRole, got, s.params["EventBusName"], wantEvents)
			}
		})
	}
}

// checkDashboardAction says what is wrong with granting action a to the
// custom-widget function's role, or "": read the findings table and its
// indexes (Query, GetItem), write its own logs.
func checkDashboardAction(a string, st statement) string {
	var want []string
	switch a {
	case "dynamodb:Query", "dynamodb:GetItem":
		want = []string{"getatt:FindingsTable.Arn", "getatt:FindingsTable.Arn/index/*"}
	case "logs:CreateLogStream", "logs:PutLogEvents":
		want = []string{"getatt:DashboardLogGroup.Arn"}
	default:
		return fmt.Sprintf("action %s: the dashboard widget function reads the findings table (dynamodb:Query, dynamodb:GetItem) and writes its logs, nothing else", a)
	}
	if len(st.resources) == 0 {
		return fmt.Sprintf("%s on no resource; want %v", a, want)
	}
	for _, res := range st.resources {
		if !slices.Contains(want, res) {
			return fmt.Sprintf("%s on %q; want it only on %v", a, res, want)
		}
	}
	return ""
}

// The roles checkAction tells apart.
const (
	otherRole = iota
	scannerRole
	workerRole
)

// roleKind says whether name is the scanner function's role, the
// workers', or another.
func roleKind(name, fn, worker string) int {
	switch name {
	case fn:
		return scannerRole
	case worker:
		return workerRole
	}
	return otherRole
}

// checkAction says what is wrong with granting action a in st, or "".
func checkAction(a string, st statement, kind int, services []string, memberPattern, busARN string, storeActions []string) string {
	isFunctionRole := kind == scannerRole || kind == workerRole
	only := func(want ...string) string {
		for _, res := range st.resources {
			if !slices.Contains(want, res) {
				return fmt.Sprintf("%s on %q; want it only on %v", a, res, want)
			}
		}
		if len(st.resources) == 0 {
			return fmt.Sprintf("%s on no resource; want %v", a, want)
		}
		return ""
	}
	byScheduler := slices.Equal(services, []string{"scheduler.amazonaws.com"})
	switch {
	case a == "sts:AssumeRole":
		if !isFunctionRole {
			return "sts:AssumeRole granted to a role other than the function's"
		}
		return only(memberPattern)
	case a == "logs:CreateLogStream" || a == "logs:PutLogEvents":
		if !isFunctionRole {
			return a + " granted to a role other than the function's"
		}
		if kind == workerRole {
			return only("getatt:WorkerLogGroup.Arn")
		}
		return only("getatt:ScannerLogGroup.Arn")
	case strings.HasPrefix(a, "dynamodb:"):
		if !isFunctionRole {
			return a + " granted to a role other than the function's"
		}
		if !slices.Contains(storeActions, a) {
			return fmt.Sprintf("%s: report/dynamo never calls it; the store calls %v", a, storeActions)
		}
		return only("getatt:FindingsTable.Arn", "getatt:FindingsTable.Arn/index/*",
			"getatt:FindingsTable.Arn/index/"+dynamo.IndexOpenBySeverity, "getatt:FindingsTable.Arn/index/"+dynamo.IndexOpenByRule,
			"getatt:FindingsTable.Arn/index/"+dynamo.IndexRuns, "getatt:FindingsTable.Arn/index/"+dynamo.IndexAccountsScanned)
	case slices.Contains([]string{"organizations:ListAccounts", "organizations:ListRoots", "organizations:ListOrganizationalUnitsForParent", "organizations:ListAccountsForParent"}, a):
		if kind != scannerRole {
			return a + " granted to a role other than the function's"
		}
		return only("*")
	case a == "events:PutEvents":
		if !isFunctionRole {
			return a + " granted to a role other than the function's"
		}
		if busARN == "" {
			return a + " granted while EventBusName is empty (no events)"
		}
		return only(busARN)
	case a == "lambda:InvokeFunction":
		if !byScheduler {
			return fmt.Sprintf("lambda:InvokeFunction granted to a role trusted by %v; want only the scheduler's role", services)
		}
		return only("getatt:ScannerFunction.Arn")
	case a == "sqs:SendMessage" && (kind == scannerRole || kind == workerRole):
		return only("getatt:AccountQueue.Arn") // the coordinator's messages, a split account's chunks
	case a == "sqs:ReceiveMessage" || a == "sqs:DeleteMessage" || a == "sqs:GetQueueAttributes":
		if kind != workerRole {
			return a + " granted to a role other than the workers'"
		}
		return only("getatt:AccountQueue.Arn") // the SQS event source mapping
	case a == "sqs:SendMessage":
		if !byScheduler {
			return fmt.Sprintf("sqs:SendMessage granted to a role trusted by %v; want only the scheduler's role", services)
		}
		return only("getatt:ScheduleDeadLetterQueue.Arn")
	}
	return fmt.Sprintf("action %s is not one the scanner needs (organizations List*, sts:AssumeRole on the member role, the findings table, its log group, events:PutEvents on the bus; the scheduler's lambda:InvokeFunction and sqs:SendMessage)", a)
}

// functionRole returns the logical ID of the scanner function's role.
func functionRole(t *testing.T, s *stack) string {
	t.Helper()
	return roleOf(t, s, "ScannerFunction")
}

// roleOf returns the logical ID of a function's role.
func roleOf(t *testing.T, s *stack, function string) string {
	t.Helper()
	_, props, err := s.t.Resource(function)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.eval(props["Role"])
	if err != nil {
		t.Fatalf("%s.Role: %v", function, err)
	}
	name, ok := strings.CutPrefix(fmt.Sprint(r), "getatt:")
	name, isArn := strings.CutSuffix(name, ".Arn")
	if !ok || !isArn {
		t.Fatalf("%s.Role = %v; want !GetAtt <role of the template>.Arn", function, props["Role"])
	}
	return name
}

// TestDashboardFunctionIsReadOnly: the custom-widget function's role is
// trusted by Lambda only and grants exactly Query and GetItem on the
// findings table and its indexes, and its own logs; every DynamoDB
// operation the widget's views make (every view of internal/webui over
// report/dynamo, recorded) is among those.
func TestDashboardFunctionIsReadOnly(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	s, err := newStack(tpl, scenarios[0].params)
	if err != nil {
		t.Fatal(err)
	}
	name := roleOf(t, s, "DashboardFunction")
	if name == functionRole(t, s) {
		t.Fatalf("DashboardFunction runs with the scanner's role %s; want a read-only role of its own", name)
	}
	r := roles(t, s)[name]
	if r == nil {
		t.Fatalf("DashboardFunction.Role names %s, not a role of the template", name)
	}
	if got := r.trustedServices(); !slices.Equal(got, []string{"lambda.amazonaws.com"}) {
		t.Errorf("%s: trusted by %v; want lambda.amazonaws.com only", name, got)
	}
	want := []string{"dynamodb:GetItem", "dynamodb:Query", "logs:CreateLogStream", "logs:PutLogEvents"}
	if got := r.granted(""); !slices.Equal(got, want) {
		t.Errorf("%s: grants %v; want %v", name, got, want)
	}
	for _, st := range r.statements {
		for _, a := range st.actions {
			if msg := checkDashboardAction(a, st); msg != "" && st.effect == "Allow" {
				t.Errorf("%s: %s", st.where(), msg)
			}
		}
	}
	for _, op := range widgetReads(t) {
		if !slices.Contains(r.granted("dynamodb:"), "dynamodb:"+op) {
			t.Errorf("the widget's views call dynamodb:%s, which %s does not grant", op, name)
		}
	}
}

// TestSchedulerRole checks the role EventBridge Scheduler uses: trusted by
// scheduler.amazonaws.com for this account only.
func TestSchedulerRole(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	s, err := newStack(tpl, scenarios[0].params)
	if err != nil {
		t.Fatal(err)
	}
	ev := scheduleEvent(t, tpl)
	roleArn, err := s.eval(ev["RoleArn"])
	if err != nil {
		t.Fatal(err)
	}
	name, ok := strings.CutPrefix(fmt.Sprint(roleArn), "getatt:")
	name, isArn := strings.CutSuffix(name, ".Arn")
	if !ok || !isArn {
		t.Fatalf("ScheduleV2 RoleArn = %v; want !GetAtt <role of the template>.Arn, so the checks see its permissions", ev["RoleArn"])
	}
	r := roles(t, s)[name]
	if r == nil {
		t.Fatalf("ScheduleV2 RoleArn names %s, not a role of the template", name)
	}
	if got := r.trustedServices(); !slices.Equal(got, []string{"scheduler.amazonaws.com"}) {
		t.Errorf("%s: trusted by %v; want scheduler.amazonaws.com only", name, got)
	}
	for _, st := range r.trust {
		cond, _ := st["Condition"].(map[string]any)
		eq, _ := cond["StringEquals"].(map[string]any)
		if eq["aws:SourceAccount"] != pseudo["AWS::AccountId"] {
			t.Errorf("%s: trust statement without StringEquals aws:SourceAccount = the stack's account (confused deputy)", name)
		}
	}
	if got, want := r.granted(""), []string{"lambda:InvokeFunction", "sqs:SendMessage"}; !slices.Equal(got, want) {
		t.Errorf("%s: grants %v; want %v", name, got, want)
	}
}
