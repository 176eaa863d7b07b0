package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// panics returns the positions of the calls of the builtin panic in f,
// except panic(http.ErrAbortHandler): net/http's own way for a handler to
// abort its response (the server recovers it and closes the connection),
// which the simulated AWS and the fault proxy use to reset a connection.
func panics(f *ast.File) []token.Pos {
	var at []token.Pos
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		id, ok := call.Fun.(*ast.Ident)
		if !ok || id.Name != "panic" || id.Obj != nil { // Obj is set when the file declares its own panic
			return true
		}
		if len(call.Args) == 1 {
			if sel, ok := call.Args[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "ErrAbortHandler" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "http" {
					return true
				}
			}
		}
		at = append(at, call.Pos())
		return true
	})
	return at
}

// TestNoPanicOutsideMain fails on a call of panic in a non-test file of
// any package but main: an invariant is a returned error, or a type that
// cannot hold what would break it.
func TestNoPanicOutsideMain(t *testing.T) {
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir("../../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != "../../.." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		files++
		if f.Name.Name == "main" {
			return nil
		}
		for _, p := range panics(f) {
			t.Errorf("%s: panic outside main and tests; return an error, or make the invariant unrepresentable", fset.Position(p))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read %d Go files; want the whole module", files)
	}
}

// TestPanicsFindsACall: the walk's detector finds a panic (and one in a
// function literal), and lets net/http's abort and a function of the
// file's own named panic pass.
func TestPanicsFindsACall(t *testing.T) {
	for src, want := range map[string]int{
		`package p; func f() { panic("no") }`:                                    1,
		`package p; func f() { g := func() { panic(errX) }; g() }`:               1,
		`package p; import "net/http"; func f() { panic(http.ErrAbortHandler) }`: 0,
		`package p; func panic(string) {}; func f() { panic("mine") }`:           0,
		`package p; func f() error { return nil }`:                               0,
	} {
		f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(panics(f)); got != want {
			t.Errorf("%s: %d panics found; want %d", src, got, want)
		}
	}
}
