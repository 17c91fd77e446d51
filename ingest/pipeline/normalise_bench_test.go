package pipeline

import (
	"bytes"
	"context"
	"math"
	"net/netip"
	"sort"
	"testing"
	"time"

	syslog "github.com/influxdata/go-syslog/v3"
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
//
// Each b.Loop iteration is one round: every line of the format through bare go-syslog, then through the
// whole path. The figures are each side's fastest round: on a machine shared with other work a round
// that was interrupted is slower, never faster, so the minimum of many interleaved rounds is the
// figure least disturbed, and both sides of the ratio are taken the same way at the same moments.
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
			bare := newBareParser()
			bestBare, bestFull := math.Inf(1), math.Inf(1)
			for b.Loop() {
				start := time.Now()
				for _, l := range lines {
					bare.parse(l)
				}
				bestBare = min(bestBare, float64(time.Since(start).Nanoseconds())/float64(len(lines)))
				start = time.Now()
				for _, l := range lines {
					_, _ = norm.Syslog("bench", peer, l)
				}
				bestFull = min(bestFull, float64(time.Since(start).Nanoseconds())/float64(len(lines)))
			}
			b.ReportMetric(bestFull, "ns/line")
			b.ReportMetric(bestBare, "bare-ns/line")
			b.ReportMetric(bestFull/bestBare, "x-bare")
		})
	}
}

// bareParser is go-syslog alone, as the benchmarks' baseline: the parser for the line's format.
type bareParser struct{ p5424, p3164 syslog.Machine }

func newBareParser() bareParser {
	return bareParser{rfc5424.NewParser(rfc5424.WithBestEffort()), rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithRFC3339())}
}

func (p bareParser) parse(l []byte) {
	if i := bytes.IndexByte(l, '>'); i > 0 && i+1 < len(l) && l[i+1] == '1' {
		_, _ = p.p5424.Parse(l)
	} else {
		_, _ = p.p3164.Parse(l)
	}
}
