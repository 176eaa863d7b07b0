package localserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Process is a running server process.
type Process struct {
	name   string
	cmd    *exec.Cmd
	stderr lockedBuffer
	done   chan struct{} // closed when the process has exited
	// waitErr is set before done is closed.
	waitErr error

	closeOnce sync.Once
	closeErr  error
}

// Start starts cmd in its own process group, keeping what it writes to
// stderr (and to stdout, unless the caller has set cmd.Stdout or asked for
// a pipe) for Exited. name says what the server is, in errors.
func Start(name string, cmd *exec.Cmd) (*Process, error) {
	p := &Process{name: name, cmd: cmd, done: make(chan struct{})}
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stderr = &p.stderr
	if cmd.Stdout == nil {
		cmd.Stdout = &p.stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w", name, cmd.Path, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's ID, which is also its process group's.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited says why the process ended, once Done is closed: its exit status
// and the first line it wrote.
func (p *Process) Exited() error {
	return fmt.Errorf("%s exited (%v): %s", p.name, p.waitErr, p.stderr.firstLine())
}

// Close kills the process group and waits for the process to exit. It is
// safe to call more than once.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		select {
		case <-p.done:
			return // already exited
		default:
		}
		pid := p.cmd.Process.Pid
		if err := killGroup(pid); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.closeErr = fmt.Errorf("stop %s (pid %d): %w", p.name, pid, err)
		}
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.closeErr = errors.Join(p.closeErr, fmt.Errorf("stop %s (pid %d): still running after 5s", p.name, pid))
		}
	})
	return p.closeErr
}

// WithFreePort calls start with a free loopback port, and again with a new
// one (three times at most) when it fails: the port is chosen before the
// server listens on it, so another process may take it in between. The
// errors of every attempt are joined.
func WithFreePort[S any](ctx context.Context, start func(port int) (S, error)) (S, error) {
	var errs []error
	for range 3 {
		port, err := FreePort()
		if err != nil {
			errs = append(errs, err)
			break
		}
		s, err := start(port)
		if err == nil {
			return s, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	var zero S
	return zero, errors.Join(errs...)
}

// FreePort returns a TCP port on the loopback interface that was free a
// moment ago. Another process may take it before the server does:
// callers retry with a new port when the server cannot listen.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer keeps the first few KB of a server's output for errors.
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
