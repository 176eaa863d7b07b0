package moto

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/s3inv/scanner/internal/localserver"
)

// EnvServer names the environment variable that overrides which
// moto_server executable runs.
const EnvServer = "SCANNER_MOTO_SERVER"

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 30 * time.Second

// Server is a running moto_server process; Close stops it.
type Server struct {
	*localserver.Process
	endpoint string
}

// Start starts moto_server on a free loopback port and returns once it
// answers HTTP. The server runs until Close (or until ctx is cancelled,
// which kills it).
func Start(ctx context.Context) (*Server, error) {
	bin := os.Getenv(EnvServer)
	if bin == "" {
		bin = "moto_server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	return localserver.WithFreePort(ctx, func(port int) (*Server, error) { return start(ctx, path, port) })
}

func start(ctx context.Context, path string, port int) (*Server, error) {
	proc, err := localserver.Start("moto_server", exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	s := &Server{Process: proc, endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start moto_server on port %d: %w", port, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.Done():
		}
	}()
	return s, nil
}

// waitReady polls the server's own API until it answers.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/moto-api/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.Done():
			return s.Exited()
		case <-deadline.C:
			return fmt.Errorf("not answering after %s", startTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Endpoint is the server's URL, such as http://127.0.0.1:43121.
func (s *Server) Endpoint() string { return s.endpoint }
