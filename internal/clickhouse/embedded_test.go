package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startOwn starts a server of the test's own (for tests that kill or stop it).
func startOwn(t *testing.T, opts clickhouse.EmbeddedOptions) *clickhouse.Embedded {
	t.Helper()
	chtest.RequireLib(t)
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	t0 := time.Now()
	srv, err := clickhouse.StartEmbedded(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("started in %s, pid %d, RSS %s", time.Since(t0).Round(time.Millisecond), srv.PID(), rss(srv.PID()))
	t.Cleanup(func() {
		if err := srv.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return srv
}

// rss reads the resident set size of pid from /proc, for the log.
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func TestEmbeddedAnswers(t *testing.T) {
	srv := chtest.Server(t)
	v, err := srv.Version(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "26.") {
		t.Errorf("Version() = %q, want 26.x", v)
	}
	conn, _ := chtest.NewDatabase(t)
	var got string
	if err := conn.QueryRow(t.Context(), "SELECT version()").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != v {
		t.Errorf("SELECT version() over native = %q, HTTP said %q", got, v)
	}
	t.Logf("version %s, pid %d, RSS %s", v, srv.PID(), rss(srv.PID()))
}

func TestEmbeddedRestartKeepsData(t *testing.T) {
	srv := startOwn(t, clickhouse.EmbeddedOptions{RestartOnExit: true})
	ctx := t.Context()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnOptions{Addr: []string{srv.NativeAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		"CREATE DATABASE d",
		"CREATE TABLE d.t (n UInt64) ENGINE = MergeTree ORDER BY n",
		"INSERT INTO d.t SELECT number FROM numbers(1000)",
	} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	oldPID := srv.PID()
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a restart", func() bool { return srv.Restarts() == 1 })
	if err := srv.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	if srv.PID() == oldPID || srv.PID() == 0 {
		t.Errorf("PID after restart = %d, before %d", srv.PID(), oldPID)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM d.t").Scan(&n); err != nil {
		t.Fatalf("query through the old pool after the restart: %v", err)
	}
	if n != 1000 {
		t.Errorf("rows after restart = %d, want 1000", n)
	}
}

func TestEmbeddedStopClosesPorts(t *testing.T) {
	srv := startOwn(t, clickhouse.EmbeddedOptions{RestartOnExit: true})
	pid := srv.PID()
	t0 := time.Now()
	if err := srv.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped in %s", time.Since(t0).Round(time.Millisecond))
	for _, addr := range []string{srv.NativeAddr(), srv.HTTPAddr()} {
		// Connecting and closing without sending anything is harmless even when it listens.
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Stop", addr)
		}
	}
	if srv.PID() != 0 || srv.Restarts() != 0 {
		t.Errorf("after Stop: PID %d, Restarts %d; want 0, 0", srv.PID(), srv.Restarts())
	}
	if alive(pid) {
		t.Errorf("child %d still exists after Stop", pid)
	}
}

func TestEmbeddedStopIsGraceful(t *testing.T) {
	dir := t.TempDir()
	srv := startOwn(t, clickhouse.EmbeddedOptions{DataDir: dir})
	ctx := t.Context()
	conn, err := clickhouse.Open(ctx, clickhouse.ConnOptions{Addr: []string{srv.NativeAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE DATABASE d", "CREATE TABLE d.t (n UInt64) ENGINE = MergeTree ORDER BY n"} {
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// An insert that takes about 2s is under way when Stop is called: it must complete.
	inserted := make(chan error, 1)
	go func() {
		inserted <- conn.Exec(ctx, "INSERT INTO d.t SELECT number FROM numbers(8) WHERE sleepEachRow(0.25) = 0 SETTINGS max_block_size = 1")
	}()
	time.Sleep(500 * time.Millisecond)
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-inserted; err != nil {
		t.Fatalf("insert in flight during Stop: %v", err)
	}
	conn.Close()

	again := startOwn(t, clickhouse.EmbeddedOptions{DataDir: dir})
	conn, err = clickhouse.Open(ctx, clickhouse.ConnOptions{Addr: []string{again.NativeAddr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM d.t").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 8 {
		t.Errorf("rows after Stop and a new start on the same data dir = %d, want 8", n)
	}
}

func TestEmbeddedWithoutRestart(t *testing.T) {
	srv := startOwn(t, clickhouse.EmbeddedOptions{})
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the exit to be recorded", func() bool { return srv.Err() != nil })
	if srv.PID() != 0 || srv.Restarts() != 0 {
		t.Errorf("PID %d, Restarts %d after an exit without RestartOnExit; want 0, 0", srv.PID(), srv.Restarts())
	}
	t.Logf("Err() = %v", srv.Err())
}

func TestEmbeddedSameDataDir(t *testing.T) {
	first := startOwn(t, clickhouse.EmbeddedOptions{})
	_, err := clickhouse.StartEmbedded(t.Context(), clickhouse.EmbeddedOptions{DataDir: first.DataDir(), Logger: testLogger(t)})
	if !errors.Is(err, clickhouse.ErrDataDirInUse) {
		t.Fatalf("second server on %s: err = %v, want ErrDataDirInUse", first.DataDir(), err)
	}
	if !strings.Contains(err.Error(), "Cannot lock file") {
		t.Errorf("error does not quote the server log: %v", err)
	}
	if _, err := first.Version(t.Context()); err != nil {
		t.Errorf("first server hurt by the second one's attempt: %v", err)
	}
}

func TestEmbeddedBadLibrary(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.so")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, lib := range map[string]string{
		"missing":   filepath.Join(dir, "nope", "libchdb.so"),
		"empty":     empty,
		"directory": dir,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := clickhouse.StartEmbedded(t.Context(), clickhouse.EmbeddedOptions{LibPath: lib, DataDir: t.TempDir()})
			if !errors.Is(err, clickhouse.ErrLibraryMissing) {
				t.Fatalf("err = %v, want ErrLibraryMissing", err)
			}
			for _, want := range []string{lib, "./deploy/setup.sh", clickhouse.LibEnv} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

func TestEmbeddedCorruptLibrary(t *testing.T) {
	chtest.RequireLib(t) // the child is this test binary, which needs nothing else
	lib := filepath.Join(t.TempDir(), "libchdb.so")
	if err := os.WriteFile(lib, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := clickhouse.StartEmbedded(t.Context(), clickhouse.EmbeddedOptions{LibPath: lib, DataDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "load "+lib) || !strings.Contains(err.Error(), "./deploy/setup.sh") {
		t.Fatalf("err = %v, want one quoting the failed load and naming ./deploy/setup.sh", err)
	}
}

func TestEmbeddedPortTaken(t *testing.T) {
	chtest.RequireLib(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = clickhouse.StartEmbedded(t.Context(), clickhouse.EmbeddedOptions{DataDir: t.TempDir(), TCPPort: port})
	if err == nil || !strings.Contains(err.Error(), "Address already in use") || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("err = %v, want one saying native port %d is in use", err, port)
	}
}

func TestEmbeddedRequiresDataDir(t *testing.T) {
	chtest.RequireLib(t)
	_, err := clickhouse.StartEmbedded(t.Context(), clickhouse.EmbeddedOptions{})
	if err == nil || !strings.Contains(err.Error(), "DataDir") {
		t.Fatalf("err = %v, want one naming DataDir", err)
	}
}

// parentEnv makes the test binary act as a parent that starts a server, prints the child's
// PID and waits to be killed.
const parentEnv = "ZONEWATCH_TEST_EMBEDDED_PARENT"

func runParentIfRequested() {
	dir, ok := os.LookupEnv(parentEnv)
	if !ok {
		return
	}
	clickhouse.RunChildIfRequested() // never: the child has a different variable
	srv, err := clickhouse.StartEmbedded(context.Background(), clickhouse.EmbeddedOptions{DataDir: dir})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(srv.PID())
	select {}
}

func TestEmbeddedChildDiesWithParent(t *testing.T) {
	chtest.RequireLib(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), parentEnv+"="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var childPID int
	if _, err := fmt.Fscan(out, &childPID); err != nil {
		cmd.Process.Kill()
		t.Fatalf("read child pid from the parent: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(t, 20*time.Second, fmt.Sprintf("child %d to exit after its parent was killed", childPID), func() bool {
		return !alive(childPID)
	})
}

// alive reports whether a process with this pid exists (signal 0 checks without sending).
func alive(pid int) bool {
	p, err := os.FindProcess(pid)
	return err == nil && p.Signal(syscall.Signal(0)) == nil
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
