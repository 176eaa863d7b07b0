package moto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvServer names the environment variable that overrides which
// moto_server executable runs.
const EnvServer = "SCANNER_MOTO_SERVER"

// startTimeout bounds how long Start waits for the server to answer.
const startTimeout = 30 * time.Second

// Server is a running moto_server process.
type Server struct {
	cmd      *exec.Cmd
	endpoint string
	done     chan struct{} // closed when the process has exited
	waitErr  error
	stderr   *lockedBuffer

	closeOnce sync.Once
	closeErr  error
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
	// The port is chosen here and handed to the server, so another
	// process may take it in between: retry a few times with a new port.
	var errs []error
	for range 3 {
		s, err := start(ctx, path)
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

func start(ctx context.Context, path string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("start moto_server: %w", err)
	}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = sysProcAttr()
	stderr := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start moto_server %s: %w", path, err)
	}
	s := &Server{cmd: cmd, endpoint: "http://127.0.0.1:" + strconv.Itoa(port), done: make(chan struct{}), stderr: stderr}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("start moto_server on port %d: %w", port, err)
	}
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.done:
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
		case <-s.done:
			return fmt.Errorf("exited (%v): %s", s.waitErr, s.stderr.firstLine())
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
			s.closeErr = fmt.Errorf("stop moto_server (pid %d): %w", s.cmd.Process.Pid, err)
		}
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.closeErr = errors.Join(s.closeErr, fmt.Errorf("stop moto_server (pid %d): still running after 5s", s.cmd.Process.Pid))
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

// lockedBuffer keeps the first few KB of the server's output for errors.
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
