package emf

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Limits of the Embedded Metric Format specification.
const (
	// MaxMetrics is the most metrics one document may declare.
	MaxMetrics = 100
	// MaxDimensions is the most dimensions one dimension set may hold.
	MaxDimensions = 30
	// maxNamespace is the longest namespace CloudWatch accepts.
	maxNamespace = 255
	// maxName is the longest metric or dimension name; maxValue the
	// longest dimension value.
	maxName, maxValue = 255, 1024
)

// Unit is a CloudWatch metric unit.
type Unit string

// The units the scanner uses; Valid accepts every CloudWatch unit.
const (
	Count        Unit = "Count"
	Seconds      Unit = "Seconds"
	Milliseconds Unit = "Milliseconds"
	None         Unit = "None"
)

// units are every unit CloudWatch accepts.
var units = []Unit{
	"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
	"Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
	"Count/Second", "None",
}

// Valid reports whether u is a CloudWatch unit.
func (u Unit) Valid() bool { return slices.Contains(units, u) }

// Metric defines a metric: its name, unit and the names of its dimensions
// (none: the metric has no dimension). A metric is the pair of its name
// and its dimension names: OpenFindings by Severity and OpenFindings
// without dimension are two metrics.
type Metric struct {
	Name       string
	Unit       Unit
	Dimensions []string
}

// Key names the metric as CloudWatch distinguishes it: "OpenFindings"
// or "OpenFindings{Rule,Severity}".
func (m Metric) Key() string {
	if len(m.Dimensions) == 0 {
		return m.Name
	}
	return m.Name + "{" + strings.Join(m.Dimensions, ",") + "}"
}

// Value is one value of a metric, with the value of each of its
// dimensions.
type Value struct {
	Metric Metric
	// Dims holds a value for each of Metric.Dimensions, and no other.
	Dims  map[string]string
	Value float64
}

// Encode writes values as EMF documents, one JSON line each: the values
// that share their dimensions and dimension values share a document, at
// most MaxMetrics of them, and members (plain, unindexed fields such as
// a run ID) are repeated in every document. It returns an error naming
// the value that breaks the specification; nothing is encoded then.
func Encode(namespace string, ts time.Time, members map[string]any, values []Value) ([][]byte, error) {
	if namespace == "" || len(namespace) > maxNamespace {
		return nil, fmt.Errorf("EMF namespace %q: want 1 to %d characters", namespace, maxNamespace)
	}
	type group struct {
		dims   []string
		vals   map[string]string
		values []Value
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, v := range values {
		if err := check(v, members); err != nil {
			return nil, err
		}
		key := groupKey(v)
		g := byKey[key]
		if g == nil {
			g = &group{dims: v.Metric.Dimensions, vals: v.Dims}
			byKey[key] = g
			groups = append(groups, g)
		}
		if _, clash := g.vals[v.Metric.Name]; clash {
			return nil, fmt.Errorf("EMF metric %s: its name is a dimension of the same document", v.Metric.Key())
		}
		for _, o := range g.values {
			if o.Metric.Name == v.Metric.Name {
				return nil, fmt.Errorf("EMF metric %s %v given twice", v.Metric.Key(), v.Dims)
			}
		}
		g.values = append(g.values, v)
	}
	var lines [][]byte
	for _, g := range groups {
		for chunk := range slices.Chunk(g.values, MaxMetrics) {
			line, err := document(namespace, ts, members, g.dims, g.vals, chunk)
			if err != nil {
				return nil, err
			}
			lines = append(lines, line)
		}
	}
	return lines, nil
}

// groupKey identifies the dimension names and values of v.
func groupKey(v Value) string {
	var b strings.Builder
	for _, d := range v.Metric.Dimensions {
		b.WriteString(d)
		b.WriteByte(0)
		b.WriteString(v.Dims[d])
		b.WriteByte(0)
	}
	return b.String()
}

// check reports what of v breaks the specification.
func check(v Value, members map[string]any) error {
	m := v.Metric
	switch {
	case m.Name == "" || len(m.Name) > maxName:
		return fmt.Errorf("EMF metric name %q: want 1 to %d characters", m.Name, maxName)
	case !m.Unit.Valid():
		return fmt.Errorf("EMF metric %s: unit %q is not a CloudWatch unit", m.Key(), m.Unit)
	case len(m.Dimensions) > MaxDimensions:
		return fmt.Errorf("EMF metric %s: %d dimensions; want at most %d", m.Key(), len(m.Dimensions), MaxDimensions)
	case len(v.Dims) != len(m.Dimensions):
		return fmt.Errorf("EMF metric %s: values %v; want one for each dimension", m.Key(), v.Dims)
	case math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
		return fmt.Errorf("EMF metric %s: value %v; want a finite number", m.Key(), v.Value)
	case m.Name == "_aws" || members[m.Name] != nil:
		return fmt.Errorf("EMF metric %s: its name is taken by a member", m.Key())
	}
	for _, d := range m.Dimensions {
		val, ok := v.Dims[d]
		switch {
		case d == "" || len(d) > maxName || strings.HasPrefix(d, ":"):
			return fmt.Errorf("EMF metric %s: dimension name %q: want 1 to %d characters, not starting with a colon", m.Key(), d, maxName)
		case !ok || val == "" || len(val) > maxValue:
			return fmt.Errorf("EMF metric %s: dimension %s = %q: want 1 to %d characters", m.Key(), d, val, maxValue)
		case d == "_aws" || members[d] != nil:
			return fmt.Errorf("EMF metric %s: dimension %s is taken by a member", m.Key(), d)
		}
	}
	return nil
}

// directive is the _aws member of a document.
type directive struct {
	Timestamp         int64             `json:"Timestamp"`
	CloudWatchMetrics []metricDirective `json:"CloudWatchMetrics"`
}

type metricDirective struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []metricDecl `json:"Metrics"`
}

type metricDecl struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// document encodes one EMF document.
func document(namespace string, ts time.Time, members map[string]any, dims []string, vals map[string]string, values []Value) ([]byte, error) {
	doc := make(map[string]any, len(members)+len(vals)+len(values)+1)
	for k, v := range members {
		doc[k] = v
	}
	for k, v := range vals {
		doc[k] = v
	}
	md := metricDirective{Namespace: namespace, Dimensions: [][]string{slices.Clip(dims)}}
	if md.Dimensions[0] == nil {
		md.Dimensions[0] = []string{}
	}
	for _, v := range values {
		md.Metrics = append(md.Metrics, metricDecl{Name: v.Metric.Name, Unit: v.Metric.Unit})
		doc[v.Metric.Name] = v.Value
	}
	doc["_aws"] = directive{Timestamp: ts.UnixMilli(), CloudWatchMetrics: []metricDirective{md}}
	return json.Marshal(doc)
}

// Document is an EMF document as Parse reads it.
type Document struct {
	Timestamp time.Time
	// Members holds every top-level member but _aws.
	Members map[string]any
	// Metrics lists each metric a directive declares with each of its
	// dimension sets, and its value.
	Metrics []Parsed
}

// Parsed is one metric of a document under one dimension set.
type Parsed struct {
	Namespace string
	Metric    Metric
	Dims      map[string]string
	Value     float64
}

// Parse reads one line as an EMF document and checks it against the
// specification: the _aws member with an integer Timestamp and at least
// one directive, each with a namespace, dimension sets of at most
// MaxDimensions names that are each a top-level string member, and
// metrics that are each a top-level number (or array of at most 100
// numbers) with a valid unit; at most MaxMetrics metrics in all.
func Parse(line []byte) (Document, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(line, &top); err != nil {
		return Document{}, fmt.Errorf("EMF line: want a JSON object: %w", err)
	}
	rawAWS, ok := top["_aws"]
	if !ok {
		return Document{}, errors.New("EMF line: no _aws member")
	}
	var aws struct {
		Timestamp         *json.Number `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  *string      `json:"Namespace"`
			Dimensions [][]string   `json:"Dimensions"`
			Metrics    []metricDecl `json:"Metrics"`
		} `json:"CloudWatchMetrics"`
	}
	dec := json.NewDecoder(strings.NewReader(string(rawAWS)))
	dec.UseNumber()
	if err := dec.Decode(&aws); err != nil {
		return Document{}, fmt.Errorf("EMF _aws: %w", err)
	}
	if aws.Timestamp == nil {
		return Document{}, errors.New("EMF _aws: no Timestamp")
	}
	ms, err := aws.Timestamp.Int64()
	if err != nil || ms < 0 {
		return Document{}, fmt.Errorf("EMF _aws.Timestamp %s: want milliseconds since the epoch", aws.Timestamp)
	}
	if len(aws.CloudWatchMetrics) == 0 {
		return Document{}, errors.New("EMF _aws.CloudWatchMetrics: want at least one directive")
	}
	doc := Document{Timestamp: time.UnixMilli(ms).UTC(), Members: map[string]any{}}
	for k, v := range top {
		if k == "_aws" {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			return Document{}, err
		}
		doc.Members[k] = x
	}
	declared := 0
	for i, d := range aws.CloudWatchMetrics {
		if d.Namespace == nil || *d.Namespace == "" || len(*d.Namespace) > maxNamespace {
			return Document{}, fmt.Errorf("EMF directive %d: Namespace missing or not 1 to %d characters", i, maxNamespace)
		}
		if d.Dimensions == nil || d.Metrics == nil {
			return Document{}, fmt.Errorf("EMF directive %d: want Dimensions and Metrics arrays", i)
		}
		declared += len(d.Metrics)
		dimVals := map[string]string{}
		for _, set := range d.Dimensions {
			if len(set) > MaxDimensions {
				return Document{}, fmt.Errorf("EMF directive %d: a dimension set of %d names; want at most %d", i, len(set), MaxDimensions)
			}
			for _, name := range set {
				s, ok := doc.Members[name].(string)
				if !ok {
					return Document{}, fmt.Errorf("EMF directive %d: dimension %q is not a top-level string member", i, name)
				}
				dimVals[name] = s
			}
		}
		for _, m := range d.Metrics {
			if m.Unit != "" && !m.Unit.Valid() {
				return Document{}, fmt.Errorf("EMF metric %s: unit %q is not a CloudWatch unit", m.Name, m.Unit)
			}
			value, err := metricValue(doc.Members[m.Name])
			if err != nil {
				return Document{}, fmt.Errorf("EMF metric %q: %w", m.Name, err)
			}
			for _, set := range d.Dimensions {
				p := Parsed{Namespace: *d.Namespace, Metric: Metric{Name: m.Name, Unit: m.Unit, Dimensions: set}, Dims: map[string]string{}, Value: value}
				for _, name := range set {
					p.Dims[name] = dimVals[name]
				}
				doc.Metrics = append(doc.Metrics, p)
			}
		}
	}
	if declared > MaxMetrics {
		return Document{}, fmt.Errorf("EMF document: %d metrics; want at most %d", declared, MaxMetrics)
	}
	return doc, nil
}

// metricValue reads a metric's top-level member: a number, or an array of
// at most 100 numbers (whose first is returned).
func metricValue(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case []any:
		if len(x) == 0 || len(x) > 100 {
			return 0, fmt.Errorf("%d values; want 1 to 100", len(x))
		}
		for _, e := range x {
			if _, ok := e.(float64); !ok {
				return 0, fmt.Errorf("value %v is not a number", e)
			}
		}
		return x[0].(float64), nil
	case nil:
		return 0, errors.New("not a top-level member")
	default:
		return 0, fmt.Errorf("value %v: want a number", v)
	}
}
