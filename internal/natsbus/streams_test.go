package natsbus_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// TestEnsureStreamsCreatesUpdatesAndRefuses: several processes starting at once create the streams once;
// a changed limit is applied to the existing streams; what the server cannot change, or cannot do, fails
// at once with what to do.
func TestEnsureStreamsCreatesUpdatesAndRefuses(t *testing.T) {
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "nats"), MaxStore: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := natsbus.Connect(natsbus.ConnOptions{URLs: []string{srv.ClientURL()}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := context.Background()

	first := natsbus.StreamOptions{MaxBytes: 1 << 20, MaxAge: time.Hour, Logger: quiet()}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = natsbus.EnsureStreams(ctx, js, first) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("process %d: %v", i, err)
		}
	}

	second := natsbus.StreamOptions{MaxBytes: 2 << 20, MaxMsgs: 1000, MaxAge: 2 * time.Hour, Duplicates: time.Minute,
		AlertsMaxBytes: 3 << 20, DeadMaxBytes: 4 << 20, Logger: quiet()}
	if err := natsbus.EnsureStreams(ctx, js, second); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stream            string
		maxBytes, maxMsgs int64
	}{
		{natsbus.StreamEvents, 2 << 20, 1000},
		{natsbus.StreamAlerts, 3 << 20, -1},
		{natsbus.StreamDead, 4 << 20, -1},
	} {
		c := streamInfo(t, js, tc.stream).Config
		if c.MaxBytes != tc.maxBytes || c.MaxMsgs != tc.maxMsgs || c.MaxAge != 2*time.Hour || c.Duplicates != time.Minute ||
			c.Discard != jetstream.DiscardNew || c.Retention != jetstream.LimitsPolicy {
			t.Errorf("%s after the update: max_bytes %d max_msgs %d max_age %v duplicates %v discard %v retention %v",
				tc.stream, c.MaxBytes, c.MaxMsgs, c.MaxAge, c.Duplicates, c.Discard, c.Retention)
		}
	}

	// Retention can be switched on an existing stream (nats-server ≥ 2.10), both ways.
	for name, r := range map[string]jetstream.RetentionPolicy{"interest": jetstream.InterestPolicy, "limits": jetstream.LimitsPolicy} {
		if err := natsbus.EnsureStreams(ctx, js, natsbus.StreamOptions{Retention: name, Logger: quiet()}); err != nil {
			t.Fatalf("retention %s: %v", r, err)
		}
		if got := streamInfo(t, js, natsbus.StreamEvents).Config.Retention; got != r {
			t.Errorf("retention %v, want %v", got, r)
		}
	}

	for _, tc := range []struct {
		name string
		o    natsbus.StreamOptions
		want string
	}{
		{"more than the server stores", natsbus.StreamOptions{MaxBytes: 1 << 30}, "lower nats.stream.max_bytes"},
		{"R3 on one server", natsbus.StreamOptions{Replicas: 3}, "not clustered: set nats.stream.replicas to 1"},
		{"unknown retention", natsbus.StreamOptions{Retention: "workqueue"}, `retention "workqueue"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Logger, tc.o.Wait = quiet(), 5*time.Second
			start := time.Now()
			err := natsbus.EnsureStreams(ctx, js, tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %v: a refusal must not be retried", d)
			}
		})
	}
}
