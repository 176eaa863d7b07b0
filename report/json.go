package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/s3inv/scanner/rules"
)

// JSON writes each finding as one line of JSON (JSON Lines), with the
// field names of rules.Finding's tags. It is the scanner's public output
// format. Findings are written as they are Put, one Write per Put; Begin,
// AccountDone and End write nothing.
type JSON struct {
	w io.Writer
	guard
}

var _ Sink = (*JSON)(nil)

// NewJSON returns a sink that writes JSON Lines to w.
func NewJSON(w io.Writer) *JSON { return &JSON{w: w} }

// Put writes one line per finding.
func (j *JSON) Put(_ context.Context, fs []rules.Finding) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.check(); err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, f := range fs {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("encode finding %s: %w", f.FindingID, err)
		}
	}
	if _, err := j.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}
