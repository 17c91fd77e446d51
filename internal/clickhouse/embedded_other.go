//go:build !linux && unix

package clickhouse

import "syscall"

// childSysProcAttr puts the child in its own process group; without Pdeathsig, the child's
// watchParent notices a dead parent.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
