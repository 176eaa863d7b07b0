//go:build linux

package localserver

import "syscall"

// setDeathSignal asks Linux to kill the server when the process that
// started it dies without calling Close (a test binary killed by a
// timeout), so that no server is left behind.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
