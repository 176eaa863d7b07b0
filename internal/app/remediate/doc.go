// Package remediate is the fixer's home: what closes the loop after a
// scan (docs/remediation.md). Today it holds the prevention half, the
// service control policy that keeps inventory configurations in the
// hands of the remediation role; the plan and the apply that change
// configurations and destination policies are to come here too.
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
