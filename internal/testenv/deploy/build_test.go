package deploy

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestSAMBuildTarget runs the Makefile's build-ScannerFunction target as
// `sam build` does (make build-ScannerFunction ARTIFACTS_DIR=...) and
// checks that it leaves a static linux/arm64 executable named bootstrap
// there, what the provided.al2023 arm64 runtime runs.
func TestSAMBuildTarget(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	makeBin, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make not on PATH (sam build needs it too): %v", err)
	}
	artifacts := t.TempDir()
	cmd := exec.Command(makeBin, "build-ScannerFunction", "ARTIFACTS_DIR="+artifacts)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-ScannerFunction: %v\n%s", err, out)
	}
	f, err := elf.Open(filepath.Join(artifacts, "bootstrap"))
	if err != nil {
		t.Fatalf("ARTIFACTS_DIR/bootstrap: %v; want the Lambda executable", err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
		t.Errorf("bootstrap is %s %s; want 64-bit arm64 (Architectures: [arm64])", f.Class, f.Machine)
	}
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		t.Errorf("bootstrap is %s; want an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("bootstrap has a dynamic loader (PT_INTERP): want a static build (CGO_ENABLED=0)")
		}
	}
	// The size is a property of the build, not of the machine: the bound
	// is the one `make build` enforces.
	st, err := os.Stat(filepath.Join(artifacts, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	if mib := float64(st.Size()) / (1 << 20); mib > maxBootstrapMiB {
		t.Errorf("bootstrap is %.1f MiB; want at most %d MiB (what does the function link that it does not run? see TestLambdaBuildLinksOnlyWhatItRuns)", mib, maxBootstrapMiB)
	} else {
		t.Logf("bootstrap: %.1f MiB of at most %d", mib, maxBootstrapMiB)
	}
}

// maxBootstrapMiB is the Makefile's LAMBDA_MAX_MIB.
const maxBootstrapMiB = 16

// TestLambdaBuildLinksOnlyWhatItRuns lists the packages of the Lambda build
// (the Makefile's build tags, linux/arm64): none of the command line's
// packages, the demo, the simulated organization, the dynalite launcher or
// package testing may be among them.
func TestLambdaBuildLinksOnlyWhatItRuns(t *testing.T) {
	root, mk := makefile(t)
	tags, deps := functionBuild(t, root, mk, "$(LAMBDA_ARGS)")
	if !strings.Contains(mk, fmt.Sprintf("LAMBDA_MAX_MIB ?= %d\n", maxBootstrapMiB)) {
		t.Errorf("Makefile: LAMBDA_MAX_MIB is not %d, the bound this test package checks", maxBootstrapMiB)
	}
	checkBanned(t, "the Lambda build (-tags "+tags+")", deps, slices.Concat(neverInAFunction, []string{
		"text/template",
		"html/template",
		"github.com/s3inv/scanner/internal/app/webui",
	}))
}

// neverInAFunction are the packages no Lambda build may link: tests,
// the command line's terminal, the simulators and the local servers.
var neverInAFunction = []string{
	"testing",
	"golang.org/x/term",
	"github.com/s3inv/scanner/internal/standin/awssim",
	"github.com/s3inv/scanner/internal/app/demo",
	"github.com/s3inv/scanner/internal/testenv",
	"github.com/s3inv/scanner/internal/standin/localserver",
	"github.com/s3inv/scanner/internal/app/console",
	"github.com/s3inv/scanner/report/sinktest",
	"github.com/chromedp/chromedp",
}

// makefile returns the repository's root and its Makefile.
func makefile(t *testing.T) (root, mk string) {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	return root, string(b)
}

// functionBuild reads the -tags of a Makefile expression (a variable or a
// recipe) and lists the packages of ./cmd/scanner built with them for
// linux/arm64.
func functionBuild(t *testing.T, root, mk, expr string) (tags string, deps []string) {
	t.Helper()
	m := regexp.MustCompile(`-tags (\S+)`).FindStringSubmatch(expandMakeVars(mk, expr))
	if m == nil {
		t.Fatalf("Makefile: %.60s has no -tags", expr)
	}
	return m[1], lambdaDeps(t, root, m[1])
}

// checkBanned fails for each banned package among deps.
func checkBanned(t *testing.T, build string, deps, banned []string) {
	t.Helper()
	for _, b := range banned {
		if slices.Contains(deps, b) {
			t.Errorf("%s links %s, which it never runs", build, b)
		}
	}
}

// lambdaDeps lists the packages of ./cmd/scanner built for linux/arm64
// with the tags, and checks it is a Lambda build.
func lambdaDeps(t *testing.T, root, tags string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-tags", tags, "./cmd/scanner")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps -tags %s: %v", tags, err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/aws/aws-lambda-go/lambda") {
		t.Fatalf("go list -deps -tags %s ./cmd/scanner: no aws-lambda-go; not a function's build?", tags)
	}
	return deps
}

// TestCommandLineLinksNoTestMachinery lists the packages of the command
// line's build (the Makefile's scanner target: no tags): the demo's
// simulated organization and local servers are in it, package testing
// and the test machinery are not.
func TestCommandLineLinksNoTestMachinery(t *testing.T) {
	root, mk := makefile(t)
	if recipe := makeRecipe(mk, "scanner"); strings.Contains(recipe, "-tags") {
		t.Fatalf("Makefile: the scanner target builds with tags (%s); this test lists the untagged build", recipe)
	}
	cmd := exec.Command("go", "list", "-deps", "./cmd/scanner")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./cmd/scanner: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/s3inv/scanner/internal/app/demo") {
		t.Fatal("go list -deps ./cmd/scanner: no internal/app/demo; not the command line's build?")
	}
	for _, d := range deps {
		if testMachinery(d) {
			t.Errorf("the command line links %s, test machinery it never runs", d)
		}
	}
}

// testMachinery reports whether pkg is package testing, one of its
// sub-packages, or the project's test machinery.
func testMachinery(pkg string) bool {
	for _, root := range []string{"testing", "github.com/s3inv/scanner/internal/testenv", "github.com/s3inv/scanner/report/sinktest"} {
		if pkg == root || strings.HasPrefix(pkg, root+"/") {
			return true
		}
	}
	return false
}

// TestWidgetBuildLinksOnlyWhatItRuns lists the packages of the
// custom-widget function's build (the Makefile's build-DashboardFunction
// tags): it links the views and the table's store, and none of the
// scanner (scan, the pipeline, the member-role connector), the command
// line, the demo or the simulated organization.
func TestWidgetBuildLinksOnlyWhatItRuns(t *testing.T) {
	root, mk := makefile(t)
	tags, deps := functionBuild(t, root, mk, makeRecipe(mk, "build-DashboardFunction"))
	for _, want := range []string{"github.com/s3inv/scanner/internal/app/webui", "github.com/s3inv/scanner/report/dynamo"} {
		if !slices.Contains(deps, want) {
			t.Errorf("the widget build (-tags %s) does not link %s; not the widget?", tags, want)
		}
	}
	checkBanned(t, "the widget build (-tags "+tags+")", deps, slices.Concat(neverInAFunction, []string{
		"github.com/s3inv/scanner/scan",
		"github.com/s3inv/scanner/internal/app/pipeline",
		"github.com/s3inv/scanner/internal/app/config",
		"github.com/s3inv/scanner/report/events",
		"github.com/aws/aws-sdk-go-v2/service/s3",
		"github.com/aws/aws-sdk-go-v2/service/organizations",
	}))
}

// TestMakeHelpIsPlainOffATerminal: `make help` piped (not a terminal)
// prints every target without colour escapes.
func TestMakeHelpIsPlainOffATerminal(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make help: %v", err)
	}
	if strings.Contains(string(out), "\x1b") {
		t.Errorf("make help prints escape codes to a pipe:\n%q", out)
	}
	for _, target := range []string{"build", "test", "demo", "bench", "scanner", "lint"} {
		if !regexp.MustCompile(`(?m)^  ` + target + ` `).Match(out) {
			t.Errorf("make help does not list %s:\n%s", target, out)
		}
	}
}

// TestLintBuildsEveryBuild: `make lint` builds, vets and staticchecks
// ./cmd/scanner with each tag set of BUILD_TAG_SETS, and every tag set a
// `go build` of the Makefile uses (none for the command line) is among
// them.
func TestLintBuildsEveryBuild(t *testing.T) {
	_, mk := makefile(t)
	sets := map[string]bool{}
	for _, s := range strings.Fields(expandMakeVars(mk, "$(BUILD_TAG_SETS)")) {
		sets[strings.Trim(s, "'")] = true
	}
	lint := makeRecipe(mk, "lint")
	if n := strings.Count(lint, "for tags in $(BUILD_TAG_SETS)"); n != 2 {
		t.Errorf("Makefile: the lint recipe loops over BUILD_TAG_SETS %d times; want 2 (build and vet, staticcheck's matrix):\n%s", n, lint)
	}
	for _, want := range []string{`$(GO) build -tags "$$tags"`, `$(GO) vet -tags "$$tags"`, "$(STATICCHECK) -matrix"} {
		if !strings.Contains(lint, want) {
			t.Errorf("Makefile: the lint recipe does not run %s:\n%s", want, lint)
		}
	}
	builds := 0
	for l := range strings.Lines(mk) {
		if !strings.Contains(l, "$(GO) build") || strings.Contains(l, "$$tags") {
			continue
		}
		builds++
		tags := ""
		if m := regexp.MustCompile(`(?:^|\s)-tags (\S+)`).FindStringSubmatch(expandMakeVars(mk, l)); m != nil {
			tags = m[1]
		}
		if !sets[tags] {
			t.Errorf("Makefile: %s builds with -tags %q, which BUILD_TAG_SETS (what make lint builds and vets) leaves out", strings.TrimSpace(l), tags)
		}
	}
	if builds < 4 {
		t.Errorf("Makefile: %d go build lines; want the command line's, make build's and the two SAM targets'", builds)
	}
}

// TestWidgetTagWithoutLambdaStopsTheBuild: the tag widget alone names no
// build; `go build` fails with one error, the name that says which tags
// to use.
func TestWidgetTagWithoutLambdaStopsTheBuild(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-tags", "widget", "-o", os.DevNull, "./cmd/scanner")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("go build -tags widget ./cmd/scanner succeeded; want it stopped: the tag widget needs the tag lambda")
	}
	const want = "undefined: widget_tag_needs_lambda_tag__build_with_tags_lambda_lambda_norpc_widget"
	if n := strings.Count(string(out), "undefined:"); !strings.Contains(string(out), want) || n != 1 {
		t.Errorf("go build -tags widget: %d errors; want the one %q:\n%s", n, want, out)
	}
}
