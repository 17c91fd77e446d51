package writer_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/natsbus"
)

const outageDB = "zonewatch"

// TestClickHouseKilledWhileWriting kills ClickHouse (SIGKILL, restarted by its supervisor) while the
// writer drains a backlog, and finds every event exactly once afterwards, in events and in the rollups.
func TestClickHouseKilledWhileWriting(t *testing.T) {
	tests := []struct {
		name  string
		kills int
	}{
		{"one kill", 1},
		{"three kills in a row", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ownClickHouse(t, clickhouse.EmbeddedOptions{RestartOnExit: true})
			conn := open(t, srv.NativeAddr(), "default")
			if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: outageDB}); err != nil {
				t.Fatal(err)
			}
			b := startBus(t, natsbus.StreamOptions{})
			const n = 20000
			b.publish(t, genEvents(5, n, time.Now(), 6*time.Hour))
			_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: outageDB, BatchSize: 500,
				FlushInterval: 50 * time.Millisecond, MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
				InsertTimeout: 5 * time.Second, AckWait: 5 * time.Second})

			for k := range tt.kills {
				// Spread the kills over the backlog: each one after some more progress.
				progress := float64(n * (k + 1) / (tt.kills + 2))
				waitFor(t, 120*time.Second, "progress", func() bool { return metric(t, reg, "zonewatch_writer_rows_inserted_total") >= progress })
				before := srv.Restarts()
				if err := srv.Kill(); err != nil {
					t.Fatal(err)
				}
				waitFor(t, 60*time.Second, "the restart", func() bool { return srv.Restarts() > before })
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				if err := srv.WaitReady(ctx); err != nil {
					t.Fatal(err)
				}
				cancel()
				t.Logf("kill %d: %v rows inserted before it", k+1, metric(t, reg, "zonewatch_writer_rows_inserted_total"))
			}
			waitFor(t, 120*time.Second, "the backlog to drain", func() bool {
				pending, ackPending, _ := b.consumerState(t)
				return pending == 0 && ackPending == 0
			})
			dbConn := open(t, srv.NativeAddr(), outageDB)
			requireExactly(t, dbConn, n)
			for _, q := range []string{"SELECT sum(events) FROM events_hourly", "SELECT sum(events) FROM source_health_hourly"} {
				if got := count(t, dbConn, q); got != n {
					t.Errorf("%s = %d, want %d", q, got, n)
				}
			}
			if metric(t, reg, "zonewatch_writer_insert_failures_total") == 0 {
				t.Log("no insert failed: the kill fell between two inserts")
			}
			if got := metric(t, reg, "zonewatch_writer_state"); got != 0 {
				t.Errorf("state = %v after the backlog drained, want 0 (writing)", got)
			}
			t.Logf("failures %v, duplicates skipped %v, ids looked up %v", metric(t, reg, "zonewatch_writer_insert_failures_total"),
				metric(t, reg, "zonewatch_writer_duplicates_skipped_total"), metric(t, reg, "zonewatch_writer_id_lookups_total"))
		})
	}
}

// TestClickHouseOutage stops ClickHouse for several ack waits: the writer reports "retrying", JetStream
// redelivers nothing (InProgress keeps the acks alive), and when ClickHouse is back the backlog drains.
func TestClickHouseOutage(t *testing.T) {
	dir := t.TempDir()
	srv := ownClickHouse(t, clickhouse.EmbeddedOptions{DataDir: dir})
	tcpPort, httpPort := port(t, srv.NativeAddr()), port(t, srv.HTTPAddr())
	conn := open(t, srv.NativeAddr(), "default")
	if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: outageDB}); err != nil {
		t.Fatal(err)
	}
	b := startBus(t, natsbus.StreamOptions{})
	const ackWait = time.Second
	_, reg := runWriter(t, writer.Options{JS: b.js, CH: conn, Database: outageDB, BatchSize: 1000, FlushInterval: 50 * time.Millisecond,
		AckWait: ackWait, MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, InsertTimeout: 2 * time.Second})

	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 5000
	b.publish(t, genEvents(6, n, time.Now(), time.Hour))
	waitFor(t, 10*time.Second, "state retrying", func() bool { return metric(t, reg, "zonewatch_writer_state") == 1 })
	time.Sleep(4 * ackWait)
	_, ackPending, redelivered := b.consumerState(t)
	if redelivered != 0 {
		t.Errorf("%d messages redelivered during the outage: InProgress did not keep their acks alive", redelivered)
	}
	if ackPending == 0 || ackPending > 2000 {
		t.Errorf("%d messages held by the writer during the outage, want 1..2 batches", ackPending)
	}
	if got := metric(t, reg, "zonewatch_writer_state"); got != 1 {
		t.Errorf("state = %v during the outage, want 1 (retrying)", got)
	}

	srv2 := ownClickHouse(t, clickhouse.EmbeddedOptions{DataDir: dir, TCPPort: tcpPort, HTTPPort: httpPort})
	waitFor(t, 60*time.Second, "the backlog to drain", func() bool {
		pending, ackPending, _ := b.consumerState(t)
		return pending == 0 && ackPending == 0
	})
	requireExactly(t, open(t, srv2.NativeAddr(), outageDB), n)
	if got := metric(t, reg, "zonewatch_writer_state"); got != 0 {
		t.Errorf("state = %v after the outage, want 0 (writing)", got)
	}
	if metric(t, reg, "zonewatch_writer_insert_failures_total") == 0 {
		t.Error("no failed insert counted during the outage")
	}
}

func port(t testing.TB, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShutdownDuringOutageHandsTheBatchesBack: a writer stopped while ClickHouse is down returns
// promptly and hands its batches back (Nak) at once, so the next writer gets them without waiting for
// AckWait, and stores everything exactly once.
func TestShutdownDuringOutageHandsTheBatchesBack(t *testing.T) {
	dir := t.TempDir()
	srv := ownClickHouse(t, clickhouse.EmbeddedOptions{DataDir: dir})
	tcpPort, httpPort := port(t, srv.NativeAddr()), port(t, srv.HTTPAddr())
	conn := open(t, srv.NativeAddr(), "default")
	if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: outageDB}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := startBus(t, natsbus.StreamOptions{})
	const n = 3000
	b.publish(t, genEvents(16, n, time.Now(), time.Hour))
	o := writer.Options{JS: b.js, CH: conn, Database: outageDB, BatchSize: 1000, FlushInterval: 50 * time.Millisecond,
		AckWait: 5 * time.Minute, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, InsertTimeout: 2 * time.Second}
	stop, reg := runWriter(t, o)
	waitFor(t, 10*time.Second, "state retrying", func() bool { return metric(t, reg, "zonewatch_writer_state") == 1 })
	start := time.Now()
	stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the writer took %v to stop", d)
	}
	srv2 := ownClickHouse(t, clickhouse.EmbeddedOptions{DataDir: dir, TCPPort: tcpPort, HTTPPort: httpPort})
	runWriter(t, o)
	// Well before AckWait (5 minutes): the batches the first writer held were handed back, not abandoned.
	waitFor(t, 60*time.Second, "the backlog to drain", func() bool {
		pending, ackPending, _ := b.consumerState(t)
		return pending == 0 && ackPending == 0
	})
	requireExactly(t, open(t, srv2.NativeAddr(), outageDB), n)
}
