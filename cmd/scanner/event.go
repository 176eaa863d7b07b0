//go:build !widget

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
	if err := checkKeys(raw); err != nil {
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
		if err := decodeStrict(raw, &sched); err != nil {
			return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
		}
		if sched.Source != "aws.events" || sched.DetailType != "Scheduled Event" {
			return invocation{}, fmt.Errorf("event: source %q, detail-type %q: %s", echo(sched.Source), echo(sched.DetailType), eventHelp)
		}
		return invocation{Trigger: "schedule"}, nil
	}

	var m manualEvent
	if err := decodeStrict(raw, &m); err != nil {
		return invocation{}, fmt.Errorf("event: %v; %s", err, eventHelp)
	}
	switch m.Trigger {
	case "":
		m.Trigger = "manual"
	case "schedule", "manual":
	default:
		return invocation{}, fmt.Errorf("event: trigger %q: want schedule or manual", echo(m.Trigger))
	}
	if m.Trigger == "schedule" && (len(m.Accounts) > 0 || m.DryRun) {
		return invocation{}, fmt.Errorf("event: a scheduled run takes no accounts or dry_run; use trigger \"manual\"")
	}
	for _, id := range m.Accounts {
		if !scan.ValidAccountID(id) {
			return invocation{}, fmt.Errorf("event: accounts: %q is not a 12-digit account ID", echo(id))
		}
	}
	return invocation(m), nil
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(echo(err.Error()))
	}
	if dec.InputOffset() != int64(len(raw)) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// checkKeys walks the JSON text and refuses an object that names a key
// twice (encoding/json would keep the last one silently) and data after
// the first value.
func checkKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	// One set of keys per open object; nil for an open array.
	var open []map[string]bool
	expectKey := func() bool { return len(open) > 0 && open[len(open)-1] != nil }
	for afterKey := false; ; {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New(echo(err.Error()))
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				open = append(open, map[string]bool{})
			case '[':
				open = append(open, nil)
			default:
				open = open[:len(open)-1]
				if len(open) == 0 && dec.More() {
					return errors.New("data after the JSON object")
				}
			}
			afterKey = false
			continue
		case string:
			if expectKey() && !afterKey {
				keys := open[len(open)-1]
				if keys[t] {
					return fmt.Errorf("key %q given twice", echo(t))
				}
				keys[t] = true
				afterKey = true
				continue
			}
		}
		afterKey = false
	}
}
