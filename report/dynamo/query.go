package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/rules"
)

// accountQuery reads items of one account on the table's own key: pk =
// ACCOUNT#id and sk begins with prefix, findingPrefix for all its findings
// and archived episodes, bucketPrefix(b) for one bucket's.
func accountQuery(table, accountID, prefix string, filter *expression.ConditionBuilder) (*dynamodb.QueryInput, error) {
	return keyQuery(table, "", expression.Key(attrPK).Equal(expression.Value(accountPK(accountID))).
		And(expression.Key(attrSK).BeginsWith(prefix)), filter)
}

// keyQuery builds a Query input from a key condition and an optional
// filter. The builders of this package are fixed and their values
// strings, so an error says that one of them is broken.
func keyQuery(table, index string, key expression.KeyConditionBuilder, filter *expression.ConditionBuilder) (*dynamodb.QueryInput, error) {
	b := expression.NewBuilder().WithKeyCondition(key)
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("build the query expression of %s: %w", table, err)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    expr.KeyCondition(),
		FilterExpression:          expr.Filter(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
	}
	if index != "" {
		in.IndexName = aws.String(index)
	}
	return in, nil
}

// errStop ends a query early without an error.
var errStop = errors.New("stop")

// defaultMaxPages bounds the pages of one Query: 100,000 pages of up to
// 1 MB, far beyond any partition or index of the findings table.
const defaultMaxPages = 100_000

// query reads every page of in and hands each item to fn, until fn
// returns errStop. A broken listing fails instead of looping: a
// LastEvaluatedKey that was already returned, or more than s.maxPages
// pages, is an error.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) error) error {
	in = copyQuery(in)
	seen := map[string]bool{}
	for page := 1; ; page++ {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("query %s: %w", s.describe(in), err)
		}
		s.stats.queries.Add(1)
		for _, item := range out.Items {
			if err := fn(item); errors.Is(err, errStop) {
				return nil
			} else if err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		key, err := keyString(out.LastEvaluatedKey)
		if err != nil {
			return fmt.Errorf("query %s: page %d: %w", s.describe(in), page, err)
		}
		if seen[key] {
			return fmt.Errorf("query %s: page %d returned the LastEvaluatedKey %s again; the listing does not advance", s.describe(in), page, key)
		}
		if page >= s.maxPages {
			return fmt.Errorf("query %s: still more pages after %d; want a listing that ends", s.describe(in), page)
		}
		seen[key] = true
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// copyQuery returns a shallow copy of in, so that paging does not change
// the caller's input.
func copyQuery(in *dynamodb.QueryInput) *dynamodb.QueryInput {
	c := *in
	return &c
}

// keyString is a canonical form of a LastEvaluatedKey, for comparison.
func keyString(key map[string]types.AttributeValue) (string, error) {
	var m map[string]any
	if err := attributevalue.UnmarshalMap(key, &m); err != nil {
		return "", fmt.Errorf("decode LastEvaluatedKey: %w", err)
	}
	b, err := json.Marshal(m) // map keys are sorted
	if err != nil {
		return "", fmt.Errorf("encode LastEvaluatedKey: %w", err)
	}
	return string(b), nil
}

// accountsWithOpenFindings returns the IDs of the accounts that have
// unresolved findings, from the index open-by-severity (one Query per
// severity, projecting account_id only), sorted.
func (s *Store) accountsWithOpenFindings(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	for sev := rules.SeverityInfo; sev <= rules.SeverityCritical; sev++ {
		in, err := keyQuery(s.table, IndexOpenBySeverity, expression.Key(attrOpenSeverity).Equal(expression.Value(sev.String())), nil)
		if err != nil {
			return nil, err
		}
		in.ProjectionExpression = aws.String(attrAccountID)
		err = s.query(ctx, in, func(av map[string]types.AttributeValue) error {
			if id := str(av[attrAccountID]); id != "" {
				set[id] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

func (s *Store) describe(in *dynamodb.QueryInput) string {
	if in.IndexName != nil {
		return s.table + " index " + *in.IndexName
	}
	return "table " + s.table
}

// records runs a query of finding items and returns the unexpired ones
// (TTL deletion is lazy), with archived episodes when episodes is true.
func (s *Store) records(ctx context.Context, in *dynamodb.QueryInput, limit int, episodes bool) ([]report.Record, error) {
	now := s.opts.Now()
	var out []report.Record
	err := s.query(ctx, in, func(av map[string]types.AttributeValue) error {
		if !isType(av, typeFinding) && !(episodes && isType(av, typeEpisode)) {
			return nil
		}
		r, err := decodeRecord(av)
		if err != nil {
			return err
		}
		if !r.Expired(now) {
			out = append(out, r)
		}
		if limit > 0 && len(out) >= limit {
			return errStop
		}
		return nil
	})
	return out, err
}

// sortedRecords returns every unexpired record of a query (see records),
// sorted with report.SortRecords.
func (s *Store) sortedRecords(ctx context.Context, in *dynamodb.QueryInput, episodes bool) ([]report.Record, error) {
	rs, err := s.records(ctx, in, 0, episodes)
	if err != nil {
		return nil, err
	}
	report.SortRecords(rs)
	return rs, nil
}

// unresolved is the filter of OPEN and WAIVED current findings.
func unresolved() *expression.ConditionBuilder {
	c := expression.Name("type").Equal(expression.Value(typeFinding)).
		And(expression.Name("status").In(expression.Value(string(rules.StatusOpen)), expression.Value(string(rules.StatusWaived))))
	return &c
}

// Findings returns the current records of one account (table key; the
// same read the lifecycle makes).
func (s *Store) Findings(ctx context.Context, accountID string) ([]report.Record, error) {
	in, err := accountQuery(s.table, accountID, findingPrefix, nil)
	if err != nil {
		return nil, err
	}
	return s.sortedRecords(ctx, in, false)
}

// OpenByAccount returns the unresolved findings of one account (table
// key, filtered on status).
func (s *Store) OpenByAccount(ctx context.Context, accountID string) ([]report.Record, error) {
	in, err := accountQuery(s.table, accountID, findingPrefix, unresolved())
	if err != nil {
		return nil, err
	}
	return s.sortedRecords(ctx, in, false)
}

// OpenByRule returns the unresolved findings of one rule across the
// organization (index open-by-rule). Records read from an index carry no
// last_seen, scan_id or observed_at (see findingProjection).
func (s *Store) OpenByRule(ctx context.Context, ruleID string) ([]report.Record, error) {
	in, err := keyQuery(s.table, IndexOpenByRule, expression.Key(attrOpenRule).Equal(expression.Value(ruleID)), nil)
	if err != nil {
		return nil, err
	}
	return s.sortedRecords(ctx, in, false)
}

// OpenBySeverity returns the unresolved findings of one severity, newest
// first (index open-by-severity, first_seen descending).
func (s *Store) OpenBySeverity(ctx context.Context, sev rules.Severity, limit int) ([]report.Record, error) {
	if !sev.Valid() {
		return nil, fmt.Errorf("open findings by severity: invalid severity %d", int(sev))
	}
	in, err := keyQuery(s.table, IndexOpenBySeverity, expression.Key(attrOpenSeverity).Equal(expression.Value(sev.String())), nil)
	if err != nil {
		return nil, err
	}
	in.ScanIndexForward = aws.Bool(false)
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	return s.records(ctx, in, limit, false)
}

// BucketHistory returns a bucket's findings, any status, and their
// archived episodes (table key, sk prefix F#bucket#).
func (s *Store) BucketHistory(ctx context.Context, accountID, bucket string) ([]report.Record, error) {
	in, err := accountQuery(s.table, accountID, bucketPrefix(bucket), nil)
	if err != nil {
		return nil, err
	}
	return s.sortedRecords(ctx, in, true)
}

// Runs returns the latest scan runs, newest first (index runs).
func (s *Store) Runs(ctx context.Context, limit int) ([]report.Run, error) {
	in, err := keyQuery(s.table, IndexRuns, expression.Key(attrRunFeed).Equal(expression.Value(runFeed)), nil)
	if err != nil {
		return nil, err
	}
	in.ScanIndexForward = aws.Bool(false)
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 1000)))
	}
	var runs []report.Run
	err = s.query(ctx, in, func(av map[string]types.AttributeValue) error {
		r, err := decodeRun(av)
		if err != nil {
			return err
		}
		runs = append(runs, r)
		if limit > 0 && len(runs) >= limit {
			return errStop
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Runs that started in the same second come back in any order.
	slices.SortStableFunc(runs, func(a, b report.Run) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ScanID, a.ScanID)
	})
	return runs, nil
}

// AccountScans returns the last complete scan of each account (index
// accounts-scanned, by account ID).
func (s *Store) AccountScans(ctx context.Context) ([]report.AccountScan, error) {
	in, err := keyQuery(s.table, IndexAccountsScanned, expression.Key(attrAccountFeed).Equal(expression.Value(accountFeed)), nil)
	if err != nil {
		return nil, err
	}
	var out []report.AccountScan
	err = s.query(ctx, in, func(av map[string]types.AttributeValue) error {
		a, err := decodeAccountScan(av)
		if err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
