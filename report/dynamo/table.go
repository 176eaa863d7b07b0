package dynamo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TTLAttribute is the item attribute DynamoDB's Time to Live reads: a
// top-level Number, epoch seconds, set on resolved findings and archived
// episodes only. The table's TimeToLiveSpecification (template.yaml) names
// it; the store never calls UpdateTimeToLive.
const TTLAttribute = "expires_at"

// Table keys and the sparse index keys.
const (
	attrPK           = "pk"            // ACCOUNT#<account_id> | RUN#<scan_id>
	attrSK           = "sk"            // F#<bucket>#<finding_id>[#<first_seen>] | SCAN | RUN
	attrOpenRule     = "open_rule"     // rule ID, only on unresolved current findings
	attrOpenSeverity = "open_severity" // severity name, only on unresolved current findings
	attrAccountID    = "account_id"
	attrFirstSeen    = "first_seen"
	attrRunFeed      = "run_feed"     // "RUN", only on scan-run items
	attrStartedAt    = "started_at"   // RFC 3339
	attrAccountFeed  = "account_feed" // "ACCOUNT", only on last-complete-scan items
	attrOpen         = "open"         // Number: the open findings of a last complete scan
	attrChangedIn    = "changed_in"   // the scan that last opened, reopened or resolved a current finding
	attrChangeSort   = "change_sort"  // paging.ChangeKey, beside changed_in
	attrWaiverFeed   = "waiver_feed"  // "WAIVED", only on current WAIVED findings with an expiry
	attrWaiverExp    = "waiver_expires"
	attrOpenCoverage = "open_coverage" // "COVERAGE", only on unresolved current coverage findings
)

// The global secondary indexes, one per access pattern the table's own
// key does not serve.
const (
	// IndexOpenByRule serves "open findings of one rule across the
	// organization": open_rule = RULE, sorted by account_id.
	IndexOpenByRule = "open-by-rule"
	// IndexOpenBySeverity serves "open findings of one severity, newest
	// first": open_severity = SEV, first_seen descending.
	IndexOpenBySeverity = "open-by-severity"
	// IndexRuns serves "the latest scan runs": run_feed = "RUN",
	// started_at descending.
	IndexRuns = "runs"
	// IndexAccountsScanned serves "the last complete scan of each
	// account": account_feed = "ACCOUNT", by account_id.
	IndexAccountsScanned = "accounts-scanned"
	// IndexWorstAccounts serves "the accounts with the most open
	// findings": account_feed = "ACCOUNT", open (a Number) descending.
	IndexWorstAccounts = "worst-accounts"
	// IndexChanges serves "what one scan opened, reopened and resolved":
	// changed_in = SCAN_ID, change_sort (paging.ChangeKey: most severe
	// first, opened before resolved).
	IndexChanges = "changes"
	// IndexWaivers serves "waivers expiring soon": waiver_feed =
	// "WAIVED", waiver_expires (YYYY-MM-DD) ascending; sparse, current
	// WAIVED findings only.
	IndexWaivers = "waivers"
	// IndexOpenCoverage serves "what could not be read": open_coverage =
	// "COVERAGE", by account_id; sparse, unresolved coverage findings
	// (rules.IsCoverage) only.
	IndexOpenCoverage = "open-coverage"
)

// Constant partition values of the two feed indexes.
const (
	runFeed      = "RUN"
	accountFeed  = "ACCOUNT"
	waiverFeed   = "WAIVED"
	coverageFeed = "COVERAGE"
)

// findingProjection lists the attributes the two finding indexes carry
// besides their keys: everything a dashboard shows, and nothing that
// changes from one scan to the next (last_seen, scan_id, observed_at), so
// that re-writing an unchanged open finding costs no index write.
var findingProjection = []string{
	"type", "finding_id", attrAccountID, "account_name", "ou_id", "ou_name", "bucket", "region", "config_id",
	"rule_id", "severity", "status", "title", "message", "evidence", "waiver_reason", "waiver_expires",
	attrFirstSeen,
}

// TableDefinition returns the CreateTable input of the findings table: the
// one source of truth for its key schema, attribute definitions and
// indexes (template.yaml is checked against it). On-demand billing. TTL
// (TTLAttribute) is set by the template, not here.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	include := func(extra []string, keys ...string) *types.Projection {
		nonKey := slices.DeleteFunc(append(slices.Clone(findingProjection), extra...), func(a string) bool { return slices.Contains(keys, a) })
		return &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: nonKey}
	}
	n := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeN}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			s(attrPK), s(attrSK), s(attrOpenRule), s(attrAccountID), s(attrOpenSeverity), s(attrFirstSeen),
			s(attrRunFeed), s(attrStartedAt), s(attrAccountFeed), n(attrOpen),
			s(attrChangedIn), s(attrChangeSort), s(attrWaiverFeed), s(attrWaiverExp), s(attrOpenCoverage),
		},
		KeySchema: key(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(IndexOpenByRule), KeySchema: key(attrOpenRule, attrAccountID),
				Projection: include(nil, attrOpenRule, attrAccountID)},
			{IndexName: aws.String(IndexOpenBySeverity), KeySchema: key(attrOpenSeverity, attrFirstSeen),
				Projection: include(nil, attrOpenSeverity, attrFirstSeen)},
			{IndexName: aws.String(IndexRuns), KeySchema: key(attrRunFeed, attrStartedAt),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			{IndexName: aws.String(IndexAccountsScanned), KeySchema: key(attrAccountFeed, attrAccountID),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			{IndexName: aws.String(IndexWorstAccounts), KeySchema: key(attrAccountFeed, attrOpen),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}},
			{IndexName: aws.String(IndexChanges), KeySchema: key(attrChangedIn, attrChangeSort),
				Projection: include([]string{"resolved_at", "resolution"}, attrChangedIn, attrChangeSort)},
			{IndexName: aws.String(IndexOpenCoverage), KeySchema: key(attrOpenCoverage, attrAccountID),
				Projection: include(nil, attrOpenCoverage, attrAccountID)},
			{IndexName: aws.String(IndexWaivers), KeySchema: key(attrWaiverFeed, attrWaiverExp),
				Projection: include(nil, attrWaiverFeed, attrWaiverExp)},
		},
	}
}

// EnsureTable creates the findings table (TableDefinition) when it does
// not exist and waits until it is ACTIVE. An existing table must have the
// store's key schema. It is for local servers and the demo; the deployed
// table comes from the SAM template.
func (s *Store) EnsureTable(ctx context.Context) error {
	out, err := s.api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		_, err = s.api.CreateTable(ctx, TableDefinition(s.table))
		var inUse *types.ResourceInUseException
		if err != nil && !errors.As(err, &inUse) {
			return fmt.Errorf("create table %s: %w", s.table, err)
		}
	case err != nil:
		return fmt.Errorf("describe table %s: %w", s.table, err)
	default:
		want := TableDefinition(s.table).KeySchema
		if !sameKeySchema(out.Table.KeySchema, want) {
			return fmt.Errorf("table %s: key schema is not the findings table's (want pk HASH, sk RANGE)", s.table)
		}
	}
	w := dynamodb.NewTableExistsWaiter(s.api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 2*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(s.table)}, 2*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", s.table, err)
	}
	return nil
}

func sameKeySchema(a, b []types.KeySchemaElement) bool {
	return slices.EqualFunc(a, b, func(x, y types.KeySchemaElement) bool {
		return aws.ToString(x.AttributeName) == aws.ToString(y.AttributeName) && x.KeyType == y.KeyType
	})
}
