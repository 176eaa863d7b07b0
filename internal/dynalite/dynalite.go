package dynalite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvScript names the environment variable that overrides where dynalite's
// cli.js is.
const EnvScript = "SCANNER_DYNALITE_JS"

// startTimeout bounds how long Start waits for the server to listen.
const startTimeout = 15 * time.Second

// Server is a running dynalite process.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	done     chan struct{} // closed when the process has exited
	waitErr  error

	closeOnce sync.Once
	closeErr  error
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
	// The port is chosen here and handed to dynalite, so another process
	// may take it in between: retry a few times with a new port.
	var errs []error
	for range 3 {
		s, err := start(ctx, node, script)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func start(ctx context.Context, node, script string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	cmd := exec.Command(node, script,
		"--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start dynalite: %w", err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dynalite %s: %w", script, err)
	}
	s := &Server{cmd: cmd, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{})}

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
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-s.done:
		return nil, fmt.Errorf("start dynalite on port %d: exited (%v): %s", port, s.waitErr, stderr.firstLine())
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
		case <-s.done:
		}
	}()
	return s, nil
}

// Endpoint is the server's URL, such as http://127.0.0.1:43121.
func (s *Server) Endpoint() string { return s.endpoint }

// Close kills the server's process group and waits for the process to
// exit. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		select {
		case <-s.done:
			return // already exited
		default:
		}
		if err := killGroup(s.cmd.Process.Pid); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.closeErr = fmt.Errorf("stop dynalite (pid %d): %w", s.cmd.Process.Pid, err)
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("stop dynalite (pid %d): still running after 5s", s.cmd.Process.Pid))
		}
	})
	return s.closeErr
}

// freePort returns a TCP port on the loopback interface that was free a
// moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer keeps the first few KB of the server's stderr for errors.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(len(p), room)]...)
	}
	return len(p), nil
}

func (b *lockedBuffer) firstLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(string(b.buf))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "no output"
	}
	return s
}
