// Package writertest runs a real zonewatch writer for the tests of the writer and of what sits around it
// (the ClickHouse cluster layout), and reads its metrics.
package writertest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/zonewatch/zonewatch/ingest/writer"
)

// Run starts a writer with o (its metrics in a registry of its own, a silent logger unless o has one)
// until stop is called or the test ends; stop reports the writer's error to the test.
func Run(tb testing.TB, o writer.Options) (stop func(), reg *prometheus.Registry) {
	tb.Helper()
	reg = prometheus.NewRegistry()
	o.Registerer = reg
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w, err := writer.New(context.Background(), o)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("writer: %v", err)
		}
	}
	tb.Cleanup(stop)
	return stop, reg
}

// Metric reads the first series of a counter, gauge or histogram (its mean) from reg; 0 when absent.
func Metric(tb testing.TB, reg *prometheus.Registry, name string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			return Value(m)
		}
	}
	return 0
}

// Value is one series' value: a counter's or gauge's, a histogram's mean.
func Value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Histogram != nil:
		return m.Histogram.GetSampleSum() / float64(max(1, m.Histogram.GetSampleCount()))
	}
	return 0
}
