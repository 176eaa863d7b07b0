package widget

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/s3inv/scanner/internal/base/strictjson"
)

// params are the params a widget event may carry, besides
// widgetContext and describe: what webui.ParseQuery reads, and apply.
var params = []string{"view", "account", "ou", "rule", "severity", "next"}

// formFields are the filter form's fields, read from
// widgetContext.forms.all when the event has "apply": true.
var formFields = []string{"account", "ou", "rule", "severity"}

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
