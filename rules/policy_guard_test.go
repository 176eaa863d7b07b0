package rules

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// billionLaughs is the classic alias bomb: 10 levels of 10 references,
// 10^9 strings once expanded (the 549-byte document of issue 12 is one).
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 9; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [" + strings.Repeat(p+", ", 9) + p + "]\n")
	}
	b.WriteString("rules: *a9\n")
	return b.String()
}

// deepBlock nests n block mappings, each indented one more space.
func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// hostilePolicies are documents that must be refused fast and cheaply; the
// fuzz test's seed corpus holds each of them.
var hostilePolicies = []struct {
	name, doc string
	want      string // a substring of the error
}{
	{"billion laughs", billionLaughs(), "anchors (&name) and aliases (*name) are not supported"},
	{"alias", "rules:\n  INV-101: &x {severity: LOW}\n  INV-103: *x\n", "line 2"},
	{"alias in flow", "overrides: [{match: {buckets: [*x]}, rules: {}}]\n", "aliases (*name)"},
	{"unquoted glob is an alias", "waivers:\n  - {rule: INV-001, account: \"*\", bucket: *-tmp, reason: r, expires: 2027-01-01}\n", "line 2: YAML anchors"},
	{"merge key", "base: &b {severity: LOW}\nrules:\n  INV-101:\n    <<: *b\n", "line 1"},
	{"deep flow sequences", strings.Repeat("[", 200_000), "nested more than 32 levels deep"},
	{"deep flow mappings", strings.Repeat("{a: ", 50_000), "nested more than 32 levels deep"},
	{"deep JSON", strings.Repeat(`{"rules": `, 10_000) + "{}" + strings.Repeat("}", 10_000), "line 1: nested more than 32"},
	{"deep block mappings", deepBlock(600), "line 33: nested more than 32"},
	{"deep compact sequences", strings.Repeat("- ", 100_000) + "x\n", "nested more than 32"},
	{"deep mixed", "rules:\n  INV-101:\n" + strings.Repeat("    - ", 20) + strings.Repeat("[", 20), "nested more than 32"},
	{"too large", "version: 1\n" + strings.Repeat("# padding\n", maxPolicySize/10), "want at most 262144"},
}

// TestHostilePolicies refuses each hostile document with a one-line error
// that names the source and says why, allocating less than 1 MB on the way.
func TestHostilePolicies(t *testing.T) {
	for _, c := range hostilePolicies {
		t.Run(c.name, func(t *testing.T) {
			data := []byte(c.doc)
			var err error
			allocated := allocatedBytes(func() { _, err = LoadPolicy(data, "hostile.yaml") })
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "policy hostile.yaml") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q: want one line naming hostile.yaml and saying %q", msg, c.want)
			}
			if allocated > 1<<20 {
				t.Errorf("refusing %d bytes allocated %d bytes; want less than 1 MB", len(data), allocated)
			}
		})
	}
}

// allocatedBytes returns the bytes the heap grew by while f ran (the
// cumulative allocation, so garbage counts too).
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestShapeAcceptsPolicies: what checkShape passes is what policies hold:
// globs, quotes, comments, block scalars, tags and JSON.
func TestShapeAcceptsPolicies(t *testing.T) {
	for _, doc := range []string{
		"overrides:\n  - match: {buckets: [tmp-*, \"*-scratch-*\", 'a*']}  # a comment with & and *\n    rules: {INV-001: {enabled: false}}\n",
		"waivers:\n  - rule: INV-101\n    account: \"*\"\n    bucket: legacy-*\n    reason: |\n      *bold* & [unbalanced {\n        - deeper\n    expires: 2027-01-01\n",
		"waivers:\n  - {rule: INV-101, account: '*', bucket: a-*-b, reason: \"it's [ & *\", expires: 2027-01-01}\n",
		"waivers:\n  - rule: INV-101\n    account: \"*\"\n    reason: a - *b* ? c & d\n    expires: 2027-01-01\n",
		"rules: !!map {INV-101: {severity: LOW}}\n",
		`{"rules": {"INV-106": {"formats": ["csv"]}}, "overrides": [{"match": {"accounts": ["111111111111"]}, "rules": {"INV-109": {"required_fields": ["Size"]}}}]}`,
		"rules:\n  INV-109:\n    required_fields:\n      - Size\n      - - ignored\n" + "      - [[[[x]]]]\n",
		deepBlock(32),
		strings.Repeat("[", 31) + strings.Repeat("]", 31),
	} {
		if pe := checkShape([]byte(doc), "test.yaml"); pe != nil {
			t.Errorf("refused: %v\n%s", pe, doc)
		}
	}
	if _, err := LoadPolicy([]byte(`waivers:
  - rule: INV-101
    account: "*"
    bucket: legacy-*
    reason: |
      *bold* & [unbalanced {
    expires: 2027-01-01
`), "test.yaml"); err != nil {
		t.Errorf("a block scalar with indicators: %v", err)
	}
}

// TestLoadPolicyFileLimits: devices and directories are refused without
// reading them, and a file past the size limit is refused after reading
// one byte more than the limit.
func TestLoadPolicyFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#\n", maxPolicySize)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{"/dev/zero", "policy /dev/zero: a character device, not a file: want a policy document of at most 262144 bytes"},
		{dir, "a directory, not a file"},
		{big, "policy " + big + ": document is larger than 262144 bytes: want at most 262144"},
	} {
		var err error
		allocated := allocatedBytes(func() { _, err = LoadPolicyFile(c.path) })
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("LoadPolicyFile(%s): %v; want one line with %q", c.path, err, c.want)
		}
		if allocated > 4<<20 {
			t.Errorf("LoadPolicyFile(%s) allocated %d bytes; want less than 4 MB", c.path, allocated)
		}
	}
	// A pipe is read through the limit.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		defer w.Close()
		w.Write([]byte("rules:\n  INV-101: {severity: LOW}\n"))
	}()
	if _, err := LoadPolicyFile("/dev/fd/" + strconv.Itoa(int(r.Fd()))); err != nil {
		t.Errorf("a policy from a pipe: %v", err)
	}
}

// BenchmarkHostilePolicy reports the time and memory of refusing each
// hostile document, and of loading the largest policy the limit accepts.
func BenchmarkHostilePolicy(b *testing.B) {
	for _, c := range hostilePolicies {
		data := []byte(c.doc)
		b.Run(strings.ReplaceAll(c.name, " ", "-"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := LoadPolicy(data, "bench"); err == nil {
					b.Fatal("loaded")
				}
			}
		})
	}
	var w strings.Builder
	w.WriteString("waivers:\n")
	for w.Len() < maxPolicySize-100 {
		w.WriteString("  - {rule: INV-101, account: \"*\", reason: r, expires: 2027-01-01}\n")
	}
	largest := []byte(w.String())
	b.Run("largest-accepted", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(largest)))
		start := time.Now()
		for b.Loop() {
			if _, err := LoadPolicy(largest, "bench"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/load")
	})
}
