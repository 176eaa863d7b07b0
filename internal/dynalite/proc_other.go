//go:build unix && !linux

package dynalite

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
