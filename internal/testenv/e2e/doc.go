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
// The function publishes its events to EventBridge and imports into
// Security Hub on moto_server (AWS_ENDPOINT_URL_EVENTBRIDGE and
// AWS_ENDPOINT_URL_SECURITYHUB), behind a proxy that tells moto which
// account each request's credentials act in (awssim.AccountOf: the member
// credentials come from the simulator's STS, which moto does not know) and
// answers as Security Hub does where it is not enabled. A rule on moto's
// default bus sends the events to an SQS queue the test reads; the test
// reads each account's Security Hub with GetFindings. It checks both after
// a first run, a run that changed nothing, and a run after the test fixed
// a configuration.
//
// TestLambdaFanoutEndToEnd runs a fan-out over SQS the same way: a
// coordinator process (SCANNER_MODE=fanout) sends an account a message to
// a queue in moto_server (AWS_ENDPOINT_URL_SQS; with a dead-letter queue,
// maxReceiveCount 5), and the test acts as Lambda's SQS event source
// mapping: it receives the messages in batches, builds the SQS event as
// Lambda does (messageId, receiptHandle, body, attributes, eventSource
// aws:sqs, eventSourceARN, awsRegion), invokes one of two worker processes
// with it, each in a goroutine of its own, and deletes every message the
// answer's batchItemFailures does not name, until the queue is empty. The
// table must then equal that of a single invocation (SCANNER_MODE=single,
// a table of its own) of the same organization: every account's records,
// lifecycle included (status, resolution, the round that saw and the round
// that changed each), and the runs' figures, over two rounds, the second
// after a configuration was fixed. The run is closed with no account
// pending and a finish time, its ScansFinished metric printed by exactly
// one invocation, every worker prints its AWS calls, and the calls the
// coordinator and the workers print add up to what the simulated
// organization received. Each role's processes reach DynamoDB, SQS,
// EventBridge and Security Hub through recorders of their own, and every
// call must be granted by the role the function runs as (checkGrants with
// the role's logical ID): the coordinator's and the single invocation's by
// ScannerRole, sqs:SendMessage on the queue included, the workers' by
// WorkerRole, the member accounts' by MemberRole, which must trust both.
//
// The tests need node and `npm ci` (dynalite) and moto_server: without
// them it is skipped, unless the environment variable CI is set, in which
// case it fails.
package e2e
