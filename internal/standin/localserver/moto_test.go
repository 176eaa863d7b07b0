package localserver_test

import (
	"context"
	"net/http"
	"os"
	"testing"

	"github.com/s3inv/scanner/internal/standin/localserver"
)

func TestMotoAnswersAndCloseStops(t *testing.T) {
	s, err := localserver.StartMoto(context.Background())
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skipf("moto_server unavailable (set CI to make this a failure): %v", err)
		}
		t.Fatalf("moto_server unavailable and CI is set: %v", err)
	}
	resp, err := http.Get(s.Endpoint() + "/moto-api/")
	if err != nil {
		t.Fatalf("GET %s/moto-api/: %v", s.Endpoint(), err)
	}
	resp.Body.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(s.Endpoint() + "/moto-api/"); err == nil {
		t.Errorf("%s still answers after Close", s.Endpoint())
	}
}

func TestMotoMissingServerIsAnError(t *testing.T) {
	t.Setenv(localserver.EnvMotoServer, "/nonexistent/moto_server")
	if s, err := localserver.StartMoto(context.Background()); err == nil {
		s.Close()
		t.Fatal("Start with a missing executable: no error")
	}
}
