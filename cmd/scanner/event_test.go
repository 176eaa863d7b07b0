//go:build !lambda || !widget

package main

import (
	"strings"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    invocation
		wantErr string
	}{
		{
			name:    "EventBridge scheduled rule",
			payload: `{"version":"0","id":"89d1a02d","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-25T02:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/x"],"detail":{}}`,
			want:    invocation{Trigger: "schedule"},
		},
		{name: "EventBridge Scheduler payload", payload: `{"trigger":"schedule"}`, want: invocation{Trigger: "schedule"}},
		{name: "empty manual", payload: ` {} `, want: invocation{Trigger: "manual"}},
		{
			name:    "manual subset dry run",
			payload: `{"accounts":["111111111111","222222222222"],"dry_run":true}`,
			want:    invocation{Trigger: "manual", Accounts: []string{"111111111111", "222222222222"}, DryRun: true},
		},
		{name: "other EventBridge event", payload: `{"detail-type":"Object Created","source":"aws.s3","detail":{}}`, wantErr: `source "aws.s3"`},
		{name: "unknown field", payload: `{"acounts":["111111111111"]}`, wantErr: `unknown field "acounts"`},
		{name: "bad account", payload: `{"accounts":["1234"]}`, wantErr: `"1234" is not a 12-digit account ID`},
		{name: "wrong type", payload: `{"dry_run":"yes"}`, wantErr: "cannot unmarshal"},
		{name: "bad trigger", payload: `{"trigger":"now"}`, wantErr: `trigger "now"`},
		{name: "schedule with accounts", payload: `{"trigger":"schedule","accounts":["111111111111"]}`, wantErr: "takes no accounts"},
		{name: "array", payload: `[1,2]`, wantErr: "not a JSON object"},
		{name: "string", payload: `"scan"`, wantErr: "not a JSON object"},
		{name: "empty", payload: ``, wantErr: "not a JSON object"},
		{name: "trailing data", payload: `{} {}`, wantErr: "data after"},
		{name: "duplicate key", payload: `{"dry_run":false,"dry_run":true}`, wantErr: `key "dry_run" given twice`},
		{name: "duplicate nested key", payload: `{"source":"aws.events","detail-type":"Scheduled Event","detail":{"a":1,"a":2}}`, wantErr: `key "a" given twice`},
		{name: "same key in two objects", payload: `{"source":"aws.events","detail-type":"Scheduled Event","detail":{"source":1}}`, want: invocation{Trigger: "schedule"}},
		{name: "unknown field in a scheduled event", payload: `{"source":"aws.events","detail-type":"Scheduled Event","accounts":["111111111111"]}`, wantErr: `unknown field "accounts"`},
		{name: "long value shortened", payload: `{"trigger":"` + strings.Repeat("x", 5000) + `"}`, wantErr: `trigger "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseEvent([]byte(tt.payload))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") || len(err.Error()) > 400 {
					t.Errorf("error spans lines or is long: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Trigger != tt.want.Trigger || got.DryRun != tt.want.DryRun || strings.Join(got.Accounts, ",") != strings.Join(tt.want.Accounts, ",") {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{`{}`, `{"trigger":"schedule"}`, `{"source":"aws.events","detail-type":"Scheduled Event"}`,
		`{"accounts":["111111111111"],"dry_run":true}`, `[]`, `{"a":`, `{"trigger":"manual","trigger":"schedule"}`,
		`{"detail":{"x":[{"y":1,"y":2}]},"source":"aws.events","detail-type":"Scheduled Event"}`, `{"trigger":"` + strings.Repeat("é", 300) + `"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := parseEvent(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
			return
		}
		if inv.Trigger != "schedule" && inv.Trigger != "manual" {
			t.Errorf("accepted trigger %q", inv.Trigger)
		}
		if inv.Trigger == "schedule" && (inv.DryRun || len(inv.Accounts) > 0) {
			t.Errorf("scheduled run with options: %+v", inv)
		}
	})
}
