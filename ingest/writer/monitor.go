package writer

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/internal/natsbus"
)

// MonitorOptions configure MonitorStreams.
type MonitorOptions struct {
	JS jetstream.JetStream
	// Streams to watch; default ZW_EVENTS and ZW_DEAD.
	Streams []string
	// Durable is the writer's consumer whose backlog is reported; default "writer"; "-" reports none.
	Durable string
	// Interval between checks; default 30s.
	Interval time.Duration
	// WarnRatio is the fill above which the monitor logs at error level; default 0.8.
	WarnRatio float64
	Logger    *slog.Logger
	// Registerer receives the metrics (zonewatch_jetstream_stream_*, zonewatch_writer_backlog_messages).
	// A Writer runs its own monitor with its own metrics; set this only when running MonitorStreams alone.
	Registerer prometheus.Registerer

	metrics *metrics // the Writer's, when it runs the monitor
}

// StreamFill is one stream's use of its limits.
type StreamFill struct {
	Stream          string
	Bytes, MaxBytes int64 // MaxBytes -1: no limit
	Msgs, MaxMsgs   int64 // MaxMsgs -1: no limit
	// Ratio is the fill of the tightest limit, 0 without limits.
	Ratio float64
	// Backlog is what the writer's consumer has not yet acknowledged (-1 when it was not asked for).
	Backlog int64
}

// MonitorStreams checks the streams' fill against their limits every Interval until ctx ends. Above
// WarnRatio it logs at error level on every check and sets zonewatch_jetstream_stream_near_limit: the
// streams refuse new messages when full (discard new), so ingest would start to block and, for UDP,
// lose messages. A Writer runs it (Options.MonitorInterval); serve only needs to call it when it runs
// no writer.
func MonitorStreams(ctx context.Context, o MonitorOptions) {
	if len(o.Streams) == 0 {
		o.Streams = []string{natsbus.StreamEvents, natsbus.StreamDead}
	}
	if o.Durable == "" {
		o.Durable = natsbus.ConsumerWriter
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.WarnRatio <= 0 || o.WarnRatio >= 1 {
		o.WarnRatio = 0.8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	m := o.metrics
	if m == nil {
		m = newMonitorMetrics(o.Registerer)
	}
	near := map[string]bool{}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		for _, s := range o.Streams {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			f, err := CheckStream(cctx, o.JS, s, o.Durable)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					o.Logger.Warn("cannot read the JetStream stream's state", "stream", s, "err", err)
				}
				continue
			}
			m.streamBytes.WithLabelValues(s).Set(float64(f.Bytes))
			m.streamMaxBytes.WithLabelValues(s).Set(float64(f.MaxBytes))
			m.streamFill.WithLabelValues(s).Set(f.Ratio)
			if f.Backlog >= 0 {
				m.backlog.WithLabelValues(s).Set(float64(f.Backlog))
			}
			switch {
			case f.Ratio > o.WarnRatio:
				m.streamNearLimit.WithLabelValues(s).Set(1)
				near[s] = true
				o.Logger.Error("JETSTREAM STREAM NEAR ITS LIMIT: when it is full, ingest cannot store new log lines (TCP senders block, UDP lines are lost); is ClickHouse down or the writer stuck? raise nats.stream.max_bytes or fix the writer",
					"stream", s, "fill", fmt.Sprintf("%.0f%%", 100*f.Ratio), "bytes", f.Bytes, "max_bytes", f.MaxBytes,
					"messages", f.Msgs, "max_msgs", f.MaxMsgs, "writer_backlog", f.Backlog)
			case near[s]:
				m.streamNearLimit.WithLabelValues(s).Set(0)
				near[s] = false
				o.Logger.Info("JetStream stream back under its warning level", "stream", s, "fill", fmt.Sprintf("%.0f%%", 100*f.Ratio))
			default:
				m.streamNearLimit.WithLabelValues(s).Set(0)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckStream reads one stream's fill and, unless durable is "-", the backlog of that consumer on it.
func CheckStream(ctx context.Context, js jetstream.JetStream, stream, durable string) (StreamFill, error) {
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return StreamFill{}, err
	}
	info, err := st.Info(ctx)
	if err != nil {
		return StreamFill{}, err
	}
	f := StreamFill{Stream: stream, Bytes: int64(info.State.Bytes), MaxBytes: info.Config.MaxBytes,
		Msgs: int64(info.State.Msgs), MaxMsgs: info.Config.MaxMsgs, Backlog: -1}
	if f.MaxBytes > 0 {
		f.Ratio = max(f.Ratio, float64(f.Bytes)/float64(f.MaxBytes))
	}
	if f.MaxMsgs > 0 {
		f.Ratio = max(f.Ratio, float64(f.Msgs)/float64(f.MaxMsgs))
	}
	if durable != "-" {
		c, err := st.Consumer(ctx, durable)
		if err == nil {
			var ci *jetstream.ConsumerInfo
			if ci, err = c.Info(ctx); err == nil {
				f.Backlog = int64(ci.NumPending) + int64(ci.NumAckPending)
			}
		}
	}
	return f, nil
}

func newMonitorMetrics(reg prometheus.Registerer) *metrics {
	m := newMetrics(nil)
	if reg != nil {
		reg.MustRegister(m.streamBytes, m.streamMaxBytes, m.streamFill, m.streamNearLimit, m.backlog)
	}
	return m
}
