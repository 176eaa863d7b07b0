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
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/internal/base/strictjson"
	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/dynamo"
)

// params are the params a widget event may carry, besides
// widgetContext and describe: what webui.ParseQuery reads, and apply.
var params = []string{"view", "account", "ou", "rule", "severity", "next"}

// formFields are the filter form's fields, read from
// widgetContext.forms.all when the event has "apply": true.
var formFields = []string{"account", "ou", "rule", "severity"}

// Widget answers CloudWatch custom-widget events with the findings
// table's views (internal/app/webui) as HTML.
type Widget struct {
	store report.Querier
	// table names the table in the views' headings.
	table string
	log   *slog.Logger
}

// request is a widget event, parsed.
type request struct {
	describe bool
	values   url.Values
}

// parseEvent reads a custom-widget event: an object whose members
// are the widget's params (or a <cwdb-action>'s), widgetContext and
// describe. With "apply": true the filters are the form's fields
// (widgetContext.forms.all), each empty one clearing its filter, from
// the first page. An event that is not such an object is an error naming
// what was wrong; the values themselves are checked by webui.ParseQuery.
func parseEvent(raw []byte) (request, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return request{}, fmt.Errorf("widget event %.80q: want a JSON object of params and widgetContext", raw)
	}
	var req request
	req.values = url.Values{}
	var apply bool
	for _, k := range slices.Sorted(maps.Keys(members)) {
		v := members[k]
		switch {
		case k == "widgetContext":
		case k == "describe" || k == "apply":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return req, fmt.Errorf("widget param %s %q: want true or false", k, strictjson.Echo(string(v)))
			}
			req.describe = req.describe || (k == "describe" && b)
			apply = apply || (k == "apply" && b)
		case slices.Contains(params, k):
			s, err := paramString(v)
			if err != nil {
				return req, fmt.Errorf("widget param %s %q: %w", k, strictjson.Echo(string(v)), err)
			}
			req.values.Set(k, s)
		default:
			return req, fmt.Errorf("widget param %q: no such param; want %s, apply or describe", strictjson.Echo(k), strings.Join(params, ", "))
		}
	}
	if !apply || req.describe {
		return req, nil
	}
	var wc struct {
		Forms struct {
			All map[string]json.RawMessage `json:"all"`
		} `json:"forms"`
	}
	if c, ok := members["widgetContext"]; ok {
		if err := json.Unmarshal(c, &wc); err != nil {
			return req, fmt.Errorf("widgetContext.forms.all: %v; want an object of the form's fields", err)
		}
	}
	req.values.Del("next")
	for _, k := range formFields {
		req.values.Del(k)
		v, ok := wc.Forms.All[k]
		if !ok {
			continue
		}
		s, err := paramString(v)
		if err != nil {
			return req, fmt.Errorf("form field %s %q: %w", k, strictjson.Echo(string(v)), err)
		}
		if s = strings.TrimSpace(s); s != "" {
			req.values.Set(k, s)
		}
	}
	if !req.values.Has("view") {
		if v, ok := wc.Forms.All["view"]; ok {
			s, err := paramString(v)
			if err != nil {
				return req, fmt.Errorf("form field view %s: %w", v, err)
			}
			req.values.Set("view", s)
		}
	}
	return req, nil
}

// paramString reads a param's value: a string, or a whole number.
func paramString(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
	}
	return "", errors.New("want a string")
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

// style styles the views inside a widget, on top of the
// dashboard's default styles (links, tables, buttons), in light and
// dark themes alike; every rule is scoped to the view.
const style = `.dashboard a:not([href]){cursor:pointer}
.dashboard nav.views{display:flex;flex-wrap:wrap;gap:2px 14px;margin-bottom:6px}
.dashboard nav.views a[aria-current]{font-weight:bold;text-decoration:underline}
.dashboard form.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:flex-end;margin-bottom:6px}
.dashboard form.filters label{display:flex;flex-direction:column;font-size:12px}
.dashboard .strip{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;margin-bottom:6px}
.dashboard .panel h2{font-size:14px;margin:4px 0}
.dashboard .scroll{overflow-x:auto}
.dashboard td{vertical-align:top;overflow-wrap:anywhere}
.dashboard td.id,.dashboard td.ou,.dashboard td.num{white-space:nowrap}
.dashboard .sev{display:inline-block;border-radius:2px;padding:0 6px;color:#fff;font-size:11px;font-weight:bold;white-space:nowrap}
.dashboard .sev-CRITICAL{background:#7d2105}.dashboard .sev-HIGH{background:#ba2e0f}.dashboard .sev-MEDIUM{background:#cc5f21}.dashboard .sev-LOW{background:#b2911c}.dashboard .sev-INFO{background:#687078}
.dashboard .error{border:1px solid #d13212;color:#d13212;padding:6px 10px;margin-bottom:6px}
.dashboard .more,.dashboard .note,.dashboard .empty,.dashboard .waived{opacity:.75}
.dashboard .pager{display:flex;gap:16px;align-items:center;padding:6px 0}
.dashboard details .full{white-space:pre-wrap;border-left:3px solid #aab7b8;padding:4px 8px}`

// doc is the Markdown the widget returns for a describe event
// (written with ' for the backquote).
var doc = strings.ReplaceAll(fmt.Sprintf(`## S3 inventory findings

Views of the findings table of the scanner, read with the key and the
indexes of the table only (never a Scan): at most %[1]d rows a view, read
from at most %[2]d Query pages (of at most 204 items each; 1,001 when
the worst accounts are counted by rule or severity) and the latest run. "More" continues from where the page ended, reading nothing twice.
Links and the filter form call this function again.

| param | values | default |
|---|---|---|
| 'view' | 'findings' (open findings, CRITICAL and HIGH first), 'changes' (opened and resolved by the latest scan, since the one before), 'accounts' (worst accounts), 'coverage' (not fully scanned, and why), 'waivers' (waivers ending within 30 days), 'runs' (scan history) | 'findings' |
| 'account' | a 12-digit account ID | every account |
| 'ou' | an OU's ID ('ou-…', or the root 'r-…') or its name | every OU |
| 'rule' | a rule ID, such as 'INV-101' | every rule |
| 'severity' | 'CRITICAL', 'HIGH', 'MEDIUM', 'LOW' or 'INFO' | every severity |
| 'next' | the position a "More" action sends (opaque) | the first page |

Example: '{"view": "waivers", "ou": "Production"}'.

With '"apply": true' (the Apply button of the form) the filters are the
fields of the form ('widgetContext.forms.all'): account, OU, rule,
severity. The role of the function may only 'dynamodb:Query' and
'dynamodb:GetItem' the findings table and its indexes.
`, webui.PageSize, webui.MaxReads), "'", "`")
