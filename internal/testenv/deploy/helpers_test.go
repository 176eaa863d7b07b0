package deploy

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
	"github.com/s3inv/scanner/rules"
)

// templates holds, by file name, the loading of each template of the
// repository's root, done once per test run: the tests only read them.
var templates sync.Map // name → func() (*Template, error)

// loadTemplate loads a template of the repository's root.
func loadTemplate(t *testing.T, name string) *Template {
	t.Helper()
	load, _ := templates.LoadOrStore(name, sync.OnceValues(func() (*Template, error) {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		return Load(filepath.Join(root, name))
	}))
	tpl, err := load.(func() (*Template, error))()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// raw walks a raw value along keys.
func raw(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// refName returns X for {"Ref": "X"}, "" otherwise.
func refName(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	s, _ := m["Ref"].(string)
	return s
}

// getAttName returns "X.Y" for {"Fn::GetAtt": "X.Y"} or ["X", "Y"].
func getAttName(v any) string {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return ""
	}
	switch a := m["Fn::GetAtt"].(type) {
	case string:
		return a
	case []any:
		if len(a) == 2 {
			x, _ := a[0].(string)
			y, _ := a[1].(string)
			return x + "." + y
		}
	}
	return ""
}

// scheduleEvent returns the raw properties of the function's ScheduleV2
// event (goformation drops them).
func scheduleEvent(t *testing.T, tpl *Template) map[string]any {
	t.Helper()
	_, props, err := tpl.Resource("ScannerFunction")
	if err != nil {
		t.Fatal(err)
	}
	events, _ := props["Events"].(map[string]any)
	var found []map[string]any
	for _, e := range events {
		if raw(e, "Type") == "ScheduleV2" {
			p, _ := raw(e, "Properties").(map[string]any)
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("ScannerFunction: %d ScheduleV2 events; want exactly one (EventBridge Scheduler)", len(found))
	}
	return found[0]
}

// tableManagement are DynamoDB operations that create, inspect or change
// the table: the template owns the table, the function never calls them
// (report/dynamo's EnsureTable does, for local servers and the demo; the
// end-to-end test records what the function really calls).
var tableManagement = []string{"CreateTable", "DescribeTable", "DeleteTable", "UpdateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "CreateBackup", "CreateGlobalTable"}

// dynamoActions returns the DynamoDB operations report/dynamo calls, as
// IAM actions (dynamodb:Op), sorted: the methods of *dynamodb.Client it
// names, its paginators (NewQueryPaginator → Query) and waiters
// (NewTableExistsWaiter → DescribeTable), minus the table-management
// operations only tests and the demo use (tableManagement).
func dynamoActions(t *testing.T) []string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "report", "dynamo")
	methods := map[string]bool{}
	ct := reflect.TypeOf(&dynamodb.Client{})
	for i := range ct.NumMethod() {
		// Operations only: Op(ctx, *OpInput, ...optFns).
		m := ct.Method(i)
		if m.Type.NumIn() >= 3 && m.Type.In(2).Kind() == reflect.Pointer && m.Type.In(2).Elem().Name() == m.Name+"Input" {
			methods[m.Name] = true
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("report/dynamo: %v (the DynamoDB store the template grants access for)", err)
	}
	fset := token.NewFileSet()
	used := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatalf("report/dynamo/%s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id := sel.Sel.Name
			switch {
			case methods[id]:
				used[id] = true
			case strings.HasPrefix(id, "New") && strings.HasSuffix(id, "Paginator"):
				used[strings.TrimSuffix(strings.TrimPrefix(id, "New"), "Paginator")] = true
			case id == "NewTableExistsWaiter" || id == "NewTableNotExistsWaiter":
				used["DescribeTable"] = true
			}
			return true
		})
		// Methods declared on a consumer-owned interface count too.
		ast.Inspect(f, func(n ast.Node) bool {
			it, ok := n.(*ast.InterfaceType)
			if !ok {
				return true
			}
			for _, m := range it.Methods.List {
				for _, n := range m.Names {
					if methods[n.Name] {
						used[n.Name] = true
					}
				}
			}
			return true
		})
	}
	var out []string
	for op := range used {
		if !slices.Contains(tableManagement, op) && methods[op] {
			out = append(out, "dynamodb:"+op)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		t.Fatalf("report/dynamo: found no DynamoDB operation in its source")
	}
	return out
}

// recordingTable is a DynamoDB API that answers every call empty and
// records which operations were called.
type recordingTable struct {
	mu  sync.Mutex
	ops map[string]bool
}

func (r *recordingTable) record(op string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops[op] = true
}

func (r *recordingTable) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	r.record("BatchWriteItem")
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func (r *recordingTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	r.record("PutItem")
	return &dynamodb.PutItemOutput{}, nil
}

func (r *recordingTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.record("UpdateItem")
	return &dynamodb.UpdateItemOutput{}, nil
}

func (r *recordingTable) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.record("GetItem")
	return &dynamodb.GetItemOutput{}, nil
}

func (r *recordingTable) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	r.record("Query")
	return &dynamodb.QueryOutput{}, nil
}

func (r *recordingTable) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	r.record("DescribeTable")
	return &dynamodb.DescribeTableOutput{}, nil
}

func (r *recordingTable) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	r.record("CreateTable")
	return &dynamodb.CreateTableOutput{}, nil
}

// widgetReads returns the DynamoDB operations the dashboard's views make
// (every view, unfiltered and with each filter) through report/dynamo,
// sorted.
func widgetReads(t *testing.T) []string {
	t.Helper()
	rec := &recordingTable{ops: map[string]bool{}}
	store, err := dynamo.New(rec, "findings", report.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &webui.Dashboard{Store: store, Endpoint: "arn:aws:lambda:eu-west-1:111122223333:function:dash"}
	for _, v := range webui.Views() {
		for _, q := range []webui.Query{{View: v}, {View: v, Account: "111111111111"}, {View: v, Rule: "INV-101"}, {View: v, Severity: rules.SeverityHigh}} {
			if err := d.Render(context.Background(), io.Discard, q); err != nil {
				t.Fatalf("view %+v over an empty table: %v", q, err)
			}
		}
	}
	var out []string
	for op := range rec.ops {
		out = append(out, op)
	}
	slices.Sort(out)
	if len(out) == 0 {
		t.Fatal("the views made no DynamoDB call")
	}
	return out
}
