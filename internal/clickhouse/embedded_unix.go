//go:build unix && !linux

package clickhouse

import "syscall"

// newSysProcAttr puts the child in its own process group, so a terminal's Ctrl-C reaches only the parent.
func newSysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
