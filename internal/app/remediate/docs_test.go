package remediate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/s3inv/scanner/internal/app/remediate"
	"github.com/s3inv/scanner/internal/testenv/docblock"
)

// TestDocs keeps the default policy shown in docs/remediation.md in step
// with SCP (go test -update rewrites it).
func TestDocs(t *testing.T) {
	doc, err := remediate.SCP(remediate.SCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("The default policy (`scanner scp`: %d of %d bytes as printed), indented here for reading:\n\n```json\n%s\n```\n",
		len(doc), remediate.MaxSCPSize, indented.String())
	docblock.Check(t, "../../../docs/remediation.md", "SCP", body)
}
