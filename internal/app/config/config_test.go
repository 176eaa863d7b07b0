package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsAgreeWithEnv(t *testing.T) {
	got, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := Default(); !reflect.DeepEqual(got, want) {
		t.Errorf("FromEnv(empty) =\n%+v\nDefault() =\n%+v", got, want)
	}
}

func TestEnvNamesAreUniqueAndDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Env {
		if !strings.HasPrefix(e.Name, "SCANNER_") || e.Doc == "" || seen[e.Name] {
			t.Errorf("bad or duplicate entry %+v", e)
		}
		seen[e.Name] = true
	}
}

func TestFromEnv(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"SCANNER_ACCOUNT_SOURCE":      "Static",
		"SCANNER_ACCOUNTS":            "111111111111, 222222222222,",
		"SCANNER_ROLE_NAME":           "audit/InventoryReader",
		"SCANNER_EXTERNAL_ID":         "s3cr3t-id",
		"SCANNER_ACCOUNT_CONCURRENCY": "4",
		"SCANNER_DEADLINE_MARGIN":     "45s",
		"SCANNER_TABLE":               "inventory-findings",
		"SCANNER_RETENTION_DAYS":      "30",
		"SCANNER_METRICS_NAMESPACE":   "S3InventoryScanner/prod-scanner",
		"SCANNER_EVENT_BUS":           "arn:aws:events:eu-west-1:111111111111:event-bus/security",
		"SCANNER_SECURITY_HUB":        "True",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.AccountSource != SourceStatic || len(c.Accounts) != 2 || c.RoleName != "audit/InventoryReader" ||
		c.AccountConcurrency != 4 || c.BucketConcurrency != 16 || c.DeadlineMargin != 45*time.Second ||
		c.Table != "inventory-findings" || c.Retention != 30*24*time.Hour || c.MetricsNamespace != "S3InventoryScanner/prod-scanner" ||
		c.EventBus != "arn:aws:events:eu-west-1:111111111111:event-bus/security" || !c.SecurityHub {
		t.Errorf("config = %+v", c)
	}
}

func TestFromEnvErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SCANNER_ACCOUNT_SOURCE": "ldap"}, `SCANNER_ACCOUNT_SOURCE="ldap": want organizations or static`},
		{map[string]string{"SCANNER_ACCOUNT_SOURCE": "static"}, "SCANNER_ACCOUNTS"},
		{map[string]string{"SCANNER_ACCOUNT_SOURCE": "static", "SCANNER_ACCOUNTS": "1234"}, `SCANNER_ACCOUNTS: account "1234"`},
		{map[string]string{"SCANNER_ACCOUNTS": "111111111111"}, "SCANNER_ACCOUNT_SOURCE is \"organizations\""},
		{map[string]string{"SCANNER_INCLUDE_OUS": "finance"}, `include OUs: "finance" is not an OU ID`},
		{map[string]string{"SCANNER_ROLE_NAME": "bad role"}, "SCANNER_ROLE_NAME"},
		{map[string]string{"SCANNER_ROLE_NAME": "{account_id}"}, `SCANNER_ROLE_NAME: role name "{account_id}": {account_id} alone is every role (role/*)`},
		{map[string]string{"SCANNER_ROLE_NAME": "security/{account_id}"}, `SCANNER_ROLE_NAME: role name "security/{account_id}": {account_id} alone`},
		{map[string]string{"SCANNER_ROLE_NAME": "scanner-*"}, `SCANNER_ROLE_NAME: role name "scanner-*": want an IAM role name`},
		{map[string]string{"SCANNER_ACCOUNT_CONCURRENCY": "many"}, `SCANNER_ACCOUNT_CONCURRENCY="many": want a whole number`},
		{map[string]string{"SCANNER_BUCKET_CONCURRENCY": "0"}, `SCANNER_BUCKET_CONCURRENCY="0": want a whole number from 1 to 256`},
		{map[string]string{"SCANNER_DEADLINE_MARGIN": "30"}, `SCANNER_DEADLINE_MARGIN="30": want a duration`},
		{map[string]string{"SCANNER_TABLE": "x"}, `SCANNER_TABLE="x"`},
		{map[string]string{"SCANNER_RETENTION_DAYS": "0"}, `SCANNER_RETENTION_DAYS="0"`},
		// Range-checked before the conversion to a duration, which would
		// overflow to about one day.
		{map[string]string{"SCANNER_RETENTION_DAYS": "213505"}, `SCANNER_RETENTION_DAYS="213505": want a whole number from 1 to 3650`},
		{map[string]string{"SCANNER_ACCOUNT_CONCURRENCY": "99999999999999999999999"}, `want a whole number from 1 to 256`},
		{map[string]string{"SCANNER_TABLE": strings.Repeat("t", 300)}, `…": want a DynamoDB table name`},
		{map[string]string{"SCANNER_POLICY": "version: 1", "SCANNER_POLICY_FILE": "p.yaml"}, "both set"},
		{map[string]string{"SCANNER_METRICS_NAMESPACE": "AWS/Lambda"}, `SCANNER_METRICS_NAMESPACE="AWS/Lambda": want a CloudWatch namespace`},
		{map[string]string{"SCANNER_METRICS_NAMESPACE": "scanner{prod}"}, `SCANNER_METRICS_NAMESPACE="scanner{prod}"`},
		{map[string]string{"SCANNER_METRICS_NAMESPACE": strings.Repeat("n", 256)}, `…": want a CloudWatch namespace`},
		{map[string]string{"SCANNER_EVENT_BUS": "my bus"}, `SCANNER_EVENT_BUS="my bus": want an EventBridge bus name`},
		{map[string]string{"SCANNER_EVENT_BUS": "arn:aws:sqs:eu-west-1:111111111111:q"}, `SCANNER_EVENT_BUS="arn:aws:sqs:`},
		{map[string]string{"SCANNER_EVENT_BUS": strings.Repeat("b", 257)}, `SCANNER_EVENT_BUS="bbb`},
		{map[string]string{"SCANNER_MODE": "many"}, `SCANNER_MODE="many": want single, fanout or auto`},
		{map[string]string{"SCANNER_MODE": "fanout"}, `SCANNER_MODE=fanout needs SCANNER_QUEUE_URL`},
		{map[string]string{"SCANNER_QUEUE_URL": "sqs://queue"}, `SCANNER_QUEUE_URL="sqs://queue": want an SQS queue URL`},
		{map[string]string{"SCANNER_FANOUT_THRESHOLD": "0"}, `SCANNER_FANOUT_THRESHOLD="0": want a whole number from 1 to 100000`},
		{map[string]string{"SCANNER_FANOUT_DEADLINE": "soon"}, `SCANNER_FANOUT_DEADLINE="soon": want a duration`},
		{map[string]string{"SCANNER_FANOUT_DEADLINE": "48h"}, `SCANNER_FANOUT_DEADLINE=48h0m0s: want 5m0s to 24h0m0s`},
		{map[string]string{"SCANNER_SECURITY_HUB": "yes"}, `SCANNER_SECURITY_HUB="yes": want true or false`},
		{map[string]string{"SCANNER_SECURITY_HUB": "1"}, `SCANNER_SECURITY_HUB="1": want true or false`},
	}
	for _, tt := range tests {
		_, err := FromEnv(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("FromEnv(%v) = %v, want one line containing %q", tt.env, err, tt.want)
		}
	}
}

func TestExternalIDNeverInErrors(t *testing.T) {
	_, err := FromEnv(env(map[string]string{"SCANNER_EXTERNAL_ID": "has spaces secret"}))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("err = %v; want an error that does not echo the external ID", err)
	}
}

// TestValidateAsNamesFlags names the flag the user typed, and the
// environment variable otherwise.
func TestValidateAsNamesFlags(t *testing.T) {
	c := Default()
	c.AccountConcurrency = 0
	err := c.ValidateAs(Names{"SCANNER_ACCOUNT_CONCURRENCY": "--account-concurrency"})
	if err == nil || err.Error() != "--account-concurrency 0: want 1 to 256" {
		t.Errorf("ValidateAs = %v; want the flag named", err)
	}
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "SCANNER_ACCOUNT_CONCURRENCY=0:") {
		t.Errorf("Validate = %v; want the variable named", err)
	}
	c = Default()
	c.AccountSource, c.Accounts = SourceStatic, []string{"12345"}
	err = c.ValidateAs(Names{"SCANNER_ACCOUNTS": "--accounts"})
	if err == nil || !strings.HasPrefix(err.Error(), "--accounts: ") || strings.Contains(err.Error(), "SCANNER_") {
		t.Errorf("ValidateAs = %v; want --accounts named and no variable", err)
	}
}

func TestEventBusNamesAccepted(t *testing.T) {
	for _, bus := range []string{"default", "security-findings", "aws.partner/example.com/123/feed", "arn:aws-us-gov:events:us-gov-west-1:111111111111:event-bus/security"} {
		c, err := FromEnv(env(map[string]string{"SCANNER_EVENT_BUS": bus}))
		if err != nil || c.EventBus != bus {
			t.Errorf("SCANNER_EVENT_BUS=%q: %q, %v; want it accepted", bus, c.EventBus, err)
		}
	}
	if c, err := FromEnv(env(nil)); err != nil || c.EventBus != "" {
		t.Errorf("SCANNER_EVENT_BUS unset: %q, %v; want no events", c.EventBus, err)
	}
}

func TestFanoutSettings(t *testing.T) {
	const q = "https://sqs.eu-west-1.amazonaws.com/111111111111/scanner-accounts"
	c, err := FromEnv(env(map[string]string{"SCANNER_MODE": "Auto", "SCANNER_QUEUE_URL": q, "SCANNER_FANOUT_THRESHOLD": "50", "SCANNER_FANOUT_DEADLINE": "2h"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeAuto || c.QueueURL != q || c.FanoutThreshold != 50 || c.FanoutDeadline != 2*time.Hour {
		t.Errorf("config = %+v", c)
	}
	for n, want := range map[int]bool{1: false, 50: false, 51: true} {
		if got := c.FansOut(n); got != want {
			t.Errorf("auto, threshold 50: FansOut(%d) = %v; want %v", n, got, want)
		}
	}
	c.Mode = ModeSingle
	if c.FansOut(100000) {
		t.Error("single: FansOut = true")
	}
	c.Mode = ModeFanout
	if !c.FansOut(1) {
		t.Error("fanout: FansOut(1) = false")
	}
	if _, err := FromEnv(env(map[string]string{"SCANNER_QUEUE_URL": "http://127.0.0.1:5000/123456789012/accounts"})); err != nil {
		t.Errorf("a local server's queue URL: %v", err)
	}
}
