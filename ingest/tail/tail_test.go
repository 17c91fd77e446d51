package tail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type collector struct {
	mu    sync.Mutex
	lines []Line
	fail  bool
}

func (c *collector) handle(_ context.Context, ls []Line) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("store refused")
	}
	c.lines = append(c.lines, ls...)
	return nil
}

func (c *collector) texts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.lines))
	for i, l := range c.lines {
		out[i] = l.Text
	}
	return out
}

func (c *collector) waitFor(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got := c.texts(); len(got) >= n {
			return got
		}
	}
	t.Fatalf("got %d lines, want %d: %q", len(c.texts()), n, c.texts())
	return nil
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l); err != nil {
			t.Fatal(err)
		}
	}
}

type run struct {
	cancel context.CancelFunc
	done   chan error
}

func follow(t *testing.T, path string, st *State, c *collector) *run {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{cancel: cancel, done: make(chan error, 1)}
	fl := New(Options{Name: "squid", Path: path, State: st, Handler: c.handle, Poll: 10 * time.Millisecond, MaxBatch: 3, MaxLine: 40,
		RotateWait: time.Second})
	go func() { r.done <- fl.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *run) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.done
		r.cancel = nil
	}
}

func lines(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d\n", prefix, i)
	}
	return out
}

func trimmed(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = strings.TrimSuffix(l, "\n")
	}
	return out
}

func TestFollowsRotationTruncationAndRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	st, err := OpenState(filepath.Join(dir, "state", "files.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	var want []string

	appendLines(t, path, lines("a", 5)...)
	want = append(want, trimmed(lines("a", 5))...)
	r := follow(t, path, st, c)
	c.waitFor(t, len(want))

	// A partial line waits for its end.
	appendLines(t, path, "partial")
	time.Sleep(50 * time.Millisecond)
	if got := c.texts(); len(got) != len(want) {
		t.Fatalf("a partial line was handled: %q", got[len(got)-1])
	}
	appendLines(t, path, "-done\n")
	want = append(want, "partial-done")
	c.waitFor(t, len(want))

	// logrotate's create: lines written to the old file after the rename are still read, before the
	// new file's.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendLines(t, path, lines("b", 4)...)
	// The follower has seen the new file by now; the writer still has the old one open for a while.
	time.Sleep(100 * time.Millisecond)
	appendLines(t, path+".1", lines("late", 2)...)
	want = append(want, trimmed(lines("late", 2))...)
	want = append(want, trimmed(lines("b", 4))...)
	c.waitFor(t, len(want))

	// Stopped: lines written meanwhile are read once after the restart, none twice.
	r.stop()
	appendLines(t, path, lines("down", 4)...)
	want = append(want, trimmed(lines("down", 4))...)
	st2, err := OpenState(filepath.Join(dir, "state", "files.json"))
	if err != nil {
		t.Fatal(err)
	}
	r = follow(t, path, st2, c)
	c.waitFor(t, len(want))

	// copytruncate: the file starts again from the top.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	appendLines(t, path, lines("c", 2)...)
	want = append(want, trimmed(lines("c", 2))...)
	got := c.waitFor(t, len(want))
	time.Sleep(100 * time.Millisecond)
	got = c.texts()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("lines\n got %q\nwant %q", got, want)
	}
	r.stop()
}

func TestRefusedBatchIsReadAgain(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	st, _ := OpenState(filepath.Join(dir, "files.json"))
	c := &collector{fail: true}
	appendLines(t, path, lines("x", 4)...)
	follow(t, path, st, c)
	time.Sleep(100 * time.Millisecond)
	c.mu.Lock()
	c.fail = false
	c.mu.Unlock()
	got := c.waitFor(t, 4)
	if strings.Join(got, ",") != "x-0,x-1,x-2,x-3" {
		t.Fatalf("got %q", got)
	}
}

func TestLongLinesAreCutAndIDsAreStable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	st, _ := OpenState(filepath.Join(dir, "files.json"))
	appendLines(t, path, strings.Repeat("L", 300_000)+"\n", "short\n")
	c := &collector{}
	follow(t, path, st, c)
	c.waitFor(t, 2)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lines[0].Text) != 40 || c.lines[1].Text != "short" || c.lines[1].Offset != 300_001 {
		t.Fatalf("lines %d bytes, %q at %d", len(c.lines[0].Text), c.lines[1].Text, c.lines[1].Offset)
	}
	if c.lines[0].ID == c.lines[1].ID || len(c.lines[0].ID) != 32 {
		t.Fatalf("ids %q %q", c.lines[0].ID, c.lines[1].ID)
	}
}
