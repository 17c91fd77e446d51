package clickhouse

import "syscall"

// childSysProcAttr puts the child in its own process group, so a terminal's Ctrl-C reaches
// only the parent (which then stops the child in order), and has the kernel send SIGTERM to
// the child when the parent dies.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
