package deploy

import (
	"debug/elf"
	"os/exec"
	"path/filepath"
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
}
