package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// proxied starts dynalite, a proxy in front of it and the table `table` (made
// through the server directly), and returns the proxy and a client of it
// that tries each request `attempts` times.
func proxied(t *testing.T, attempts int) (*FaultProxy, *dynamodb.Client) {
	t.Helper()
	endpoint := Dynalite(t)
	_, err := DynamoClient(endpoint).CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := FaultProxyFor(t, endpoint)
	return p, DynamoClient(p.Endpoint(), func(o *dynamodb.Options) { o.RetryMaxAttempts = attempts })
}

// table is the table proxied makes.
const table = "faults"

func item(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}
}

func put(ctx context.Context, db *dynamodb.Client, pk string) error {
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(pk)})
	return err
}

func exists(t *testing.T, db *dynamodb.Client, pk string) bool {
	t.Helper()
	out, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: item(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem %s: %v", pk, err)
	}
	return out.Item != nil
}

func TestFaultProxyPassesThrough(t *testing.T) {
	p, db := proxied(t, 1)
	if err := put(context.Background(), db, "a"); err != nil {
		t.Fatalf("PutItem through a proxy without rules: %v", err)
	}
	if !exists(t, db, "a") || p.Requests("PutItem") != 1 || p.Injected("") != 0 {
		t.Errorf("after one PutItem: item stored %v, %d PutItem requests, %d faults; want true, 1, 0",
			exists(t, db, "a"), p.Requests("PutItem"), p.Injected(""))
	}
}

func TestFaultProxyErrors(t *testing.T) {
	for _, tc := range []struct {
		fault Fault
		code  string
	}{
		{FaultThrottle, "ProvisionedThroughputExceededException"},
		{FaultThrottling, "ThrottlingException"},
		{FaultInternal, "InternalServerError"},
	} {
		t.Run(tc.fault.String(), func(t *testing.T) {
			p, db := proxied(t, 1)
			p.Add(FaultRule{Op: "PutItem", Fault: tc.fault, Times: 1})
			err := put(context.Background(), db, "a")
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("PutItem with %s injected = %v; want the API error %s", tc.fault, err, tc.code)
			}
			if exists(t, db, "a") {
				t.Error("the refused PutItem was written")
			}
			if err := put(context.Background(), db, "a"); err != nil || !exists(t, db, "a") {
				t.Errorf("PutItem once the rule is spent = %v; want it written", err)
			}
		})
	}
}

func TestFaultProxyFaultsAreRetriedBySDK(t *testing.T) {
	for _, f := range []Fault{FaultThrottle, FaultThrottling, FaultInternal, FaultReset} {
		t.Run(f.String(), func(t *testing.T) {
			p, db := proxied(t, 3)
			p.Add(FaultRule{Op: "PutItem", Fault: f, Times: 2})
			if err := put(context.Background(), db, "a"); err != nil {
				t.Fatalf("PutItem with 2 of 3 attempts failing (%s): %v", f, err)
			}
			if got := p.Requests("PutItem"); got != 3 || !exists(t, db, "a") {
				t.Errorf("PutItem requests %d, stored %v; want 3 and true", got, exists(t, db, "a"))
			}
		})
	}
}

func TestFaultProxyReset(t *testing.T) {
	p, db := proxied(t, 1)
	p.Add(FaultRule{Op: "PutItem", Fault: FaultReset})
	err := put(context.Background(), db, "a")
	if err == nil || !(strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF")) {
		t.Fatalf("PutItem on a reset connection = %v; want a connection reset", err)
	}
}

func TestFaultProxyDelayAndSkip(t *testing.T) {
	p, db := proxied(t, 1)
	p.Add(FaultRule{Op: "PutItem", Fault: FaultDelay, Delay: time.Hour, Skip: 1})
	ctx := context.Background()
	if err := put(ctx, db, "a"); err != nil {
		t.Fatalf("first PutItem (skipped by the rule): %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := put(short, db, "b"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutItem delayed an hour with a short deadline = %v; want context.DeadlineExceeded", err)
	}
	if exists(t, db, "b") {
		t.Error("the request the client gave up on was forwarded")
	}
	p.Clear()
	if err := put(ctx, db, "c"); err != nil {
		t.Errorf("PutItem after Clear: %v", err)
	}
}

func TestFaultProxyUnprocessedItems(t *testing.T) {
	p, db := proxied(t, 1)
	p.Add(FaultRule{Op: "BatchWriteItem", Fault: FaultUnprocessed, Times: 1})
	var reqs []types.WriteRequest
	for i := range 5 {
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item(fmt.Sprint("k", i))}})
	}
	out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
	if err != nil {
		t.Fatal(err)
	}
	left := out.UnprocessedItems[table]
	if len(left) != 3 {
		t.Fatalf("UnprocessedItems = %d; want 3 of 5 (half kept, rounded down)", len(left))
	}
	for i := range 5 {
		if got, want := exists(t, db, fmt.Sprint("k", i)), i < 2; got != want {
			t.Errorf("item k%d stored = %v; want %v", i, got, want)
		}
	}
	out, err = db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: left}})
	if err != nil || len(out.UnprocessedItems[table]) != 0 {
		t.Fatalf("resending the unprocessed items = %v, %d left; want all written", err, len(out.UnprocessedItems[table]))
	}
	for i := range 5 {
		if !exists(t, db, fmt.Sprint("k", i)) {
			t.Errorf("item k%d missing after the resend", i)
		}
	}
}

func TestFaultProxyMatchesBody(t *testing.T) {
	p, db := proxied(t, 1)
	p.Add(FaultRule{Op: "PutItem", Match: `"ACCOUNT#1"`, Fault: FaultInternal})
	if err := put(context.Background(), db, "ACCOUNT#2"); err != nil {
		t.Errorf("PutItem of another key: %v", err)
	}
	if err := put(context.Background(), db, "ACCOUNT#1"); err == nil {
		t.Error("PutItem of the matched key succeeded; want the injected error")
	}
}

func TestNewFaultProxyRejectsBadTarget(t *testing.T) {
	if _, err := NewFaultProxy("127.0.0.1:80"); err == nil || !strings.Contains(err.Error(), "127.0.0.1:80") {
		t.Errorf("NewFaultProxy without a scheme = %v; want an error naming the target", err)
	}
}
