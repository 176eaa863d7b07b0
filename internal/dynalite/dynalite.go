package dynalite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/s3inv/scanner/internal/localserver"
)

// EnvScript names the environment variable that overrides where dynalite's
// cli.js is.
const EnvScript = "SCANNER_DYNALITE_JS"

// startTimeout bounds how long Start waits for the server to listen.
const startTimeout = 15 * time.Second

// Server is a running dynalite process; Close stops it.
type Server struct {
	*localserver.Process
	endpoint string
}

// Script returns the path of dynalite's cli.js: $SCANNER_DYNALITE_JS when
// set, otherwise node_modules/dynalite/cli.js in the working directory or
// one of its parents, up to the module root (the first directory with a
// go.mod).
func Script() (string, error) {
	if p := os.Getenv(EnvScript); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvScript, p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find dynalite: %w", err)
	}
	for {
		p := filepath.Join(dir, "node_modules", "dynalite", "cli.js")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return "", fmt.Errorf("find dynalite: no node_modules/dynalite/cli.js up to the module root %s; run `make deps` (npm ci) or set %s", dir, EnvScript)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find dynalite: no node_modules/dynalite/cli.js above the working directory; run `make deps` (npm ci) or set %s", EnvScript)
		}
		dir = parent
	}
}

// Start starts dynalite in memory on a free loopback port and returns once
// it accepts connections. Tables created on it are ACTIVE at once. The
// server runs until Close (or until ctx is cancelled, which kills it).
func Start(ctx context.Context) (*Server, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("start dynalite: node not found on PATH: %w", err)
	}
	script, err := Script()
	if err != nil {
		return nil, err
	}
	return localserver.WithFreePort(ctx, func(port int) (*Server, error) { return start(ctx, node, script, port) })
}

func start(ctx context.Context, node, script string, port int) (*Server, error) {
	cmd := exec.Command(node, script,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	proc, err := localserver.Start("dynalite", cmd)
	if err != nil {
		return nil, err
	}
	s := &Server{Process: proc, endpoint: "http://127.0.0.1:" + strconv.Itoa(port)}

	ready := make(chan struct{})
	go func() {
		// dynalite prints one line once it listens; keep draining so
		// that it never blocks on a full pipe.
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "listening") {
				close(ready)
				signalled = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-s.Done():
		return nil, fmt.Errorf("start dynalite on port %d: %w", port, s.Exited())
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("start dynalite on port %d: not listening after %s", port, startTimeout)
	case <-ctx.Done():
		s.Close()
		return nil, fmt.Errorf("start dynalite: %w", ctx.Err())
	}
	// The line is printed from the listen callback; check the socket too.
	conn, err := net.DialTimeout("tcp", s.endpoint[len("http://"):], 2*time.Second)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	conn.Close()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.Done():
		}
	}()
	return s, nil
}

// Endpoint is the server's URL, such as http://127.0.0.1:43121.
func (s *Server) Endpoint() string { return s.endpoint }
