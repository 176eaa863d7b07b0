// Package rules is the rule catalogue of the scanner and the policy that
// configures it. It turns the plain scan results of package
// internal/base/inventory into findings, without touching any AWS client.
//
// # Rules
//
// Every rule has a permanent ID (INV-nnn for inventory rules, SCAN-nnn for
// coverage findings), a [Level] (what its findings are about: an account, a
// bucket or a configuration), a [Kind] (what it checks: a bucket, each
// configuration, a destination, or what the scan could not see), a default
// [Severity], and the texts people read: title, rationale, remediation and
// links to the AWS documentation. Each rule lives in its own file
// (inv102_kms_key_not_approved.go, ...) with everything about it: its
// metadata, its check, the account status it covers (coverage rules) and
// its policy parameters, each a typed param with its default, its row of
// docs/policy.md, its validation and how an override's value merges with
// the inherited one. A table test sits beside it, and ruleList in
// registry.go has one line per rule. [All] and [Lookup] list the catalogue;
// [IsCoverage], [AccountCoverage] and [BucketCoverage] answer by kind, so
// no other package needs a rule ID. docs/rules.md, the parameters table of
// docs/policy.md and default-policy.yaml are generated from it
// (go test ./rules -run TestDocs -update).
//
// # Policy
//
// A [Policy] is a YAML or JSON document that switches rules on and off, sets
// their severities and parameters, applies stricter or looser settings to
// some OUs, accounts or bucket-name globs (overrides), and holds waivers
// that expire. [DefaultPolicy] is the embedded default-policy.yaml;
// [LoadPolicy] and [LoadPolicyFile] read and strictly validate a document.
// The decoder is generic: it finds a rule by its ID and lets the rule's
// parameters decode their own values. A document larger than 256 KiB,
// nested deeper than 32 levels or holding YAML anchors or aliases is
// refused before the YAML parser sees it, with a one-line error.
// docs/policy.md is the reference.
//
// # Evaluation
//
// An [Evaluator] applies a policy to [inventory.BucketResult] and
// [inventory.AccountResult] values and returns [Finding] values in a stable
// order. It is pure and safe for concurrent use.
package rules
