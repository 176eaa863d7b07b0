package deploy

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/s3inv/scanner/internal/app/emf"
	"github.com/s3inv/scanner/internal/app/webui"
	"github.com/s3inv/scanner/rules"
)

// testNamespace is the MetricsNamespace the dashboard is evaluated with.
const testNamespace = "S3InventoryScanner/dashboard-test"

// plotted is a metric a widget plots: its namespace, name and dimensions
// (values empty for a SEARCH, which matches every value).
type plotted struct {
	widget, namespace, name string
	dims                    map[string]string
}

// dashboardBody evaluates the dashboard's !Sub and parses its body.
func dashboardBody(t *testing.T, tpl *Template) map[string]any {
	t.Helper()
	dashboards := tpl.ResourcesOfType("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("template.yaml: %d dashboards; want 1", len(dashboards))
	}
	s, err := newStack(tpl, map[string]string{"ExternalId": "ext-0123", "MetricsNamespace": testNamespace})
	if err != nil {
		t.Fatal(err)
	}
	for name, d := range dashboards {
		props, err := s.eval(d["Properties"])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := raw(props, "DashboardName"); got != "scanner-scanner" {
			t.Errorf("%s: DashboardName %v; want one derived from the stack's name (scanner-scanner for the stack scanner)", name, got)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(fmt.Sprint(raw(props, "DashboardBody"))), &body); err != nil {
			t.Fatalf("%s: DashboardBody is not JSON once substituted: %v", name, err)
		}
		return body
	}
	return nil
}

// searchExpr reads SEARCH('{"namespace",Dim,...} MetricName="Name"', ...).
var searchExpr = regexp.MustCompile(`SEARCH\('\{"([^"]+)"((?:,\w+)*)\} MetricName="(\w+)"'`)

// widgetMetrics returns what one metric widget plots; rows use the
// dashboard's array form [namespace, name, dim, value, ..., {options}],
// "." repeating the row above, or an expression.
func widgetMetrics(t *testing.T, title string, rows []any) []plotted {
	t.Helper()
	var out []plotted
	var prev []any
	for _, r := range rows {
		row, _ := r.([]any)
		if len(row) == 0 {
			t.Errorf("widget %q: metric row %v", title, r)
			continue
		}
		if opts, ok := row[0].(map[string]any); ok && len(row) == 1 {
			expr, _ := opts["expression"].(string)
			ms := searchExpr.FindAllStringSubmatch(expr, -1)
			if strings.Count(expr, "SEARCH(") != len(ms) || len(ms) == 0 {
				t.Errorf("widget %q: expression %q: want SEARCH('{\"namespace\",Dims} MetricName=\"Name\"', ...)", title, expr)
			}
			for _, m := range ms {
				p := plotted{widget: title, namespace: m[1], name: m[3], dims: map[string]string{}}
				for _, d := range strings.Split(strings.TrimPrefix(m[2], ","), ",") {
					if d != "" {
						p.dims[d] = ""
					}
				}
				out = append(out, p)
			}
			continue
		}
		var fields []string
		for i, f := range row {
			if _, isOpts := f.(map[string]any); isOpts {
				break
			}
			s, _ := f.(string)
			if s == "." && i < len(prev) {
				s, _ = prev[i].(string)
			}
			fields = append(fields, s)
		}
		prev = row
		if len(fields) < 2 || len(fields)%2 != 0 {
			t.Errorf("widget %q: metric row %v: want namespace, name, then dimension name and value pairs", title, row)
			continue
		}
		p := plotted{widget: title, namespace: fields[0], name: fields[1], dims: map[string]string{}}
		for i := 2; i < len(fields); i += 2 {
			p.dims[fields[i]] = fields[i+1]
		}
		out = append(out, p)
	}
	return out
}

// TestDashboardPlotsOnlyEmittedMetrics: the dashboard's body is JSON once
// !Sub is applied, its widgets fit the 24-column grid, and every metric a
// widget plots is one the scanner emits (emf.Definitions: name,
// dimensions, in the MetricsNamespace parameter), with dimension values
// that exist (severities, rule IDs); no widget plots a metric the
// function does not print yet (the lifecycle counts).
func TestDashboardPlotsOnlyEmittedMetrics(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	body := dashboardBody(t, tpl)
	defs := map[string]emf.Definition{}
	for _, d := range emf.Definitions() {
		defs[d.Key()] = d
	}
	var all []plotted
	types := map[string]int{}
	widgets, _ := body["widgets"].([]any)
	for i, w := range widgets {
		typ, _ := raw(w, "type").(string)
		types[typ]++
		title, _ := raw(w, "properties", "title").(string)
		x, _ := raw(w, "x").(float64)
		width, _ := raw(w, "width").(float64)
		if width < 1 || x+width > 24 {
			t.Errorf("widget %d (%q): x %v, width %v; want within 24 columns", i, title, x, width)
		}
		if typ == "metric" {
			rows, _ := raw(w, "properties", "metrics").([]any)
			all = append(all, widgetMetrics(t, title, rows)...)
		}
	}
	if len(all) == 0 {
		t.Fatal("the dashboard plots no metric")
	}
	shown := map[string]bool{}
	for _, p := range all {
		dims := slices.Sorted(func(yield func(string) bool) {
			for d := range p.dims {
				if !yield(d) {
					return
				}
			}
		})
		var key string
		for k, d := range defs {
			if d.Name == p.name && slices.Equal(slices.Sorted(slices.Values(d.Dimensions)), dims) {
				key = k
			}
		}
		shown[key] = true
		switch {
		case p.namespace != testNamespace:
			t.Errorf("widget %q: %s in namespace %q; want the MetricsNamespace parameter", p.widget, p.name, p.namespace)
		case key == "":
			t.Errorf("widget %q: %s with dimensions %v: the scanner emits no such metric (emf.Definitions)", p.widget, p.name, dims)
		}
		if v := p.dims[emf.DimSeverity]; v != "" {
			if _, err := rules.ParseSeverity(v); err != nil || strings.ToUpper(v) != v {
				t.Errorf("widget %q: %s Severity=%q: not a severity as the scanner writes it", p.widget, p.name, v)
			}
		}
		if v := p.dims[emf.DimRule]; v != "" {
			if _, ok := rules.Lookup(v); !ok {
				t.Errorf("widget %q: %s Rule=%q: no such rule", p.widget, p.name, v)
			}
		}
	}
	// What the issue asks the dashboard to show.
	for _, m := range []emf.Metric{emf.OpenFindingsBySeverity, emf.OpenFindingsByRule, emf.CoverageFindings,
		emf.RunDuration, emf.AWSThrottledCalls, emf.AccountsFailed, emf.AccountsIncomplete} {
		if !shown[m.Key()] {
			t.Errorf("the dashboard does not plot %s", m.Key())
		}
	}
	if types["alarm"] != 1 || types["log"] != 1 {
		t.Errorf("widgets by type %v; want one alarm widget and one Logs Insights widget", types)
	}
}

// TestDashboardCustomWidgets: every custom widget calls the template's
// DashboardFunction with params webui.ParseQuery accepts, refreshes with
// the dashboard, and the widgets show every view.
func TestDashboardCustomWidgets(t *testing.T) {
	body := dashboardBody(t, loadTemplate(t, "template.yaml"))
	views := map[webui.View]bool{}
	widgets, _ := body["widgets"].([]any)
	for _, w := range widgets {
		if raw(w, "type") != "custom" {
			continue
		}
		title, _ := raw(w, "properties", "title").(string)
		if ep := raw(w, "properties", "endpoint"); ep != "getatt:DashboardFunction.Arn" {
			t.Errorf("custom widget %q: endpoint %v; want ${DashboardFunction.Arn}", title, ep)
		}
		if got := fmt.Sprint(raw(w, "properties", "updateOn")); got != "map[refresh:true resize:false timeRange:false]" {
			t.Errorf("custom widget %q: updateOn %s; want refresh only (the views do not depend on the size or the time range)", title, got)
		}
		params, _ := raw(w, "properties", "params").(map[string]any)
		v := url.Values{}
		for k, p := range params {
			s, ok := p.(string)
			if !ok {
				t.Errorf("custom widget %q: param %s = %v; want a string", title, k, p)
			}
			v.Set(k, s)
		}
		q, err := webui.ParseQuery(v)
		if err != nil || len(params) == 0 {
			t.Errorf("custom widget %q: params %v: %v; want the params of a view", title, params, err)
			continue
		}
		for k := range params {
			if !v.Has(k) || !slices.Contains([]string{"view", "account", "rule", "severity", "page"}, k) {
				t.Errorf("custom widget %q: param %s is not one the widget reads", title, k)
			}
		}
		views[q.View] = true
	}
	for _, v := range webui.Views() {
		if !views[v] {
			t.Errorf("no custom widget shows the view %s (%s)", v, v.Title())
		}
	}
}

// TestDashboardAlarmsAndLogs: the alarm widget shows every alarm of the
// template; the Logs Insights widget reads the function's log group for
// the messages the scanner logs on a failure.
func TestDashboardAlarmsAndLogs(t *testing.T) {
	tpl := loadTemplate(t, "template.yaml")
	body := dashboardBody(t, tpl)
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile(filepath.Join(root, "scan", "scanner.go"))
	if err != nil {
		t.Fatal(err)
	}
	widgets, _ := body["widgets"].([]any)
	for _, w := range widgets {
		switch raw(w, "type") {
		case "alarm":
			var got []string
			for _, a := range raw(w, "properties", "alarms").([]any) {
				got = append(got, strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(a), "getatt:"), ".Arn"))
			}
			var want []string
			for name := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
				want = append(want, name)
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("alarm widget shows %v; want every alarm of the template %v (as ${Name.Arn})", got, want)
			}
		case "log":
			q, _ := raw(w, "properties", "query").(string)
			// The scanner's log group, and the fan-out workers' (they scan
			// the accounts of a fan-out run, docs/scale.md).
			if !strings.HasPrefix(q, "SOURCE 'ref:ScannerLogGroup' | SOURCE 'ref:WorkerLogGroup' |") {
				t.Errorf("log widget query %q: want SOURCE '${ScannerLogGroup}' | SOURCE '${WorkerLogGroup}' first", q)
			}
			// The key the function's logger writes the message under.
			msgKey := lambdacontext.ReplaceAttr(nil, slog.String(slog.MessageKey, "")).Key
			if !strings.Contains(q, "| filter "+msgKey+" in [") {
				t.Errorf("log widget query %q: want a filter on %s (lambdacontext's logger writes the message there)", q, msgKey)
			}
			for _, msg := range []string{"account not fully scanned", "bucket unreadable"} {
				if !strings.Contains(q, "'"+msg+"'") || !strings.Contains(string(code), `"`+msg+`"`) {
					t.Errorf("log widget: message %q not in the query, or no longer logged by scan/scanner.go", msg)
				}
			}
			for _, field := range []string{"account", "bucket", "code", "error", "requestId"} {
				if !regexp.MustCompile(`fields [^|]*\b` + field + `\b`).MatchString(q) {
					t.Errorf("log widget query %q: field %s not shown", q, field)
				}
			}
		}
	}
}
