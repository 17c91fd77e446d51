// Package chtest runs one embedded ClickHouse per test package and hands each test its own
// database:
//
//	func TestMain(m *testing.M) { chtest.Main(m) }
//
//	func TestX(t *testing.T) {
//		conn, db := chtest.NewDatabase(t)
//		...
//	}
//
// Without libchdb.so the tests that need a server are skipped with a hint to run
// ./deploy/setup.sh, except when CI=true, where they fail.
package chtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

// env is the per-package server, set once by Main before any test runs and read-only after.
// It is package state because TestMain and the tests share nothing else.
var env struct {
	server  *clickhouse.Embedded
	admin   driver.Conn
	err     error // why there is no server
	mainRan bool
}

// Main is TestMain for packages that use this helper: it serves as the embedded ClickHouse
// child when asked to, starts one server in a temporary directory, runs the tests and stops it.
func Main(m *testing.M) {
	clickhouse.RunChildIfRequested()
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	env.mainRan = true
	if err := clickhouse.CheckLib(""); err != nil {
		env.err = err
		if InCI() {
			fmt.Fprintf(os.Stderr, "chtest: %v (CI=true: failing instead of skipping)\n", err)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "zonewatch-chtest-")
	if err != nil {
		env.err = err
		return m.Run()
	}
	defer os.RemoveAll(dir)
	stop := start(dir)
	defer stop()
	return m.Run()
}

func start(dir string) (stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	level := slog.LevelWarn
	if testing.Verbose() {
		level = slog.LevelInfo
	}
	srv, err := clickhouse.StartEmbedded(ctx, clickhouse.EmbeddedOptions{
		DataDir:       dir,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("component", "chtest"),
		RestartOnExit: true,
	})
	if err != nil {
		env.err = err
		return func() {}
	}
	admin, err := clickhouse.Open(ctx, clickhouse.ConnOptions{Addr: []string{srv.NativeAddr()}})
	if err != nil {
		env.err = err
		_ = srv.Stop(context.Background())
		return func() {}
	}
	env.server, env.admin = srv, admin
	return func() {
		_ = admin.Close()
		if err := srv.Stop(context.Background()); err != nil {
			fmt.Fprintf(os.Stderr, "chtest: %v\n", err)
		}
	}
}

// InCI reports whether CI=true, where a missing server library fails tests instead of skipping them.
func InCI() bool { return strings.EqualFold(os.Getenv("CI"), "true") }

// Server returns the package's embedded server, or skips (fails under CI) without one.
func Server(t testing.TB) *clickhouse.Embedded {
	t.Helper()
	switch {
	case !env.mainRan:
		t.Fatal("chtest: call chtest.Main(m) from TestMain first")
	case env.server != nil:
		return env.server
	case errors.Is(env.err, clickhouse.ErrLibraryMissing) && !InCI():
		t.Skipf("chtest: no embedded ClickHouse: %v", env.err)
	default:
		t.Fatalf("chtest: no embedded ClickHouse: %v", env.err)
	}
	return nil
}

// RequireLib skips (fails under CI) when libchdb.so is missing, for tests that start their own
// embedded servers.
func RequireLib(t testing.TB) {
	t.Helper()
	if err := clickhouse.CheckLib(""); err != nil {
		if InCI() {
			t.Fatalf("chtest: %v", err)
		}
		t.Skipf("chtest: %v", err)
	}
}

// NewDatabase creates a database for this test alone, dropped when the test ends, and
// returns a connection whose default database it is, with the database's name.
func NewDatabase(t testing.TB) (driver.Conn, string) {
	t.Helper()
	srv := Server(t)
	ctx := t.Context()
	name := DatabaseName(t.Name())
	if err := env.admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("chtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// t.Context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := env.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" SYNC"); err != nil {
			t.Errorf("chtest: drop database %s: %v", name, err)
		}
	})
	conn, err := clickhouse.Open(ctx, clickhouse.ConnOptions{Addr: []string{srv.NativeAddr()}, Database: name})
	if err != nil {
		t.Fatalf("chtest: connect to database %s: %v", name, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn, name
}

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// DatabaseName turns a test name into a unique, valid database name.
func DatabaseName(testName string) string {
	base := strings.Trim(notIdent.ReplaceAllString(strings.ToLower(testName), "_"), "_")
	base = base[:min(len(base), 40)]
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return "t_" + base + "_" + hex.EncodeToString(suffix[:])
}

// RunMigrationAgain runs the statements of the embedded migration name (e.g. "0010_events_raw_head")
// in db once more, as Migrate does when a migration stopped half-way: for tests that a migration can
// run twice without harm.
func RunMigrationAgain(t testing.TB, conn driver.Conn, db, name string) {
	t.Helper()
	migs, err := clickhouse.LoadMigrations(nil)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(migs, func(m clickhouse.Migration) bool { return m.Name == name })
	if i < 0 {
		t.Fatalf("no migration %s", name)
	}
	stmts, err := migs[i].Statements(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if err := conn.Exec(t.Context(), s); err != nil {
			t.Fatalf("%s again: %v\n%s", name, err, s)
		}
	}
}
