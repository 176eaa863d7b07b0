package docblock

import "testing"

func TestReplace(t *testing.T) {
	doc := "# Title\n<!-- BEGIN X -->\nold\n<!-- END X -->\ntail\n"
	got, err := Replace([]byte(doc), "X", "new 1\nnew 2")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n<!-- BEGIN X -->\nnew 1\nnew 2\n<!-- END X -->\ntail\n"; string(got) != want {
		t.Errorf("Replace = %q, want %q", got, want)
	}
	for _, bad := range []string{"no markers", "<!-- END X -->\n<!-- BEGIN X -->\n"} {
		if _, err := Replace([]byte(bad), "X", "b"); err == nil {
			t.Errorf("Replace(%q) succeeded; want an error", bad)
		}
	}
}

func TestExtract(t *testing.T) {
	doc := []byte("a\n<!-- BEGIN Y -->\nbody\n<!-- END Y -->\n")
	if got, err := Extract(doc, "Y"); err != nil || got != "body\n" {
		t.Errorf("Extract = %q, %v; want %q", got, err, "body\n")
	}
	if _, err := Extract(doc, "Z"); err == nil {
		t.Error("Extract of a missing block succeeded")
	}
}
