package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/testenv/docblock"
)

// TestREADMEConfiguration keeps the README's table of environment
// variables generated from Env.
func TestREADMEConfiguration(t *testing.T) {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, e := range Env {
		def := "—"
		if e.Default != "" {
			def = "`" + e.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", e.Name, def, e.Doc)
	}
	docblock.Check(t, "../../../README.md", "CONFIG", b.String())
}
