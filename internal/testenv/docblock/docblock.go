// Package docblock keeps generated blocks of the documentation in step with
// the code that defines them. A generated block sits between two marker
// lines in a Markdown file:
//
//	<!-- BEGIN RULES -->
//	...generated...
//	<!-- END RULES -->
//
// Tests call [Check] with the freshly generated text: it fails when the
// file is stale and rewrites it when the test runs with -update.
package docblock

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated documentation blocks")

// Replace returns doc with the block named name replaced by body. It fails
// when the markers are missing or out of order.
func Replace(doc []byte, name, body string) ([]byte, error) {
	begin := []byte("<!-- BEGIN " + name + " -->\n")
	end := []byte("<!-- END " + name + " -->")
	i := bytes.Index(doc, begin)
	j := bytes.Index(doc, end)
	if i < 0 || j < i {
		return nil, fmt.Errorf("markers %q and %q: not found in order", bytes.TrimSpace(begin), end)
	}
	var out bytes.Buffer
	out.Write(doc[:i+len(begin)])
	out.WriteString(body)
	if body != "" && body[len(body)-1] != '\n' {
		out.WriteByte('\n')
	}
	out.Write(doc[j:])
	return out.Bytes(), nil
}

// Extract returns the body of the block named name in doc.
func Extract(doc []byte, name string) (string, error) {
	begin := "<!-- BEGIN " + name + " -->\n"
	end := "<!-- END " + name + " -->"
	s := string(doc)
	i := strings.Index(s, begin)
	j := strings.Index(s, end)
	if i < 0 || j < i+len(begin) {
		return "", fmt.Errorf("markers %q and %q: not found in order", strings.TrimSpace(begin), end)
	}
	return s[i+len(begin) : j], nil
}

// Check compares the block named name in the file at path with body. With
// -update it rewrites the block instead.
func Check(t testing.TB, path, name, body string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Replace(doc, name, body)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if bytes.Equal(doc, want) {
		return
	}
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the %s block is stale; run the test with -update to regenerate it", path, name)
}

// CheckFile compares the whole file at path with body; with -update it
// writes the file.
func CheckFile(t testing.TB, path, body string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err == nil && string(got) == body {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s: %v; run the test with -update to generate it", path, err)
	}
	t.Errorf("%s is stale; run the test with -update to regenerate it", path)
}
