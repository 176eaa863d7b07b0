// Package deploy holds the deployment checks: tests that read the SAM
// template (template.yaml) and the member-account role (member-role.yaml)
// and hold them to the code they deploy.
//
// The tests check that the function is built the way `sam build` builds it
// (provided.al2023, arm64, the Makefile's build-ScannerFunction target),
// that every environment variable of internal/config is declared and its
// parameter's default is config's default, that the findings table has
// exactly the keys and indexes of report/dynamo's TableDefinition, that
// the schedule retries and has a dead-letter queue, that the alarms and
// every metric the dashboard plots are metrics the function prints
// (emf.Definitions: name, namespace, dimensions), that the dashboard's
// Logs Insights widget reads the messages the scanner logs, and that no
// IAM statement grants more than the scanner needs: the function's role
// may list the organization's accounts, assume the member role and write
// its own table and logs; the member role may only list buckets and read
// their inventory configurations (every action it grants is a read). The
// functions' sts:AssumeRole is decided as IAM would (internal/iampolicy):
// the member role of an account of the organization (aws:ResourceOrgID),
// or of a listed account with a static list, and of no other account.
// The optional remediation role of member-role.yaml is checked the same
// way: off by default, trusted only by the principals named, granted
// exactly the six actions a fix needs; the project's policy evaluator
// (internal/base/iampolicy, ParseIdentity) decides, for both roles, which
// of a fix's requests their policies allow.
//
// The templates are read twice: through goformation (typed, with intrinsic
// functions resolved against the parameters' defaults) and as written
// (Template.Raw), because goformation does not know every SAM property
// (ScheduleV2 events, LoggingConfig) and resolves references to resources
// to nothing. The IAM checks evaluate the raw intrinsic functions
// themselves, for several sets of parameters.
package deploy
