// Package strictjson decodes untrusted JSON (Lambda events, SQS messages)
// strictly: an unknown field, a key given twice, a value of the wrong type
// or data after the value is an error, and errors stay one short line.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Decode decodes one JSON object into v, refusing keys given twice,
// unknown fields and anything after the value.
func Decode(raw []byte, v any) error {
	if err := CheckKeys(raw); err != nil {
		return err
	}
	return decode(raw, v)
}

// maxEcho is the longest value, in runes, an error repeats from the
// input.
const maxEcho = 40

// Echo shortens a value from untrusted input (an event's field, a
// param) for an error message, cutting it at a rune boundary: what an
// event holds never makes an error long.
func Echo(s string) string {
	if r := []rune(s); len(r) > maxEcho {
		return string(r[:maxEcho-1]) + "…"
	}
	return s
}

// decode decodes one JSON value into v, refusing unknown fields and
// anything after the value.
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(Echo(err.Error()))
	}
	if dec.InputOffset() != int64(len(raw)) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// CheckKeys walks the JSON text and refuses an object that names a key
// twice (encoding/json would keep the last one silently) and data after
// the first value.
func CheckKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	// One set of keys per open object; nil for an open array.
	var open []map[string]bool
	expectKey := func() bool { return len(open) > 0 && open[len(open)-1] != nil }
	for afterKey := false; ; {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errors.New(Echo(err.Error()))
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				open = append(open, map[string]bool{})
			case '[':
				open = append(open, nil)
			default:
				open = open[:len(open)-1]
				if len(open) == 0 && dec.More() {
					return errors.New("data after the JSON object")
				}
			}
			afterKey = false
			continue
		case string:
			if expectKey() && !afterKey {
				keys := open[len(open)-1]
				if keys[t] {
					return fmt.Errorf("key %q given twice", Echo(t))
				}
				keys[t] = true
				afterKey = true
				continue
			}
		}
		afterKey = false
	}
}
