// Package securityhub imports what a scan changed into AWS Security Hub,
// as findings in the AWS Security Finding Format (ASFF) of the default
// product of each member account.
//
// Security Hub accepts a finding of the default product
// (arn:PARTITION:securityhub:REGION:ACCOUNT:product/ACCOUNT/default) only
// from the account the finding is about, so the [Exporter] imports each
// account's findings through its member role (the scanner's own role
// credentials, cached per account: [CredentialSource]), in the bucket's
// Region (account-level findings in the scanner's Region), one account
// and Region at a time.
//
// Only changes are sent: the store's transitions (report.Transition). A
// finding opened, reopened or whose waiver expired is imported ACTIVE
// with Compliance.Status FAILED; a waived one ARCHIVED and FAILED (the
// check still fails, the policy accepts it); a resolved one ARCHIVED and
// PASSED. Workflow and Note, which belong to the people working the
// finding, are never sent.
//
// BatchImportFindings takes at most 100 findings and 6 MB a call, and a
// finding of at most 240 KB (texts are cut to ASFF's limits, and at most
// 40 ProductFields of 2 KB are sent, so a finding never comes near it).
// Findings reported in FailedFindings, and calls that fail after the
// SDK's own retries, are sent again with exponential back-off and jitter;
// what still cannot be imported is counted, logged and returned, never
// dropped silently. An account and Region where Security Hub is not
// enabled (InvalidAccessException) gets one warning and is counted; the
// scan is not failed by any of this. docs/integrations.md documents the
// mapping and the setup.
package securityhub
