package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3inv/scanner/report"
	"github.com/s3inv/scanner/report/sinktest"
	"github.com/s3inv/scanner/rules"
)

// syncBuffer is a bytes.Buffer safe for the suite's concurrent Puts (the
// sinks serialise their writes; the race detector checks they do).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestJSONConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		var buf syncBuffer
		return sinktest.Fixture{
			Sink: report.NewJSON(&buf),
			Output: func(t *testing.T) []rules.Finding {
				var out []rules.Finding
				sc := bufio.NewScanner(strings.NewReader(buf.String()))
				for sc.Scan() {
					var f rules.Finding
					if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
						t.Fatalf("JSON line %q: %v", sc.Text(), err)
					}
					out = append(out, f)
				}
				return out
			},
		}
	})
}

func TestCSVConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		var buf syncBuffer
		return sinktest.Fixture{
			Sink: report.NewCSV(&buf),
			Output: func(t *testing.T) []rules.Finding {
				rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
				if err != nil {
					t.Fatalf("read CSV: %v", err)
				}
				var out []rules.Finding
				for _, row := range rows {
					if row[0] == csvHeader[0] {
						if !slices.Equal(row, csvHeader) {
							t.Fatalf("CSV header %q; want %q", row, csvHeader)
						}
						continue
					}
					out = append(out, csvFinding(t, row))
				}
				return out
			},
		}
	})
}

// csvHeader is the header row the CSV sink must write: a column renamed,
// moved or dropped changes the output format people's spreadsheets read.
var csvHeader = []string{
	"finding_id", "account_id", "account_name", "ou_id", "bucket", "region", "config_id",
	"rule_id", "severity", "status", "title", "message", "evidence",
	"waiver_reason", "waiver_expires", "scan_id", "observed_at",
}

func csvFinding(t *testing.T, row []string) rules.Finding {
	t.Helper()
	col := map[string]string{}
	for i, h := range csvHeader {
		col[h] = row[i]
	}
	sev, err := rules.ParseSeverity(col["severity"])
	if err != nil {
		t.Fatalf("CSV severity: %v", err)
	}
	f := rules.Finding{
		FindingID: col["finding_id"], AccountID: col["account_id"], AccountName: col["account_name"],
		OUID: col["ou_id"], Bucket: col["bucket"], Region: col["region"], ConfigID: col["config_id"],
		RuleID: col["rule_id"], Severity: sev, Status: rules.Status(col["status"]), Title: col["title"],
		Message: col["message"], ScanID: col["scan_id"],
	}
	if e := col["evidence"]; e != "" {
		if err := json.Unmarshal([]byte(e), &f.Evidence); err != nil {
			t.Fatalf("CSV evidence %q: %v", e, err)
		}
	}
	if col["waiver_reason"] != "" || col["waiver_expires"] != "" {
		f.Waiver = &rules.AppliedWaiver{Reason: col["waiver_reason"], Expires: col["waiver_expires"]}
	}
	if f.ObservedAt, err = time.Parse(time.RFC3339, col["observed_at"]); err != nil {
		t.Fatalf("CSV observed_at: %v", err)
	}
	return f
}

var tableRow = regexp.MustCompile(`^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(.*)$`)

func TestTableConformance(t *testing.T) {
	undash := func(s string) string {
		if s == "-" {
			return ""
		}
		return s
	}
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		var buf syncBuffer
		return sinktest.Fixture{
			Sink: report.NewTable(&buf),
			Output: func(t *testing.T) []rules.Finding {
				var out []rules.Finding
				for line := range strings.Lines(buf.String()) {
					line = strings.TrimRight(line, "\n")
					if strings.HasPrefix(line, "SEVERITY ") || line == "No findings." {
						continue
					}
					m := tableRow.FindStringSubmatch(line)
					if m == nil {
						t.Fatalf("table line %q: want six columns", line)
					}
					sev, err := rules.ParseSeverity(m[1])
					if err != nil {
						t.Fatalf("table line %q: %v", line, err)
					}
					out = append(out, rules.Finding{Severity: sev, RuleID: m[2], AccountID: m[3],
						Bucket: undash(m[4]), ConfigID: undash(m[5]), Message: m[6]})
				}
				return out
			},
			Keep: func(f rules.Finding) rules.Finding {
				msg := f.Message
				if f.Status == rules.StatusWaived && f.Waiver != nil {
					msg += fmt.Sprintf(" (waived until %s: %s)", f.Waiver.Expires, f.Waiver.Reason)
				}
				return rules.Finding{Severity: f.Severity, RuleID: f.RuleID, AccountID: f.AccountID,
					Bucket: f.Bucket, ConfigID: f.ConfigID, Message: msg}
			},
		}
	})
}

func TestMemoryConformance(t *testing.T) {
	sinktest.RunSinkTests(t, func(t *testing.T) sinktest.Fixture {
		return sinktest.Fixture{Sink: report.NewMemory(report.StoreOptions{})}
	})
}

func TestMemoryStore(t *testing.T) {
	sinktest.RunStoreTests(t, func(t *testing.T, o report.StoreOptions) func() report.Store {
		m := report.NewMemory(o)
		first := true
		return func() report.Store {
			if first {
				first = false
				return m
			}
			return m.Share()
		}
	})
}

// TestTablePaintsTheSeverityColumn: a painter colours the severity cells
// only (never the header, never another column), and the columns stay
// aligned on what is printed before painting; without one, no cell is
// touched. What an account owner chose (a configuration ID, a message
// quoting a prefix) cannot drive the terminal, painted or not.
func TestTablePaintsTheSeverityColumn(t *testing.T) {
	fs := []rules.Finding{
		{FindingID: "f1", AccountID: "111111111111", Bucket: "logs", ConfigID: "c\x1b]0;title\x07", RuleID: "INV-001",
			Severity: rules.SeverityCritical, Status: rules.StatusOpen, Message: "prefix \x1b[2J\x1b[31mred"},
		{FindingID: "f2", AccountID: "111111111111", Bucket: "data", RuleID: "INV-101", Severity: rules.SeverityLow, Status: rules.StatusOpen, Message: "daily"},
	}
	render := func(opts ...report.TableOption) string {
		var buf bytes.Buffer
		tab := report.NewTable(&buf, opts...)
		ctx := context.Background()
		if err := tab.Begin(ctx, report.Run{ScanID: "s"}); err != nil {
			t.Fatal(err)
		}
		if err := tab.Put(ctx, fs); err != nil {
			t.Fatal(err)
		}
		if err := tab.End(ctx, report.Run{ScanID: "s"}); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	plain := render()
	painted := render(report.WithPaint(func(sev rules.Severity, cell string) string { return "<" + sev.String() + ":" + cell + ">" }))
	want := strings.NewReplacer("CRITICAL  ", "<CRITICAL:CRITICAL>  ", "LOW       ", "<LOW:LOW>       ").Replace(plain)
	if painted != want {
		t.Errorf("painted table:\n%s\nwant:\n%s", painted, want)
	}
	if !strings.HasPrefix(painted, "SEVERITY  RULE") || strings.Contains(plain, "<") {
		t.Errorf("header painted, or a plain table painted:\n%s\n%s", painted, plain)
	}
	if strings.ContainsAny(painted, "\x1b\x07") || !strings.Contains(painted, `prefix \u001B[2J\u001B[31mred`) {
		t.Errorf("an account's escapes reach the terminal:\n%q", painted)
	}
	if got := render(report.WithPaint(nil)); got != plain {
		t.Errorf("WithPaint(nil):\n%s\nwant the plain table:\n%s", got, plain)
	}
}
