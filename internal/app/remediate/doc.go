// Package remediate is the fixer's home: what closes the loop after a
// scan (docs/remediation.md). It holds the plan of fixes and the
// prevention half, the service control policy that keeps inventory
// configurations in the hands of the remediation role; the apply that
// makes a saved plan's changes is to come here too.
//
// # The plan
//
// [NewPlan] is a pure function of what one scan read ([Reads], kept by a
// [Collector], the pipeline's Tap) and the policy: it evaluates the reads
// with the policy's own rules, decides per open finding whether the
// policy's remediation section lets it be fixed, and computes each
// [Change] from the rules' parameters (rules.Policy.Desired): creates of
// the managed configuration (INV-001 to INV-003), in-place updates of the
// failing fields only, every other field sent back as read (INV-101 to
// INV-103, INV-106 to INV-109, INV-115), disables (INV-104, INV-105, when
// the policy says disable), and merges of one managed statement, by Sid,
// into destination bucket and key policies (INV-111 to INV-113), checked
// with internal/base/iampolicy. A change is kept only when the same rules
// pass on its result and nothing that passed fails; otherwise, and for
// what no change can fix, the finding is a [Manual] item with its reason.
// It never deletes a configuration, a policy or a statement, and keeps
// within S3's 1,000 configurations per bucket and the 20 KB and 32 KB
// policy limits. A saved plan ([Plan.WriteJSON], [ReadPlan]) records per
// change the digest of what it read ([ConfigDigest], [PolicyDigest]), so
// that apply can refuse a target changed since.
//
// # The service control policy
//
// [SCP] builds a deny-list SCP of two statements, meant to be attached
// beside AWS's FullAWSAccess to the OUs whose accounts the scanner fixes:
//
//   - OnlyTheRemediationRolePutsInventory denies s3:PutInventoryConfiguration
//     (which authorises both PutBucketInventoryConfiguration and
//     DeleteBucketInventoryConfiguration) to every principal whose
//     aws:PrincipalArn is ArnNotLike the remediation role (by name, in
//     every account and partition) or a break-glass role (by name in
//     every account, or by ARN).
//   - NoSensitiveInventoryFields denies s3:PutInventoryConfiguration,
//     whoever asks, when the configuration's optional fields
//     (s3:InventoryAccessibleOptionalFields, a multivalued key) include
//     any of [SensitiveFields] (ForAnyValue:StringEquals with Deny, as
//     S3's documentation recommends: a configuration without those fields,
//     and a deletion, carry none of them and are not denied).
//
// The policy is returned minified, the form AWS Organizations counts
// against its [MaxSCPSize] bytes when the policy is saved through the API
// or the CLI (both keep whitespace); SCP refuses, with a one-line error,
// a list of break-glass roles that would not fit. Role names and ARNs are
// checked as IAM spells them, without wildcards: a wildcard would exempt
// roles nobody named.
//
// What an SCP cannot do: it never applies to the management account or to
// service-linked roles, and the remediation role is exempt by name, so
// the SCP is only as strong as the control over who may create or change
// a role of that name in the member accounts.
package remediate
