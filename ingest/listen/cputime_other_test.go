//go:build !unix

package listen_test

import "time"

func processCPU() (time.Duration, bool) { return 0, false }
