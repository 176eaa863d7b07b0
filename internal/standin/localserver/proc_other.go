//go:build unix && !linux

package localserver

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
