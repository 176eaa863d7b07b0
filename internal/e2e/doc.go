// Package e2e holds the end-to-end test of the Lambda function: the real
// bootstrap binary, built for this machine, runs under the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie, a Go tool of this module),
// which serves the Lambda invoke API on a loopback port exactly as the
// provided.al2023 runtime drives the function.
//
// The function talks to a simulated AWS organization (internal/awssim,
// started in the test process, through AWS_ENDPOINT_URL) and writes its
// findings into a local DynamoDB-API server (internal/dynalite, through
// AWS_ENDPOINT_URL_DYNAMODB and a proxy that records every call). The test
// invokes it with an EventBridge scheduled event, a manual dry run,
// malformed events and a deadline too short to finish, and checks the
// returned summaries, the findings table (through report/dynamo's queries),
// every EMF metric line the function prints (emf.Parse: the specification,
// emf.Definitions, the run's figures; none for a dry run), and that every
// AWS call the function made is granted by template.yaml and
// member-role.yaml.
//
// The test needs node and `npm ci` (dynalite): without them it is skipped,
// unless the environment variable CI is set, in which case it fails.
package e2e
