// Package emf writes CloudWatch Embedded Metric Format (EMF) documents:
// JSON log lines that CloudWatch Logs turns into metrics, with no API call
// and no permission (in Lambda, printing them to standard output is
// enough). No maintained Go library does this, and the format is small.
//
// The format (emf.go): Encode groups values by their dimensions and
// dimension values, one document each, split at MaxMetrics metrics; every
// dimension and metric is a top-level member, units are CloudWatch's, a
// dimension set holds at most MaxDimensions names. Parse reads a line back
// and checks it against the same specification; tests run it over every
// line the scanner prints.
//
// The scanner's metrics (scanner.go): Definitions lists every metric the
// scanner may emit, with its unit, dimensions and when it is emitted; it
// is the source of truth the dashboard of template.yaml is checked
// against. Values and Write turn a run (its report.Summary, the open
// findings a Tally counted by rule and severity, the AWS requests
// awsclient.CallStats counted) into documents. Account and bucket are
// never dimensions: every distinct combination of dimension values is a
// billed metric.
package emf
