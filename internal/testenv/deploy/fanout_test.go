package deploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/base/iampolicy"
)

// TestWorkerFunction checks the fan-out's workers (docs/scale.md): the
// same build and environment as ScannerFunction, fed by the accounts'
// queue through an event source mapping that reports batch item
// failures, bounded by a parameter; the queue's visibility timeout at
// least 6 times the longest function timeout, and its redrive to a
// dead-letter queue after 5 receives, watched by an alarm.
func TestWorkerFunction(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	_, scanner, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	_, worker, err := tpl.Resource("WorkerFunction")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"CodeUri", "Handler", "Runtime", "Architectures", "MemorySize", "Timeout"} {
		if !reflect.DeepEqual(worker[p], scanner[p]) {
			t.Errorf("WorkerFunction.%s = %v; want ScannerFunction's %v (the same build)", p, worker[p], scanner[p])
		}
	}
	if got, want := raw(worker, "Environment", "Variables"), raw(scanner, "Environment", "Variables"); !reflect.DeepEqual(got, want) {
		t.Errorf("WorkerFunction's environment differs from ScannerFunction's:\n%v\n%v", got, want)
	}
	if worker["ReservedConcurrentExecutions"] != nil {
		t.Errorf("WorkerFunction.ReservedConcurrentExecutions = %v; want none (the event source's MaximumConcurrency bounds the workers)", worker["ReservedConcurrentExecutions"])
	}
	events, _ := worker["Events"].(map[string]any)
	if len(events) != 1 {
		t.Fatalf("WorkerFunction.Events = %v; want one SQS event source", events)
	}
	for name, ev := range events {
		props, _ := raw(ev, "Properties").(map[string]any)
		if raw(ev, "Type") != "SQS" || fmt.Sprint(props["Queue"]) != fmt.Sprint(map[string]any{"Fn::GetAtt": "AccountQueue.Arn"}) {
			t.Errorf("WorkerFunction.Events.%s = %v; want Type SQS on !GetAtt AccountQueue.Arn", name, ev)
		}
		if fmt.Sprint(props["FunctionResponseTypes"]) != "[ReportBatchItemFailures]" {
			t.Errorf("WorkerFunction.Events.%s.FunctionResponseTypes = %v; want [ReportBatchItemFailures]", name, props["FunctionResponseTypes"])
		}
		if props["BatchSize"] != float64(1) {
			t.Errorf("WorkerFunction.Events.%s.BatchSize = %v; want 1 (one account per invocation)", name, props["BatchSize"])
		}
		if refName(raw(props, "ScalingConfig", "MaximumConcurrency")) != "WorkerMaximumConcurrency" {
			t.Errorf("WorkerFunction.Events.%s.ScalingConfig.MaximumConcurrency = %v; want !Ref WorkerMaximumConcurrency", name, raw(props, "ScalingConfig", "MaximumConcurrency"))
		}
	}
	mc, _ := raw(tpl.Raw, "Parameters", "WorkerMaximumConcurrency").(map[string]any)
	if mc["MinValue"] != float64(2) || mc["MaxValue"] != float64(1000) {
		t.Errorf("WorkerMaximumConcurrency: MinValue %v, MaxValue %v; want 2 and 1000 (the event source's limits)", mc["MinValue"], mc["MaxValue"])
	}

	_, queue, err := tpl.Resource("AccountQueue")
	if err != nil {
		t.Fatal(err)
	}
	maxTimeout := raw(tpl.Raw, "Parameters", "Timeout", "MaxValue")
	vt, _ := strconv.ParseFloat(fmt.Sprint(queue["VisibilityTimeout"]), 64)
	if mt, ok := maxTimeout.(float64); !ok || vt < 6*mt {
		t.Errorf("AccountQueue.VisibilityTimeout = %v; want at least 6 x the longest Timeout (%v)", queue["VisibilityTimeout"], maxTimeout)
	}
	if got := raw(queue, "RedrivePolicy", "maxReceiveCount"); got != float64(5) {
		t.Errorf("AccountQueue.RedrivePolicy.maxReceiveCount = %v; want 5", got)
	}
	if got := fmt.Sprint(raw(queue, "RedrivePolicy", "deadLetterTargetArn")); got != fmt.Sprint(map[string]any{"Fn::GetAtt": "AccountDeadLetterQueue.Arn"}) {
		t.Errorf("AccountQueue.RedrivePolicy.deadLetterTargetArn = %v; want !GetAtt AccountDeadLetterQueue.Arn", got)
	}
	_, alarm, err := tpl.Resource("AccountDeadLetterAlarm")
	if err != nil {
		t.Fatal(err)
	}
	if alarm["MetricName"] != "ApproximateNumberOfMessagesVisible" || alarm["Threshold"] != float64(0) || alarm["ComparisonOperator"] != "GreaterThanThreshold" ||
		fmt.Sprint(raw(alarm, "Dimensions")) != fmt.Sprint([]any{map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": "AccountDeadLetterQueue.QueueName"}}}) {
		t.Errorf("AccountDeadLetterAlarm = %v; want any message visible in AccountDeadLetterQueue", alarm)
	}
}

// TestTableWarmThroughput: TableWarmWriteUnits (default 0: none) warms
// the findings table and the indexes every finding write reaches, and
// nothing when 0.
func TestTableWarmThroughput(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	if got := raw(tpl.Raw, "Parameters", "TableWarmWriteUnits", "Default"); got != 0.0 {
		t.Errorf("TableWarmWriteUnits default %v; want 0 (a new table's own)", got)
	}
	want := map[string]any{"Fn::If": []any{"HasWarmThroughput",
		map[string]any{"WriteUnitsPerSecond": map[string]any{"Ref": "TableWarmWriteUnits"}}, map[string]any{"Ref": "AWS::NoValue"}}}
	cond := map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "TableWarmWriteUnits"}, 0.0}}}}
	if got := raw(tpl.Raw, "Conditions", "HasWarmThroughput"); !reflect.DeepEqual(got, cond) {
		t.Errorf("condition HasWarmThroughput = %v; want %v", got, cond)
	}
	_, table, err := tpl.Resource("FindingsTable")
	if err != nil {
		t.Fatal(err)
	}
	if got := table["WarmThroughput"]; !reflect.DeepEqual(got, want) {
		t.Errorf("FindingsTable.WarmThroughput = %v; want %v", got, want)
	}
	warmed := map[string]bool{}
	gsis, _ := table["GlobalSecondaryIndexes"].([]any)
	for _, g := range gsis {
		g, _ := g.(map[string]any)
		if w, ok := g["WarmThroughput"]; ok {
			if !reflect.DeepEqual(w, want) {
				t.Errorf("index %v: WarmThroughput = %v; want %v", g["IndexName"], w, want)
			}
			warmed[fmt.Sprint(g["IndexName"])] = true
		}
	}
	for _, name := range []string{"open-by-rule", "open-by-severity", "changes"} {
		if !warmed[name] {
			t.Errorf("index %s (written with every finding) is not warmed with the table", name)
		}
	}
}

// TestAccountQueuePolicy evaluates the accounts' queue's policy
// (internal/iampolicy) for the coordinator's and the workers' sessions
// and for anyone else: the coordinator may only send, the workers may
// send, receive and delete, and every other principal, of this account
// or another, is denied sending, receiving and deleting whatever its own
// policies allow.
func TestAccountQueuePolicy(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	s, err := newStack(tpl, scenarios[0].params)
	if err != nil {
		t.Fatal(err)
	}
	typ, qp, err := tpl.Resource("AccountQueuePolicy")
	if err != nil || typ != "AWS::SQS::QueuePolicy" {
		t.Fatalf("AccountQueuePolicy: %s, %v; want an AWS::SQS::QueuePolicy", typ, err)
	}
	queues, err := s.eval(qp["Queues"])
	if err != nil || fmt.Sprint(queues) != "[ref:AccountQueue]" {
		t.Fatalf("AccountQueuePolicy.Queues = %v, %v; want [!Ref AccountQueue]", queues, err)
	}
	doc, err := s.eval(qp["PolicyDocument"])
	if err != nil {
		t.Fatal(err)
	}
	const (
		acct        = "111122223333"
		queueARN    = "arn:aws:sqs:eu-west-1:" + acct + ":scanner-AccountQueue-1A2B3C"
		scannerRole = "arn:aws:iam::" + acct + ":role/scanner-ScannerRole-4D5E6F"
		workerRole  = "arn:aws:iam::" + acct + ":role/scanner-WorkerRole-7A8B9C"
		adminRole   = "arn:aws:iam::" + acct + ":role/Admin"
	)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.NewReplacer(`"getatt:AccountQueue.Arn"`, `"`+queueARN+`"`,
		`"getatt:ScannerRole.Arn"`, `"`+scannerRole+`"`, `"getatt:WorkerRole.Arn"`, `"`+workerRole+`"`).Replace(string(b)))
	if strings.Contains(string(b), "getatt:") || strings.Contains(string(b), "ref:") {
		t.Fatalf("queue policy names other resources: %s", b)
	}
	p, err := iampolicy.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	session := func(roleARN string) string {
		name := roleARN[strings.LastIndexByte(roleARN, '/')+1:]
		return "arn:aws:sts::" + roleARN[len("arn:aws:iam::"):len("arn:aws:iam::")+12] + ":assumed-role/" + name + "/session"
	}
	use := []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"}
	for _, c := range []struct {
		who, role string
		want      map[string]iampolicy.Outcome
	}{
		{"the coordinator", scannerRole, map[string]iampolicy.Outcome{"sqs:SendMessage": iampolicy.Allow,
			"sqs:ReceiveMessage": iampolicy.Deny, "sqs:DeleteMessage": iampolicy.Deny, "sqs:ChangeMessageVisibility": iampolicy.Deny}},
		{"a worker", workerRole, map[string]iampolicy.Outcome{"sqs:SendMessage": iampolicy.Allow,
			"sqs:ReceiveMessage": iampolicy.Allow, "sqs:DeleteMessage": iampolicy.Allow, "sqs:GetQueueAttributes": iampolicy.Allow,
			"sqs:ChangeMessageVisibility": iampolicy.NotAllowed}},
		{"another role of the account", adminRole, map[string]iampolicy.Outcome{"sqs:SendMessage": iampolicy.Deny,
			"sqs:ReceiveMessage": iampolicy.Deny, "sqs:DeleteMessage": iampolicy.Deny, "sqs:ChangeMessageVisibility": iampolicy.Deny}},
		{"a role of another account named as the workers'", "arn:aws:iam::444455556666:role/scanner-WorkerRole-7A8B9C",
			map[string]iampolicy.Outcome{"sqs:SendMessage": iampolicy.Deny, "sqs:ReceiveMessage": iampolicy.Deny}},
	} {
		for _, action := range append(use, "sqs:GetQueueAttributes") {
			want, ok := c.want[action]
			if !ok {
				continue
			}
			d, err := p.Decide(iampolicy.Request{AWS: session(c.role), Action: action, Resource: queueARN,
				Context: map[string][]string{"aws:PrincipalArn": {c.role}}})
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != want {
				t.Errorf("%s: %s on the queue is %s (%v); want %s", c.who, action, d.Outcome, d.Statements, want)
			}
		}
	}
}
