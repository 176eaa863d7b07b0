package layers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/s3inv/scanner"

// layer is where a package of the module sits; a package imports only
// its own layer and those below it, except where allowed says otherwise.
type layer int

const (
	base layer = iota
	standin
	stage
	app
	testMachinery
)

func (l layer) String() string {
	return [...]string{"base", "standin", "stage", "app", "test machinery"}[l]
}

// layerOf places a package of the module by its path.
func layerOf(pkg string) (layer, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	under := func(dir string) bool { return rel == dir || strings.HasPrefix(rel, dir+"/") }
	switch {
	case under("internal/testenv"), under("report/sinktest"):
		return testMachinery, nil
	case under("internal/base"):
		return base, nil
	case under("internal/standin"):
		return standin, nil
	case under("scan"), under("rules"), under("report"):
		return stage, nil
	case under("internal/app"), under("cmd"):
		return app, nil
	}
	return 0, fmt.Errorf("package %s is in no layer: put it under internal/base, internal/standin, internal/app or internal/testenv, or make it a stage", pkg)
}

// allowed reports whether a package of layer from may import one of
// layer to from its non-test files.
func allowed(from, to layer) bool {
	switch {
	case from == testMachinery:
		return true
	case to == testMachinery:
		return false
	case from == standin:
		return to == base || to == standin
	case from == stage:
		return to != standin && to <= stage
	}
	return to <= from
}

// promises are the stages' promises: package stage (itself, not its
// sub-packages, when only is set) never depends on a package under
// banned, even indirectly.
var promises = []struct {
	stage, banned, why string
	only               bool
}{
	{"rules", module + "/scan", "the rules never scan", false},
	{"rules", module + "/report", "the rules never store", false},
	{"rules", "github.com/aws/aws-sdk-go-v2", "the rules never touch an AWS client", false},
	{"scan", module + "/rules", "scan fetches plain data; it never judges", false},
	{"scan", module + "/report", "scan fetches plain data; it never stores", false},
	{"report", module + "/scan", "report never scans", false},
	{"report", "github.com/aws/aws-sdk-go-v2", "report itself calls no AWS API: the stores and exporters that do are its sub-packages", true},
}

type pkg struct {
	ImportPath   string
	Imports      []string
	Deps         []string
	TestImports  []string
	XTestImports []string
}

// listPackages runs go list over the module with tags.
func listPackages(t *testing.T, tags string) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "-deps=false", "-tags", tags, module+"/...")
	cmd.Dir = "../../.."
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list -tags %q: %v\n%s", tags, err, ee.Stderr)
	} else if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	for dec := json.NewDecoder(strings.NewReader(string(out))); ; {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list -json: %v", err)
		}
		ps = append(ps, p)
	}
	if len(ps) < 10 {
		t.Fatalf("go list found %d packages of %s; want the whole module", len(ps), module)
	}
	return ps
}

// tagSets are the build tags the Makefile builds with: the command line,
// the scanner's and worker's function, the custom-widget function.
var tagSets = []string{"", "lambda,lambda.norpc", "lambda,lambda.norpc,widget"}

// TestLayers fails on a non-test import that runs the wrong way: a lower
// layer importing a higher one, anything but the test machinery importing
// the test machinery, a stage breaking its promise.
func TestLayers(t *testing.T) {
	for _, tags := range tagSets {
		for _, p := range listPackages(t, tags) {
			from, err := layerOf(p.ImportPath)
			if err != nil {
				t.Error(err)
				continue
			}
			for _, imp := range p.Imports {
				if !strings.HasPrefix(imp, module+"/") {
					continue
				}
				to, err := layerOf(imp)
				if err == nil && !allowed(from, to) {
					t.Errorf("-tags %q: %s (layer %s) imports %s (layer %s): the import runs the wrong way", tags, p.ImportPath, from, imp, to)
				}
			}
			checkStage(t, tags, p)
		}
	}
}

// checkStage fails when p is a stage whose dependencies break one of
// the stage's promises.
func checkStage(t *testing.T, tags string, p pkg) {
	rel := strings.TrimPrefix(p.ImportPath, module+"/")
	top, _, _ := strings.Cut(rel, "/")
	for _, pr := range promises {
		if top != pr.stage || (pr.only && rel != pr.stage) || rel == "report/sinktest" {
			continue
		}
		if i := slices.IndexFunc(p.Deps, func(d string) bool { return d == pr.banned || strings.HasPrefix(d, pr.banned+"/") }); i >= 0 {
			t.Errorf("-tags %q: %s depends on %s: %s", tags, p.ImportPath, p.Deps[i], pr.why)
		}
	}
}

// TestLayerOf places a package of each layer where the layout says, and
// refuses a package outside every layer.
func TestLayerOf(t *testing.T) {
	for path, want := range map[string]layer{
		module + "/internal/base/inventory":       base,
		module + "/internal/standin/awssim":       standin,
		module + "/scan":                          stage,
		module + "/report/dynamo":                 stage,
		module + "/internal/app/pipeline":         app,
		module + "/cmd/scanner":                   app,
		module + "/internal/testenv":              testMachinery,
		module + "/internal/testenv/deploy":       testMachinery,
		module + "/report/sinktest":               testMachinery,
		module + "/internal/basement/not-a-layer": -1,
	} {
		got, err := layerOf(path)
		if want == -1 {
			if err == nil {
				t.Errorf("layerOf(%s) = %s; want an error", path, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("layerOf(%s) = %v, %v; want %s", path, got, err, want)
		}
	}
	if allowed(base, stage) || allowed(stage, app) || allowed(stage, standin) || allowed(app, testMachinery) || !allowed(app, standin) || !allowed(testMachinery, app) {
		t.Error("allowed() does not order the layers base < standin, stage < app, with the test machinery apart")
	}
	if !slices.Contains(tagSets, "") {
		t.Error("tagSets leaves out the untagged build")
	}
}

// TestArchitectureNamesEveryPackage fails when a package of the module is
// missing from ARCHITECTURE.md's table of packages and their one job, or
// the table names a package that does not exist.
func TestArchitectureNamesEveryPackage(t *testing.T) {
	b, err := os.ReadFile("../../../ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "\n## Packages")
	if !ok {
		t.Fatal("ARCHITECTURE.md has no section headed Packages")
	}
	table, _, _ = strings.Cut(table, "\n## ")
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9/]+)` \\| \\S").FindAllStringSubmatch(table, -1) {
		named[m[1]] = true
	}
	listed := map[string]bool{}
	for _, p := range listPackages(t, "") {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		listed[rel] = true
		if !named[rel] {
			t.Errorf("ARCHITECTURE.md: package %s has no row in the table of packages and their one job", rel)
		}
	}
	for rel := range named {
		if !listed[rel] {
			t.Errorf("ARCHITECTURE.md: the table of packages names %s, which is not a package of the module", rel)
		}
	}
}
