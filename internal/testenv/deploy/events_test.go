package deploy

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/s3inv/scanner/report/events"
)

// TestNotificationRule: with an event bus and an e-mail address, the
// template has a topic with an e-mail subscription, a rule on the bus
// whose pattern is report/events.UrgentOpeningsPattern targeting the
// topic, and a topic policy that lets only that rule publish; without
// either, none of them.
func TestNotificationRule(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	names := []string{"NotificationTopic", "NotificationSubscription", "NotificationTopicPolicy", "UrgentFindingsRule"}
	for _, tc := range []struct {
		params map[string]string
		want   bool
	}{
		{map[string]string{"ExternalId": "x"}, false},
		{map[string]string{"ExternalId": "x", "EventBusName": "default"}, false},
		{map[string]string{"ExternalId": "x", "NotificationEmail": "sec@example.com"}, false},
		{map[string]string{"ExternalId": "x", "NotificationEmail": "sec@example.com", "EventBusName": "default"}, true},
		{map[string]string{"ExternalId": "x", "NotificationEmail": "sec@example.com", "EventBusName": "security-findings"}, true},
		{map[string]string{"ExternalId": "x", "NotificationEmail": "sec@example.com", "EventBusName": ""}, false},
	} {
		s, err := newStack(tpl, tc.params)
		if err != nil {
			t.Fatal(err)
		}
		resources, _ := tpl.Raw["Resources"].(map[string]any)
		props := map[string]map[string]any{}
		for _, name := range names {
			r, _ := resources[name].(map[string]any)
			if r == nil {
				t.Fatalf("template.yaml: no %s", name)
			}
			cond, _ := r["Condition"].(string)
			on := true
			if cond != "" {
				if on, err = s.condition(cond, 0); err != nil {
					t.Fatal(err)
				}
			}
			if on != tc.want {
				t.Errorf("%v: %s created %v; want %v", tc.params, name, on, tc.want)
			}
			p, err := s.eval(r["Properties"])
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			props[name], _ = p.(map[string]any)
		}
		if !tc.want {
			continue
		}
		rule := props["UrgentFindingsRule"]
		var want any
		if err := json.Unmarshal([]byte(events.UrgentOpeningsPattern), &want); err != nil {
			t.Fatal(err)
		}
		got := roundTrip(t, rule["EventPattern"])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("UrgentFindingsRule pattern %v; want report/events.UrgentOpeningsPattern %v", got, want)
		}
		if bus := fmt.Sprint(rule["EventBusName"]); bus != s.params["EventBusName"] {
			t.Errorf("UrgentFindingsRule on bus %q; want the EventBusName parameter %q", bus, s.params["EventBusName"])
		}
		targets, _ := rule["Targets"].([]any)
		if len(targets) != 1 || fmt.Sprint(targets[0].(map[string]any)["Arn"]) != "ref:NotificationTopic" {
			t.Errorf("UrgentFindingsRule targets %v; want the notification topic only", targets)
		}
		sub := props["NotificationSubscription"]
		if sub["Protocol"] != "email" || sub["Endpoint"] != "sec@example.com" || fmt.Sprint(sub["TopicArn"]) != "ref:NotificationTopic" {
			t.Errorf("NotificationSubscription %v; want an e-mail subscription of the address to the topic", sub)
		}
		pol := props["NotificationTopicPolicy"]
		sts := statementsOf(pol["PolicyDocument"])
		if len(sts) != 1 {
			t.Fatalf("NotificationTopicPolicy: %d statements; want 1", len(sts))
		}
		st := sts[0]
		principal, _ := st["Principal"].(map[string]any)
		cond, _ := st["Condition"].(map[string]any)
		arnEq, _ := cond["ArnEquals"].(map[string]any)
		if st["Effect"] != "Allow" || st["Action"] != "sns:Publish" || fmt.Sprint(principal["Service"]) != "events.amazonaws.com" ||
			fmt.Sprint(st["Resource"]) != "ref:NotificationTopic" || fmt.Sprint(arnEq["aws:SourceArn"]) != "getatt:UrgentFindingsRule.Arn" {
			t.Errorf("NotificationTopicPolicy statement %v; want events.amazonaws.com allowed sns:Publish on the topic for the rule only", st)
		}
	}
}

// TestEventBusEnvironment: the function's SCANNER_EVENT_BUS is the
// EventBusName parameter ("default" names the account's default bus).
func TestEventBusEnvironment(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	s, err := newStack(tpl, map[string]string{"ExternalId": "x", "EventBusName": "default"})
	if err != nil {
		t.Fatal(err)
	}
	_, props, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	env, err := s.eval(props["Environment"])
	if err != nil {
		t.Fatal(err)
	}
	vars, _ := env.(map[string]any)["Variables"].(map[string]any)
	if vars["SCANNER_EVENT_BUS"] != "default" {
		t.Errorf("SCANNER_EVENT_BUS = %v; want !Ref EventBusName", vars["SCANNER_EVENT_BUS"])
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
