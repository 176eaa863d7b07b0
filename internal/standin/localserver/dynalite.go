package localserver

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
)

// EnvDynaliteScript names the environment variable that overrides where
// dynalite's cli.js is.
const EnvDynaliteScript = "SCANNER_DYNALITE_JS"

// dynaliteTimeout bounds how long StartDynalite waits for the server to
// listen.
const dynaliteTimeout = 15 * time.Second

// DynaliteScript returns the path of dynalite's cli.js: $SCANNER_DYNALITE_JS when
// set, otherwise node_modules/dynalite/cli.js in the working directory or
// one of its parents, up to the module root (the first directory with a
// go.mod).
func DynaliteScript() (string, error) {
	if p := os.Getenv(EnvDynaliteScript); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%q: %w", EnvDynaliteScript, p, err)
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
			return "", fmt.Errorf("find dynalite: no node_modules/dynalite/cli.js up to the module root %s; run `make deps` (npm ci) or set %s", dir, EnvDynaliteScript)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find dynalite: no node_modules/dynalite/cli.js above the working directory; run `make deps` (npm ci) or set %s", EnvDynaliteScript)
		}
		dir = parent
	}
}

// StartDynalite starts dynalite in memory on a free loopback port and returns once
// it accepts connections. Tables created on it are ACTIVE at once. The
// server runs until Close (or until ctx is cancelled, which kills it).
func StartDynalite(ctx context.Context) (*Server, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("start dynalite: node not found on PATH: %w", err)
	}
	script, err := DynaliteScript()
	if err != nil {
		return nil, err
	}
	return WithFreePort(ctx, func(port int) (*Server, error) { return startDynalite(ctx, node, script, port) })
}

func startDynalite(ctx context.Context, node, script string, port int) (*Server, error) {
	cmd := exec.Command(node, script,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	proc, err := Start("dynalite", cmd)
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

	timer := time.NewTimer(dynaliteTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-s.Done():
		return nil, fmt.Errorf("start dynalite on port %d: %w", port, s.Exited())
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("start dynalite on port %d: not listening after %s", port, dynaliteTimeout)
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
	s.closeWith(ctx)
	return s, nil
}
