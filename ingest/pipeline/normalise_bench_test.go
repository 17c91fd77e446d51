package pipeline

import (
	"bytes"
	"context"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/simulate"
)

// linesByFormat collects up to n syslog lines per device format from a simulated working day.
func linesByFormat(b *testing.B, n int) map[string][][]byte {
	b.Helper()
	from := time.Date(2026, 11, 2, 8, 0, 0, 0, time.FixedZone("JST", 9*3600))
	sim, err := simulate.New(simulate.Options{Seed: 5, From: from, To: from.Add(6 * time.Hour), Incidents: true})
	if err != nil {
		b.Fatal(err)
	}
	c := &formatSink{n: n, lines: map[string][][]byte{}}
	if err := sim.Run(context.Background(), c); err != nil {
		b.Fatal(err)
	}
	return c.lines
}

type formatSink struct {
	n     int
	lines map[string][][]byte
}

func (s *formatSink) Send(_ context.Context, l *simulate.Line) error {
	key := l.Format + "/" + l.Transport
	if l.Transport != simulate.TransportFile && len(s.lines[key]) < s.n {
		s.lines[key] = append(s.lines[key], bytes.Clone(l.Wire))
	}
	return nil
}
func (s *formatSink) Close() error { return nil }

// BenchmarkNormaliseVersusBareSyslog: per device format, the whole in-process ingest path of one line
// (envelope with go-syslog and zonewatch's year, zone and charset handling, body parser, normalisation,
// zone tagging) against bare go-syslog parsing of the same lines in the same run; x-bare is the ratio
// (issue target: at most 3).
func BenchmarkNormaliseVersusBareSyslog(b *testing.B) {
	zones, err := config.Default().ZoneMap()
	if err != nil {
		b.Fatal(err)
	}
	parsers, err := parse.New(parse.Options{IFilterCategories: simulate.Categories()})
	if err != nil {
		b.Fatal(err)
	}
	norm := NewNormaliser(NormaliserOptions{Zones: zones, Parsers: parsers})
	byFormat := linesByFormat(b, 2000)
	keys := make([]string, 0, len(byFormat))
	for k := range byFormat {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	peer := netip.MustParseAddr("10.20.0.1")
	for _, k := range keys {
		lines := byFormat[k]
		b.Run(k, func(b *testing.B) {
			bare := bareNsPerLine(lines)
			b.ReportAllocs()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				_, _ = norm.Syslog("bench", peer, lines[i%len(lines)])
			}
			ns := float64(time.Since(start).Nanoseconds()) / float64(b.N)
			b.ReportMetric(bare, "bare-ns/line")
			b.ReportMetric(ns/bare, "x-bare")
		})
	}
}

// bareNsPerLine is go-syslog alone over the lines, the mean of three passes (as b.Loop's mean for the
// whole path: the same kind of figure on both sides of the ratio).
func bareNsPerLine(lines [][]byte) float64 {
	p5424 := rfc5424.NewParser(rfc5424.WithBestEffort())
	p3164 := rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithRFC3339())
	var total time.Duration
	for range 3 {
		start := time.Now()
		for range 20 {
			for _, l := range lines {
				if i := bytes.IndexByte(l, '>'); i > 0 && i+1 < len(l) && l[i+1] == '1' {
					_, _ = p5424.Parse(l)
				} else {
					_, _ = p3164.Parse(l)
				}
			}
		}
		total += time.Since(start)
	}
	return float64(total.Nanoseconds()) / float64(3*20*len(lines))
}
