package pipeline

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestInflightWaitWhileAdding: waiting while other goroutines keep adding and finishing work (a file
// input's Wait while connections publish) neither panics, as sync.WaitGroup may, nor misses the moment
// the count is zero; a wait with work outstanding ends with its context.
func TestInflightWaitWhileAdding(t *testing.T) {
	var c inflight
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c.add()
				c.done()
			}
		}()
	}
	deadline := time.Now().Add(300 * time.Millisecond)
	waits := 0
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		if err := c.wait(ctx); err != nil {
			t.Fatalf("wait %d: %v (the count keeps returning to zero)", waits, err)
		}
		cancel()
		waits++
	}
	close(stop)
	workers.Wait()

	c.add()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := c.wait(ctx); err == nil {
		t.Fatal("wait returned with one piece of work outstanding")
	}
	done := make(chan error, 1)
	go func() { done <- c.wait(t.Context()) }()
	time.Sleep(5 * time.Millisecond)
	c.done()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	t.Logf("%d waits while 4 goroutines added and finished work", waits)
}
