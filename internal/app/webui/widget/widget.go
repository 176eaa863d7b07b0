// Package widget is the dashboard's CloudWatch custom-widget function:
// it answers custom-widget events with the views of package webui over
// the findings table, read only, as HTML fragments whose links call the
// function again, and a describe event with its documentation as
// Markdown.
//
// # Events
//
// An event is a JSON object whose members are the widget's params (view,
// account, ou, rule, severity, next: what webui.ParseQuery reads),
// widgetContext, describe and apply; anything else is an error naming it,
// values echoed shortened. With "apply": true (the Apply button of the
// form) the filters are the form's fields, widgetContext.forms.all, from
// the first page. A bad value is shown in the widget, with the form to
// correct it, without reading the table.
//
// # The table
//
// The store is report/dynamo's over the table, behind a client that
// refuses every write before it reaches DynamoDB; the function's role
// may only Query and GetItem the table and its indexes too.
//
// cmd/scanner's build with the tags lambda and widget runs it (make
// build-DashboardFunction; DashboardFunction in template.yaml).
package widget

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

// Widget answers CloudWatch custom-widget events with the findings
// table's views (internal/app/webui) as HTML.
type Widget struct {
	store report.Querier
	// table names the table in the views' headings.
	table string
	log   *slog.Logger
}

// Handle answers one widget event: Markdown documentation for describe,
// otherwise the view the params ask for as HTML, its links calling this
// function again (the ARN of the invocation's context). A bad param is
// shown in the widget, with the form to correct it; so is a table that
// cannot be read, which is logged too.
func (w *Widget) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	req, err := parseEvent(raw)
	if err != nil {
		w.log.ErrorContext(ctx, "rejected widget event", "error", err.Error())
		return nil, err
	}
	if req.describe {
		return map[string]string{"markdown": doc}, nil
	}
	lc, ok := lambdacontext.FromContext(ctx)
	if !ok || lc.InvokedFunctionArn == "" {
		return nil, errors.New("widget: the invocation has no function ARN, which the widget's links call; want a Lambda invocation")
	}
	d := &webui.Dashboard{Store: w.store, Title: w.table, Endpoint: lc.InvokedFunctionArn}
	var body bytes.Buffer
	body.WriteString("<style>" + style + "</style>")
	q, qerr := webui.ParseQuery(req.values)
	if qerr != nil {
		if err := d.RenderInvalid(&body, q, qerr); err != nil {
			return nil, err
		}
		return body.String(), nil
	}
	if err := d.Render(ctx, &body, q); err != nil {
		w.log.ErrorContext(ctx, "widget view not read", "view", string(q.View), "error", err.Error())
	}
	return body.String(), nil
}

// readOnlyTable is the findings table as the widget may use it: the
// store's reads pass, every write is refused here before IAM would.
type readOnlyTable struct{ dynamo.API }

var errReadOnly = errors.New("the dashboard widget reads the findings table only")

func (readOnlyTable) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, errReadOnly
}

func (readOnlyTable) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, errReadOnly
}

func (readOnlyTable) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, errReadOnly
}

func (readOnlyTable) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return nil, errReadOnly
}

// New returns the widget over the findings table named table,
// reached through api, read only.
func New(api dynamo.API, table string, log *slog.Logger) (*Widget, error) {
	store, err := dynamo.New(readOnlyTable{api}, table, report.StoreOptions{})
	if err != nil {
		return nil, err
	}
	return &Widget{store: store, table: table, log: log}, nil
}
