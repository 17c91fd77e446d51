//go:build unix

package listen_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the whole test process has used (getrusage RUSAGE_SELF): listener,
// workers, publisher and the embedded NATS server alike, so that a benchmark on a machine shared with
// other work can report what a line costs apart from the time it waited for a CPU.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
