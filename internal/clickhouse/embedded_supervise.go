package clickhouse

import (
	"context"
	"time"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
	// stableRun is how long a child must have run for the backoff to start over.
	stableRun = time.Minute
)

// supervise waits for each child to exit and, unless stopping, restarts it when RestartOnExit.
func (e *Embedded) supervise(c *child) {
	defer close(e.doneCh)
	backoff := minBackoff
	for {
		<-c.done
		e.mu.Lock()
		e.cur = nil
		stopping := e.stopping
		e.mu.Unlock()
		if stopping {
			e.logger.Debug("embedded ClickHouse exited on Stop", "pid", c.pid, "status", c.err)
			return
		}
		e.logger.Warn("embedded ClickHouse exited unexpectedly", "pid", c.pid, "status", c.err,
			"ran", time.Since(c.started).Round(time.Millisecond), "log", e.logPath)
		if !e.opts.RestartOnExit {
			e.mu.Lock()
			e.lastErr = e.childError("embedded server exited", c, c.err)
			e.mu.Unlock()
			return
		}
		if time.Since(c.started) > stableRun {
			backoff = minBackoff
		}
		next, ok := e.restart(&backoff)
		if !ok {
			return
		}
		c = next
	}
}

// restart starts a new child, waiting backoff before each attempt and doubling it after a
// failure. It gives up only when Stop is called.
func (e *Embedded) restart(backoff *time.Duration) (*child, bool) {
	for {
		select {
		case <-e.stopCh:
			return nil, false
		case <-time.After(*backoff):
		}
		*backoff = min(*backoff*2, maxBackoff)
		c, err := e.startChildStoppable()
		if err != nil {
			e.logger.Error("embedded ClickHouse restart failed", "err", err, "next_try_in", *backoff)
			continue
		}
		e.mu.Lock()
		if e.stopping { // Stop came while the child was starting: it has no one else to end it.
			e.mu.Unlock()
			_ = c.terminate(context.Background(), e.opts.StopTimeout)
			return nil, false
		}
		e.cur = c
		e.restarts++
		n := e.restarts
		e.mu.Unlock()
		e.logger.Warn("embedded ClickHouse restarted", "pid", c.pid, "restarts", n)
		return c, true
	}
}

// startChildStoppable is startChild whose readiness wait ends when Stop is called.
func (e *Embedded) startChildStoppable() (*child, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-e.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	return e.startChild(ctx)
}
