package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/s3inv/scanner/report"
)

// The fence of an account: pk ACCOUNT#<account>, sk FENCE, scan_id = the
// newest scan that claimed the account. Scan IDs sort by start time
// (pipeline.NewScanID), so "newer" is a string comparison.
const (
	skFence    = "FENCE"
	typeFence  = "fence"
	attrScanID = "scan_id"
)

func fenceKey(accountID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: accountPK(accountID)},
		attrSK: &types.AttributeValueMemberS{Value: skFence},
	}
}

// claim takes the account's fence for this run's scan with a conditional
// UpdateItem: it succeeds unless a newer scan holds the fence (the same
// scan may claim again: a re-run). a.mu is held.
func (s *Store) claim(ctx context.Context, accountID string, a *account) error {
	if a.superseded != nil {
		return a.superseded
	}
	if a.claimed {
		return nil
	}
	me := s.scanID
	cond := expression.Name(attrScanID).AttributeNotExists().Or(expression.Name(attrScanID).LessThanEqual(expression.Value(me)))
	upd := expression.Set(expression.Name(attrScanID), expression.Value(me)).
		Set(expression.Name("type"), expression.Value(typeFence)).
		Set(expression.Name(attrAccountID), expression.Value(accountID)).
		Set(expression.Name("claimed_at"), expression.Value(stamp(s.opts.Now())))
	expr, err := expression.NewBuilder().WithCondition(cond).WithUpdate(upd).Build()
	if err != nil {
		return fmt.Errorf("claim account %s: build the fence expression: %w", accountID, err)
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: fenceKey(accountID),
		ConditionExpression: expr.Condition(), UpdateExpression: expr.Update(),
		ExpressionAttributeNames: expr.Names(), ExpressionAttributeValues: expr.Values(),
	})
	s.stats.fences.Add(1)
	var lost *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &lost):
		holder, herr := s.fenceHolder(ctx, accountID)
		if herr != nil {
			return fmt.Errorf("account %s: a newer scan holds it: %w", accountID, herr)
		}
		a.superseded = &report.SupersededError{Account: accountID, ScanID: me, By: holder}
		return a.superseded
	case err != nil:
		return fmt.Errorf("claim account %s for scan %s in %s: %w", accountID, me, s.table, err)
	}
	a.claimed = true
	return nil
}

// checkFence makes sure no newer scan has claimed the account since this
// run did: a strongly consistent GetItem of the fence, before each batch
// and before resolving. a.mu is held.
func (s *Store) checkFence(ctx context.Context, accountID string, a *account) error {
	if a.superseded != nil {
		return a.superseded
	}
	holder, err := s.fenceHolder(ctx, accountID)
	if err != nil {
		return err
	}
	if holder != s.scanID {
		a.superseded = &report.SupersededError{Account: accountID, ScanID: s.scanID, By: holder}
		return a.superseded
	}
	return nil
}

// fenceHolder reads who holds an account's fence (strongly consistent).
func (s *Store) fenceHolder(ctx context.Context, accountID string) (string, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: fenceKey(accountID), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(attrScanID),
	})
	s.stats.fences.Add(1)
	if err != nil {
		return "", fmt.Errorf("read the fence of account %s in %s: %w", accountID, s.table, err)
	}
	return str(out.Item[attrScanID]), nil
}
