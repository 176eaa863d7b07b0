package localserver

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// EnvMotoServer names the environment variable that overrides which
// moto_server executable runs.
const EnvMotoServer = "SCANNER_MOTO_SERVER"

// motoTimeout bounds how long StartMoto waits for the server to answer.
const motoTimeout = 30 * time.Second

// StartMoto starts moto_server on a free loopback port and returns once it
// answers HTTP. The server runs until Close (or until ctx is cancelled,
// which kills it).
func StartMoto(ctx context.Context) (*Server, error) {
	bin := os.Getenv(EnvMotoServer)
	if bin == "" {
		bin = "moto_server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	return WithFreePort(ctx, func(port int) (*Server, error) { return startMoto(ctx, path, port) })
}

func startMoto(ctx context.Context, path string, port int) (*Server, error) {
	proc, err := Start("moto_server", exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	s := &Server{Process: proc, endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start moto_server on port %d: %w", port, err)
	}
	s.closeWith(ctx)
	return s, nil
}

// waitReady polls the server's own API until it answers.
func (s *Server) waitReady(ctx context.Context) error {
	deadline := time.NewTimer(motoTimeout)
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
			return fmt.Errorf("not answering after %s", motoTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
