package cli

import (
	"log/slog"
	"sync"
	"testing"
)

// testWriter sends log lines to t.Log while the test runs, and drops them after: goroutines that outlive
// a test must not make it panic.
type testWriter struct {
	mu   *sync.Mutex
	done *bool
	t    *testing.T
}

func (w testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !*w.done {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	w := testWriter{mu: &sync.Mutex{}, done: new(bool), t: t}
	t.Cleanup(func() { w.mu.Lock(); *w.done = true; w.mu.Unlock() })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
