// Package rules is the rule catalogue of the scanner and the policy that
// configures it. It turns the plain scan results of package
// internal/inventory into findings, without touching any AWS client.
//
// # Rules
//
// Every rule has a permanent ID (INV-nnn for inventory rules, SCAN-nnn for
// coverage findings), a [Level] (account, bucket or configuration), a default
// [Severity], and the texts people read: title, rationale, remediation and
// links to the AWS documentation. Each rule lives in its own file
// (inv101_destination_not_sse_kms.go, ...) next to its check, with a table
// test beside it. [All] lists the catalogue; docs/rules.md is generated from
// it (go test ./rules -run TestDocs -update).
//
// # Policy
//
// A [Policy] is a YAML or JSON document that switches rules on and off, sets
// their severities and parameters (approved KMS keys, destination accounts
// and buckets, formats, schedule, versions, optional fields), applies
// stricter or looser settings to some OUs, accounts or bucket-name globs
// (overrides), and holds waivers that expire. [DefaultPolicy] is the
// embedded default-policy.yaml; [LoadPolicy] and [LoadPolicyFile] read and
// strictly validate a document. docs/policy.md is the reference.
//
// # Evaluation
//
// An [Evaluator] applies a policy to [inventory.BucketResult] and
// [inventory.AccountResult] values and returns [Finding] values in a stable
// order. It is pure and safe for concurrent use.
package rules
