// Package events publishes what a scan changed to Amazon EventBridge: one
// event for each change of a finding's state that the findings store
// wrote (report.Transition: opened, reopened, resolved, waived, waiver
// expired) and one for the finished scan, with its summary. A scan that
// changed nothing sends the scan's event alone.
//
// Every event has the source "s3-inventory-scanner" ([Source]) and a
// detail-type naming the change ([DetailType]: "Finding Opened",
// "Finding Reopened", "Finding Resolved", "Finding Waived", "Waiver
// Expired", "Scan Finished"). A finding's detail is its record as the
// store keeps it (the finding's fields, first_seen, last_seen,
// resolved_at, resolution) with the change and the previous status
// ([FindingDetail]); the scan's detail is its summary.
//
// [Publisher] sends them with PutEvents on the configured bus (the
// account's default bus when none is named): at most 10 entries a call
// and 256 KB a call, each entry's size checked first (a finding too large
// is sent without its evidence). Entries EventBridge reports as failed
// (FailedEntryCount) with a retryable code (InternalFailure,
// ThrottlingException), and whole calls that fail, are sent again with
// exponential back-off and jitter; what still cannot be sent is counted,
// logged and returned, never dropped silently. docs/integrations.md
// documents the events and rule patterns.
package events
