//go:build !unix

package clickhouse

import "syscall"

func newSysProcAttr() *syscall.SysProcAttr { return nil }
