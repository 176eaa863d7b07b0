package main

import (
	"bytes"
	"encoding/json"
	"fmt"

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

// scheduledEvent holds the fields that identify an EventBridge scheduled
// rule's event (events.EventBridgeEvent has them all; these are enough).
type scheduledEvent struct {
	DetailType string `json:"detail-type"`
	Source     string `json:"source"`
}

const eventHelp = `want an EventBridge scheduled event, or {"trigger": "schedule"|"manual", "accounts": ["123456789012", ...], "dry_run": true|false}`

// parseEvent reads a Lambda payload. Anything it does not recognise is
// rejected with a one-line error, before anything is scanned or written.
func parseEvent(raw []byte) (invocation, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return invocation{}, fmt.Errorf("event: not a JSON object; %s", eventHelp)
	}
	var obj json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&obj); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	if dec.InputOffset() != int64(len(raw)) {
		return invocation{}, fmt.Errorf("event: data after the JSON object; %s", eventHelp)
	}
	var sched scheduledEvent
	if err := json.Unmarshal(obj, &sched); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	if sched.Source != "" || sched.DetailType != "" {
		if sched.Source != "aws.events" || sched.DetailType != "Scheduled Event" {
			return invocation{}, fmt.Errorf("event: source %q, detail-type %q: %s", sched.Source, sched.DetailType, eventHelp)
		}
		return invocation{Trigger: "schedule"}, nil
	}

	var m manualEvent
	dec = json.NewDecoder(bytes.NewReader(obj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	switch m.Trigger {
	case "":
		m.Trigger = "manual"
	case "schedule", "manual":
	default:
		return invocation{}, fmt.Errorf("event: trigger %q: want schedule or manual", m.Trigger)
	}
	if m.Trigger == "schedule" && (len(m.Accounts) > 0 || m.DryRun) {
		return invocation{}, fmt.Errorf("event: a scheduled run takes no accounts or dry_run; use trigger \"manual\"")
	}
	for _, id := range m.Accounts {
		if !scan.ValidAccountID(id) {
			return invocation{}, fmt.Errorf("event: accounts: %q is not a 12-digit account ID", id)
		}
	}
	return invocation(m), nil
}
