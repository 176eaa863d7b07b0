package dynamo

import (
	"os"
	"strings"
	"testing"

	"github.com/s3inv/scanner/internal/testenv/docblock"
)

// TestREADMETableDesign keeps the README's copies of the access patterns
// and of the AWS CLI query in step with docs/dynamodb.md, and the document
// in step with the code's index names.
func TestREADMETableDesign(t *testing.T) {
	doc, err := os.ReadFile("../../docs/dynamodb.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"TABLE", "QUERY"} {
		body, err := docblock.Extract(doc, name)
		if err != nil {
			t.Fatalf("docs/dynamodb.md: %v", err)
		}
		docblock.Check(t, "../../README.md", name, body)
	}
	def := TableDefinition("findings")
	for _, gsi := range def.GlobalSecondaryIndexes {
		if !strings.Contains(string(doc), "`"+*gsi.IndexName+"`") {
			t.Errorf("docs/dynamodb.md does not describe index %s", *gsi.IndexName)
		}
	}
}
