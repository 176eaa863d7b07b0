package deploy

import (
	"fmt"
	"regexp"
	"testing"
)

// TestTableDeletionProtection: the findings table refuses DeleteTable
// until someone turns the protection off (DeletionPolicy Retain guards
// only against the stack's own deletion).
func TestTableDeletionProtection(t *testing.T) {
	_, table, err := loadTemplate(t, "template.yaml").Resource("FindingsTable")
	if err != nil {
		t.Fatal(err)
	}
	if table["DeletionProtectionEnabled"] != true {
		t.Errorf("FindingsTable.DeletionProtectionEnabled = %v; want true", table["DeletionProtectionEnabled"])
	}
}

// testKey is a customer managed key of the stack's Region and account.
const testKey = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

// TestCustomerKey: with KmsKeyArn empty (the default) every table, log
// group, queue and topic of the template keeps its service's own
// encryption (the table the AWS managed key, the queues SSE-SQS); with a
// key, each of them is encrypted with it and nothing else. Every
// resource of those types is checked, so a new one without the key
// fails.
func TestCustomerKey(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	p, _ := raw(tpl.Raw, "Parameters", "KmsKeyArn").(map[string]any)
	if p == nil || p["Default"] != "" {
		t.Fatalf("parameter KmsKeyArn = %v; want a parameter with the default \"\" (no customer key)", p)
	}
	re := regexp.MustCompile(fmt.Sprint(p["AllowedPattern"]))
	for v, ok := range map[string]bool{"": true, testKey: true,
		"arn:aws:kms:us-east-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab":            true,
		"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab": true,
		"alias/scanner": false, "arn:aws:kms:eu-west-1:111122223333:alias/scanner": false, "1234abcd-12ab-34cd-56ef-1234567890ab": false,
		"arn:aws:kms:eu-west-1:111122223333:key/*": false, testKey + " ": false} {
		if re.MatchString(v) != ok {
			t.Errorf("KmsKeyArn %q matches the AllowedPattern: %v; want %v (a key ARN: CloudWatch Logs takes no alias)", v, !ok, ok)
		}
	}

	// What names the key in each type, and what it is without one.
	type keyed struct {
		keyProp string
		without func(props map[string]any) error
	}
	types := map[string]keyed{
		"AWS::DynamoDB::Table": {"SSESpecification.KMSMasterKeyId", func(props map[string]any) error {
			if raw(props, "SSESpecification", "SSEEnabled") != true {
				return fmt.Errorf("SSESpecification %v; want SSEEnabled true (the AWS managed key)", props["SSESpecification"])
			}
			return nil
		}},
		"AWS::Logs::LogGroup": {"KmsKeyId", func(map[string]any) error { return nil }},
		"AWS::SQS::Queue": {"KmsMasterKeyId", func(props map[string]any) error {
			if props["SqsManagedSseEnabled"] != true {
				return fmt.Errorf("SqsManagedSseEnabled %v; want true (SSE-SQS)", props["SqsManagedSseEnabled"])
			}
			return nil
		}},
		"AWS::SNS::Topic": {"KmsMasterKeyId", func(map[string]any) error { return nil }},
	}
	key := func(props map[string]any, prop string) any {
		if k, ok := map[string][2]string{"SSESpecification.KMSMasterKeyId": {"SSESpecification", "KMSMasterKeyId"}}[prop]; ok {
			return raw(props, k[0], k[1])
		}
		return props[prop]
	}
	for _, c := range []struct {
		name string
		key  string
	}{{"without a key", ""}, {"with a key", testKey}} {
		s, err := newStack(tpl, map[string]string{"ExternalId": "ext-0123", "KmsKeyArn": c.key,
			"EventBusName": "default", "NotificationEmail": "secops@example.com"}) // the topic exists
		if err != nil {
			t.Fatal(err)
		}
		for typ, k := range types {
			rs := tpl.ResourcesOfType(typ)
			if len(rs) == 0 {
				t.Fatalf("template.yaml: no %s", typ)
			}
			for name, r := range rs {
				v, err := s.eval(r["Properties"])
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				props, _ := v.(map[string]any)
				got := key(props, k.keyProp)
				switch {
				case c.key == "" && got != nil:
					t.Errorf("%s (%s) without KmsKeyArn: %s = %v; want none (the service's own key)", name, typ, k.keyProp, got)
				case c.key == "":
					if err := k.without(props); err != nil {
						t.Errorf("%s (%s) without KmsKeyArn: %v", name, typ, err)
					}
				case got != c.key:
					t.Errorf("%s (%s) with KmsKeyArn: %s = %v; want the key %s", name, typ, k.keyProp, got, c.key)
				case typ == "AWS::SQS::Queue" && props["SqsManagedSseEnabled"] != nil:
					t.Errorf("%s with KmsKeyArn: SqsManagedSseEnabled %v; want it unset (SQS refuses both)", name, props["SqsManagedSseEnabled"])
				}
			}
		}
	}
}

// TestDashboardFunctionConcurrency: the widget function's concurrency is
// reserved (DashboardConcurrency, 10 by default): invocations beyond it
// are throttled instead of taking the account's concurrency from the
// scanner and its workers.
func TestDashboardFunctionConcurrency(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	_, fn, err := tpl.Resource("DashboardFunction")
	if err != nil {
		t.Fatal(err)
	}
	if refName(fn["ReservedConcurrentExecutions"]) != "DashboardConcurrency" {
		t.Errorf("DashboardFunction.ReservedConcurrentExecutions = %v; want !Ref DashboardConcurrency", fn["ReservedConcurrentExecutions"])
	}
	p, _ := raw(tpl.Raw, "Parameters", "DashboardConcurrency").(map[string]any)
	if p["Type"] != "Number" || p["Default"] != float64(10) || p["MinValue"] != float64(1) {
		t.Errorf("parameter DashboardConcurrency = %v; want a Number, default 10, at least 1", p)
	}
}
