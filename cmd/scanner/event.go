//go:build !lambda || !widget

package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/s3inv/scanner/internal/base/strictjson"
	"github.com/s3inv/scanner/scan"
)

// invocation is what one Lambda invocation asks for.
type invocation struct {
	// Trigger is "schedule" for EventBridge events and EventBridge
	// Scheduler payloads, "manual" for a hand-made payload.
	Trigger string
	// Accounts limits the run to these accounts (manual only).
	Accounts []string
	// DryRun scans and evaluates but writes nothing (manual only).
	DryRun bool
}

// manualEvent is the payload of a manual invocation, and of the
// EventBridge Scheduler target (which sends {"trigger": "schedule"}).
type manualEvent struct {
	Trigger  string   `json:"trigger"`
	Accounts []string `json:"accounts"`
	DryRun   bool     `json:"dry_run"`
}

// scheduledEvent is an EventBridge scheduled rule's event: every field
// EventBridge sends (events.EventBridgeEvent), so that any other is
// refused.
type scheduledEvent struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

const eventHelp = `want an EventBridge scheduled event, or {"trigger": "schedule"|"manual", "accounts": ["123456789012", ...], "dry_run": true|false}`

// parseEvent reads a Lambda payload. Anything it does not recognise (an
// unknown field, a key given twice, a value of the wrong type) is rejected
// with a one-line error, before anything is scanned or written; values
// from the event are echoed shortened.
func parseEvent(raw []byte) (invocation, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return invocation{}, fmt.Errorf("event: not a JSON object; %s", eventHelp)
	}
	if err := strictjson.CheckKeys(raw); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	var probe struct {
		DetailType *string `json:"detail-type"`
		Source     *string `json:"source"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	if probe.Source != nil || probe.DetailType != nil {
		var sched scheduledEvent
		if err := strictjson.Decode(raw, &sched); err != nil {
			return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
		}
		if sched.Source != "aws.events" || sched.DetailType != "Scheduled Event" {
			return invocation{}, fmt.Errorf("event: source %q, detail-type %q: %s", strictjson.Echo(sched.Source), strictjson.Echo(sched.DetailType), eventHelp)
		}
		return invocation{Trigger: "schedule"}, nil
	}

	var m manualEvent
	if err := strictjson.Decode(raw, &m); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	switch m.Trigger {
	case "":
		m.Trigger = "manual"
	case "schedule", "manual":
	default:
		return invocation{}, fmt.Errorf("event: trigger %q: want schedule or manual", strictjson.Echo(m.Trigger))
	}
	if m.Trigger == "schedule" && (len(m.Accounts) > 0 || m.DryRun) {
		return invocation{}, fmt.Errorf("event: a scheduled run takes no accounts or dry_run; use trigger \"manual\"")
	}
	for _, id := range m.Accounts {
		if !scan.ValidAccountID(id) {
			return invocation{}, fmt.Errorf("event: accounts: %q is not a 12-digit account ID", strictjson.Echo(id))
		}
	}
	return invocation(m), nil
}
