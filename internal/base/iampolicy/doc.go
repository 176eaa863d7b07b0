// Package iampolicy reads AWS resource policies (S3 bucket policies and
// KMS key policies) and identity-based policies (IAM policies of roles,
// service control policies) and evaluates them for one request, for the
// checks that follow an S3 inventory configuration to its destination
// bucket and KMS key, and for the policies the fixer writes and the
// guardrail it proposes. It is pure: its input is the policy document's
// text, and it makes no AWS call.
//
// # Reading
//
// [Parse] is strict, because a policy it cannot read must never be read as
// compliant. It refuses documents over [MaxPolicySize] (64 KiB; S3 allows
// 20 KB and KMS 32 KB), invalid JSON, nesting deeper than 16, a duplicate
// key in any object (encoding/json would silently keep the last one, and
// IAM's own choice is not documented), unknown top-level elements (other
// than Version, Id, Statement) or statement elements (other than Sid,
// Effect, Principal, NotPrincipal, Action, NotAction, Resource,
// NotResource, Condition), unknown principal types (other than AWS,
// Service, Federated, CanonicalUser), a Version other than 2012-10-17 or
// 2008-10-17, and statements without Effect, Principal or NotPrincipal,
// Action or NotAction, Resource or NotResource. Statement may be one
// object or an array; Principal "*" or an object of string-or-list
// values; condition values strings, booleans or numbers, single or in a
// list. Any condition operator is accepted by Parse.
//
// [ParseIdentity] reads an identity-based policy just as strictly, except
// that its statements must name no Principal or NotPrincipal: they apply
// to whoever the policy governs.
//
// # Evaluating
//
// [Policy.Decide] evaluates a [Request] (a service or IAM principal, an
// action, a resource ARN and the request's condition keys) as IAM
// evaluates a resource policy alone: an explicit Deny wins, else an Allow
// allows, else the request is NotAllowed (an implicit deny). It
// implements:
//
//   - Principal and NotPrincipal: "*"; {"AWS": "*"} (every principal,
//     services included); Service names matched exactly; AWS account IDs
//     and root ARNs (every principal of the account), user and role ARNs,
//     a role ARN covering its assumed-role sessions. Federated never
//     matches a service or IAM principal.
//   - Action and NotAction: "*" and service:action patterns with * and ?
//     wildcards, matched case-insensitively.
//   - Resource and NotResource: "*" and ARN patterns, matched segment by
//     segment with * and ? wildcards, case-sensitively.
//   - Condition: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
//     StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals,
//     ArnLike, ArnNotEquals, ArnNotLike (both ARN forms per segment, with
//     wildcards), Bool and Null; the IfExists suffix (except on Null) and
//     the ForAnyValue: and ForAllValues: prefixes. Operators and keys in a
//     block are ANDed, a key's values ORed (a negated operator matches
//     when the request value equals none of them). Keys are
//     case-insensitive; String values case-sensitive. A key absent from the
//     request fails a positive operator, passes a negated one, passes with
//     IfExists, fails ForAnyValue and passes ForAllValues.
//   - Condition keys: any key the request's Context holds, and the keys of
//     [KnownKeys] (aws:SourceAccount, aws:SourceArn, aws:SourceOrgID,
//     s3:x-amz-acl, aws:SecureTransport), which are absent when the
//     Context does not hold them. A multivalued key present with no
//     value (an empty list, as s3:InventoryAccessibleOptionalFields of a
//     configuration without optional fields) is absent too. Keys the
//     evaluator cannot derive, such as aws:PrincipalArn (the role of an
//     assumed-role session, with a path the session ARN does not show),
//     must be in the Context for a statement on them to be decided.
//
// An identity-based policy is asked about IAM principals only, and its
// statements apply to the request's principal. Its outcome is one part
// of a larger evaluation (a service control policy is combined with
// AWS's FullAWSAccess and the account's own policies, where its explicit
// Deny and its implicit NotAllowed differ), so an undecidable Deny makes
// it Unknown even when no statement could allow.
//
// Out of scope, deliberately: policy variables (${aws:username} and the
// like, in Version 2012-10-17 documents; in 2008-10-17 they are plain
// text), every other condition operator (Numeric*, Date*, IpAddress,
// Binary*, ...), condition keys outside Context and KnownKeys, wildcards
// in AWS principals other than "*", canonical-user principals, and every
// other step of IAM's evaluation: combining a request's policies (each
// is decided on its own), resource control policies, permission
// boundaries, session policies, ACLs, Block Public Access and KMS grants.
//
// Anything outside the implemented part yields [Unknown], never [Allow]:
// a statement whose applicability depends on it is undecidable, and the
// outcome is Unknown whenever the answer depends on such a statement (a
// decided Deny still gives Deny; an undecidable Deny with no possible
// Allow still gives NotAllowed). The Decision names the statements and
// the reason, for a finding that says why the check could not be made.
//
// # Questions for the inventory checks
//
// [Policy.InventoryDelivery] asks whether a destination bucket policy
// lets s3.amazonaws.com s3:PutObject a source's report objects
// ([ReportKeys]) with the context S3 sends (aws:SourceAccount,
// aws:SourceArn of the source bucket, aws:SourceOrgID when known,
// s3:x-amz-acl bucket-owner-full-control, aws:SecureTransport true).
// [Policy.KMSGenerateDataKey] asks the same of a key policy for
// kms:GenerateDataKey (without the S3 ACL header). [Policy.UnscopedServiceAllows]
// lists the Allow statements that let the service act without a
// condition scoping aws:SourceAccount or aws:SourceArn: the confused
// deputy, where any account's inventory could write to the destination.
package iampolicy
