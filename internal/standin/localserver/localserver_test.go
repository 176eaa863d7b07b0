package localserver

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCloseKillsTheProcessGroup starts a shell that starts a child: Close
// leaves neither behind, and a second Close is harmless.
func TestCloseKillsTheProcessGroup(t *testing.T) {
	p, err := Start("sleeper", exec.Command("sh", "-c", "sleep 60 & sleep 60"))
	if err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The killed background sleep, orphaned, is reaped by init in its
	// own time: until then it counts as a member of the group. Wait for
	// the group to be gone, within Close's own bound of 5 s.
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if last = syscall.Kill(-pid, 0); errors.Is(last, syscall.ESRCH) {
			return
		}
	}
	t.Errorf("kill(-%d, 0) 5 s after Close = %v; want ESRCH (no process left in the group)", pid, last)
}

// TestExitedSaysWhy: a server that dies says so with its exit status and
// the first line it wrote.
func TestExitedSaysWhy(t *testing.T) {
	p, err := Start("broken", exec.Command("sh", "-c", "echo 'port in use' >&2; echo more >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	<-p.Done()
	msg := p.Exited().Error()
	if !strings.Contains(msg, "broken exited (exit status 3): port in use") || strings.Contains(msg, "more") {
		t.Errorf("Exited() = %q; want the name, the status and the first line only", msg)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close after exit: %v", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil || port <= 0 || port > 65535 {
		t.Errorf("FreePort() = %d, %v", port, err)
	}
}

// TestWithFreePortTriesNewPorts: a start that fails is tried again with a
// new port, three times at most, and every failure is reported.
func TestWithFreePortTriesNewPorts(t *testing.T) {
	var ports []int
	_, err := WithFreePort(context.Background(), func(port int) (int, error) {
		ports = append(ports, port)
		return 0, fmt.Errorf("attempt %d: port taken", len(ports))
	})
	if len(ports) != 3 || err == nil || !strings.Contains(err.Error(), "attempt 1") || !strings.Contains(err.Error(), "attempt 3") {
		t.Errorf("ports %v, error %v; want three attempts, all reported", ports, err)
	}
	got, err := WithFreePort(context.Background(), func(port int) (int, error) {
		if port <= 0 {
			return 0, errors.New("no port")
		}
		return port, nil
	})
	if err != nil || got <= 0 {
		t.Errorf("WithFreePort = %d, %v; want the port", got, err)
	}
}
