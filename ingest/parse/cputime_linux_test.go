package parse

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (getrusage RUSAGE_THREAD), so that a
// benchmark on a busy machine can report its own work apart from the time it spent waiting for a CPU.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD, Linux only
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
