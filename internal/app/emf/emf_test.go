package emf

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var ts = time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)

// TestEncodeSplitsAtTheLimit: 250 metrics of one dimension set make three
// documents of at most 100 metrics, each valid, every value kept once.
func TestEncodeSplitsAtTheLimit(t *testing.T) {
	var vs []Value
	for i := range 250 {
		vs = append(vs, Value{Metric: Metric{Name: fmt.Sprintf("M%03d", i), Unit: Count, Dimensions: []string{"Severity"}},
			Dims: map[string]string{"Severity": "HIGH"}, Value: float64(i)})
	}
	lines, err := Encode("NS", ts, map[string]any{"scan_id": "s1"}, vs)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d documents; want 3 (100 + 100 + 50)", len(lines))
	}
	seen := map[string]float64{}
	for _, l := range lines {
		doc, err := Parse(l)
		if err != nil {
			t.Fatalf("%v\n%s", err, l)
		}
		if len(doc.Metrics) > MaxMetrics || doc.Members["scan_id"] != "s1" || !doc.Timestamp.Equal(ts) {
			t.Errorf("document of %d metrics, scan_id %v, timestamp %v", len(doc.Metrics), doc.Members["scan_id"], doc.Timestamp)
		}
		for _, p := range doc.Metrics {
			if p.Dims["Severity"] != "HIGH" || p.Namespace != "NS" {
				t.Errorf("%s: dims %v, namespace %s", p.Metric.Name, p.Dims, p.Namespace)
			}
			seen[p.Metric.Name] = p.Value
		}
	}
	if len(seen) != 250 || seen["M249"] != 249 {
		t.Errorf("%d metrics read back (M249 = %v); want 250", len(seen), seen["M249"])
	}
}

// TestEncodeGroupsByDimensionValues: values with other dimension values
// go to other documents, since each dimension is one top-level member.
func TestEncodeGroupsByDimensionValues(t *testing.T) {
	sev := Metric{Name: "Open", Unit: Count, Dimensions: []string{"Severity"}}
	lines, err := Encode("NS", ts, nil, []Value{
		{Metric: sev, Dims: map[string]string{"Severity": "HIGH"}, Value: 1},
		{Metric: sev, Dims: map[string]string{"Severity": "LOW"}, Value: 2},
		{Metric: Metric{Name: "Open", Unit: Count}, Dims: map[string]string{}, Value: 3},
		{Metric: Metric{Name: "Runs", Unit: Count}, Dims: nil, Value: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 {
		t.Fatalf("%d documents; want 3 (HIGH, LOW, none)\n%s", len(lines), lines)
	}
	doc, err := Parse(lines[2])
	if err != nil || len(doc.Metrics) != 2 || len(doc.Metrics[0].Metric.Dimensions) != 0 {
		t.Errorf("the document without dimensions: %+v, %v; want Open and Runs with an empty dimension set\n%s", doc, err, lines[2])
	}
	if !strings.Contains(string(lines[2]), `"Dimensions":[[]]`) {
		t.Errorf("no empty dimension set: %s", lines[2])
	}
}

func TestEncodeRejects(t *testing.T) {
	many := make([]string, MaxDimensions+1)
	dims := map[string]string{}
	for i := range many {
		many[i] = fmt.Sprintf("D%d", i)
		dims[many[i]] = "v"
	}
	for _, c := range []struct {
		name, ns string
		members  map[string]any
		vs       []Value
		want     string
	}{
		{"no namespace", "", nil, []Value{{Metric: Metric{Name: "A", Unit: Count}}}, "namespace"},
		{"bad unit", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: "Things"}}}, `unit "Things"`},
		{"no name", "NS", nil, []Value{{Metric: Metric{Unit: Count}}}, "metric name"},
		{"31 dimensions", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: Count, Dimensions: many}, Dims: dims}}, "31 dimensions"},
		{"dimension without value", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: Count, Dimensions: []string{"Rule"}}, Dims: map[string]string{"Rule": ""}}}, "dimension Rule"},
		{"other dimension value", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: Count, Dimensions: []string{"Rule"}}, Dims: map[string]string{"Severity": "x"}}}, "dimension Rule"},
		{"NaN", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: Count}, Value: math.NaN()}}, "finite"},
		{"twice", "NS", nil, []Value{{Metric: Metric{Name: "A", Unit: Count}}, {Metric: Metric{Name: "A", Unit: Count}}}, "twice"},
		{"member clash", "NS", map[string]any{"A": 1}, []Value{{Metric: Metric{Name: "A", Unit: Count}}}, "member"},
		{"dimension is a metric", "NS", nil, []Value{
			{Metric: Metric{Name: "Rule", Unit: Count, Dimensions: []string{"Rule"}}, Dims: map[string]string{"Rule": "x"}}}, "dimension"},
	} {
		_, err := Encode(c.ns, ts, c.members, c.vs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want an error naming %s", c.name, err, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	hundredOne := make([]string, 101)
	members := make([]string, 101)
	for i := range hundredOne {
		hundredOne[i] = fmt.Sprintf(`{"Name":"M%d","Unit":"Count"}`, i)
		members[i] = fmt.Sprintf(`"M%d":1`, i)
	}
	for _, c := range []struct{ line, want string }{
		{`not json`, "JSON object"},
		{`{"A":1}`, "no _aws"},
		{`{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":1}`, "no Timestamp"},
		{`{"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":1}`, "Timestamp"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}`, "at least one directive"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":1}`, "Namespace"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"A"}]}]},"A":1}`, "Dimensions"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["Rule"]],"Metrics":[{"Name":"A"}]}]},"A":1}`, `dimension "Rule"`},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]}}`, "top-level"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A"}]}]},"A":"1"}`, "want a number"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"A","Unit":"Things"}]}]},"A":1}`, "unit"},
		{`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[[]],"Metrics":[` + strings.Join(hundredOne, ",") + `]}]},` + strings.Join(members, ",") + `}`, "101 metrics"},
	} {
		if _, err := Parse([]byte(c.line)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.80s): %v; want an error naming %s", c.line, err, c.want)
		}
	}
}
