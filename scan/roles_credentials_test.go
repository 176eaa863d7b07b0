package scan_test

import (
	"context"
	"testing"

	"github.com/s3inv/scanner/internal/base/inventory"
)

// TestCredentialsReuseTheScansRole: the credentials of an account the
// scan connected to are the ones its Connect assumed (no second
// AssumeRole); an account not connected yet is assumed once, then
// reused; an account whose role is missing, or cannot be assumed with
// the ExternalId, is an error.
func TestCredentialsReuseTheScansRole(t *testing.T) {
	e := newEnv(t, orgFixture())
	ctx := context.Background()
	if _, err := e.conn.Connect(ctx, inventory.Account{ID: "100000000002"}); err != nil {
		t.Fatal(err)
	}
	before := e.srv.Calls("AssumeRole")
	for range 3 {
		c, err := e.conn.Credentials(ctx, "100000000002")
		if err != nil {
			t.Fatal(err)
		}
		if v, err := c.Retrieve(ctx); err != nil || v.AccessKeyID == "" {
			t.Fatalf("credentials of 100000000002: %+v, %v", v, err)
		}
	}
	if n := e.srv.Calls("AssumeRole") - before; n != 0 {
		t.Errorf("Credentials of a connected account assumed the role %d times; want 0 (the scan's credentials)", n)
	}
	for range 2 {
		if _, err := e.conn.Credentials(ctx, "100000000003"); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.Calls("AssumeRole") - before; n != 1 {
		t.Errorf("Credentials of an account not connected, twice: %d AssumeRole calls; want 1", n)
	}
	if _, err := e.conn.Credentials(ctx, "100000000004"); err == nil {
		t.Error("Credentials of an account without the role: no error")
	}

	// The role of 100000000009 needs another ExternalId.
	if _, err := e.conn.Connect(ctx, inventory.Account{ID: "100000000009"}); err == nil {
		t.Fatal("Connect with the wrong ExternalId: no error")
	}
	if _, err := e.conn.Credentials(ctx, "100000000009"); err == nil {
		t.Error("Credentials after a failed Connect: no error")
	}
}
