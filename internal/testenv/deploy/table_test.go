package deploy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfdynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"
	"github.com/awslabs/goformation/v7/cloudformation/policies"

	"github.com/s3inv/scanner/report/dynamo"
)

// TestFindingsTable checks that the template's table is exactly the one
// report/dynamo designs (TableDefinition): keys, attribute definitions,
// indexes and their projections; plus what only the template sets: TTL on
// dynamo.TTLAttribute, point-in-time recovery, encryption, on-demand
// billing, and retention of the data when the stack goes.
func TestFindingsTable(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	tables := tpl.Typed.GetAllDynamoDBTableResources()
	if len(tables) != 1 {
		t.Fatalf("template.yaml: %d AWS::DynamoDB::Table resources; want one, FindingsTable", len(tables))
	}
	tbl, ok := tables["FindingsTable"]
	if !ok {
		t.Fatalf("template.yaml: no FindingsTable")
	}
	want := dynamo.TableDefinition("findings")

	if got := aws.ToString(tbl.BillingMode); got != string(want.BillingMode) {
		t.Errorf("FindingsTable.BillingMode = %q; want %q", got, want.BillingMode)
	}
	if tbl.ProvisionedThroughput != nil {
		t.Errorf("FindingsTable.ProvisionedThroughput is set; the table is on-demand")
	}

	var gotAttrs, wantAttrs []string
	for _, a := range tbl.AttributeDefinitions {
		gotAttrs = append(gotAttrs, a.AttributeName+":"+a.AttributeType)
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, aws.ToString(a.AttributeName)+":"+string(a.AttributeType))
	}
	sort.Strings(gotAttrs)
	sort.Strings(wantAttrs)
	if !slices.Equal(gotAttrs, wantAttrs) {
		t.Errorf("FindingsTable.AttributeDefinitions = %v; report/dynamo's TableDefinition has %v", gotAttrs, wantAttrs)
	}

	if got, w := cfKeys(tbl.KeySchema), sdkKeys(want.KeySchema); got != w {
		t.Errorf("FindingsTable.KeySchema = %s; report/dynamo's TableDefinition has %s", got, w)
	}

	gotIdx := map[string]string{}
	for _, g := range tbl.GlobalSecondaryIndexes {
		gotIdx[g.IndexName] = cfKeys(g.KeySchema) + " " + cfProjection(g.Projection)
	}
	wantIdx := map[string]string{}
	for _, g := range want.GlobalSecondaryIndexes {
		wantIdx[aws.ToString(g.IndexName)] = sdkKeys(g.KeySchema) + " " + sdkProjection(g.Projection)
	}
	for name, w := range wantIdx {
		if g, ok := gotIdx[name]; !ok {
			t.Errorf("FindingsTable: no global secondary index %s (%s)", name, w)
		} else if g != w {
			t.Errorf("FindingsTable index %s = %s; report/dynamo's TableDefinition has %s", name, g, w)
		}
	}
	for name := range gotIdx {
		if _, ok := wantIdx[name]; !ok {
			t.Errorf("FindingsTable: index %s is not in report/dynamo's TableDefinition", name)
		}
	}
	if len(tbl.LocalSecondaryIndexes) != len(want.LocalSecondaryIndexes) {
		t.Errorf("FindingsTable: %d local secondary indexes; TableDefinition has %d", len(tbl.LocalSecondaryIndexes), len(want.LocalSecondaryIndexes))
	}

	if ttl := tbl.TimeToLiveSpecification; ttl == nil || !ttl.Enabled || aws.ToString(ttl.AttributeName) != dynamo.TTLAttribute {
		t.Errorf("FindingsTable.TimeToLiveSpecification = %+v; want enabled on %q (dynamo.TTLAttribute)", ttl, dynamo.TTLAttribute)
	}
	if p := tbl.PointInTimeRecoverySpecification; p == nil || !aws.ToBool(p.PointInTimeRecoveryEnabled) {
		t.Errorf("FindingsTable: point-in-time recovery is not enabled")
	}
	if s := tbl.SSESpecification; s == nil || !s.SSEEnabled {
		t.Errorf("FindingsTable: SSESpecification.SSEEnabled is not true")
	}
	if tbl.AWSCloudFormationDeletionPolicy != policies.DeletionPolicy("Retain") {
		t.Errorf("FindingsTable DeletionPolicy = %q; want Retain (deleting the stack must not delete the findings)", tbl.AWSCloudFormationDeletionPolicy)
	}
	if tbl.AWSCloudFormationUpdateReplacePolicy != policies.UpdateReplacePolicy("Retain") {
		t.Errorf("FindingsTable UpdateReplacePolicy = %q; want Retain", tbl.AWSCloudFormationUpdateReplacePolicy)
	}
	if tbl.TableName != nil {
		t.Errorf("FindingsTable.TableName is set; let CloudFormation name it, so a replacement does not collide")
	}
}

func cfKeys(ks []cfdynamodb.Table_KeySchema) string {
	var out []string
	for _, k := range ks {
		out = append(out, k.AttributeName+" "+k.KeyType)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func sdkKeys(ks []types.KeySchemaElement) string {
	var out []string
	for _, k := range ks {
		out = append(out, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	return "[" + strings.Join(out, ", ") + "]"
}

func cfProjection(p *cfdynamodb.Table_Projection) string {
	if p == nil {
		return "no projection"
	}
	attrs := slices.Clone(p.NonKeyAttributes)
	sort.Strings(attrs)
	return fmt.Sprintf("%s %v", aws.ToString(p.ProjectionType), attrs)
}

func sdkProjection(p *types.Projection) string {
	if p == nil {
		return "no projection"
	}
	attrs := slices.Clone(p.NonKeyAttributes)
	sort.Strings(attrs)
	return fmt.Sprintf("%s %v", p.ProjectionType, attrs)
}
