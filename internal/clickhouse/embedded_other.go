//go:build !linux

package clickhouse

import "syscall"

// childSysProcAttr: without Pdeathsig, the child's watchParent notices a dead parent. (libchdb
// exists for Linux and macOS; elsewhere this only keeps the package building for remote servers.)
func childSysProcAttr() *syscall.SysProcAttr {
	return newSysProcAttr()
}
