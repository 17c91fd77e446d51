// Package pipelinetest turns the simulator's traffic into events the way zonewatch serve does, for the
// tests and benchmarks of what comes after ingest: the writer, the rules, the query engine, the Grafana
// plugin and the report. One copy of "simulated line → normalised event" keeps them all fed alike.
package pipelinetest

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/simulate"
	"github.com/zonewatch/zonewatch/internal/zone"
)

// Options configure a Normaliser; zero values pick the defaults.
type Options struct {
	// Org gives the sending devices' addresses; default simulate.DefaultOrg().
	Org *simulate.Org
	// Zones is the zone map; default config.Default()'s.
	Zones *zone.Map
	// Parsers default to the built-in layouts with the simulator's i-FILTER category names
	// (simulate.Categories), as a deployment configures parse.ifilter_categories.
	Parsers *parse.Parsers
	// Listener and FileInput name where lines arrive; defaults "syslog-tcp" and "proxy-file".
	Listener, FileInput string
	// Delay is how long after its time a line arrives (the ingest clock); default 300ms.
	Delay time.Duration
}

// Normaliser normalises simulated lines: syslog lines as received from the sending device's address,
// proxy-log lines as read from a followed file, each with a stable id from its sequence number (as the
// file follower's offsets give one).
type Normaliser struct {
	o    Options
	norm *pipeline.Normaliser
	now  time.Time
}

// NormaliserOptions is what the simulator's lines are normalised with, as a deployment of the example
// configuration does: config.Default()'s zone map, and the built-in layouts with the simulator's i-FILTER
// category names (simulate.Categories). For tests and benchmarks that run ingest's own Ingestor.
func NormaliserOptions(tb testing.TB) pipeline.NormaliserOptions {
	tb.Helper()
	o, err := defaults()
	if err != nil {
		tb.Fatal(err)
	}
	return o
}

func defaults() (pipeline.NormaliserOptions, error) {
	zones, err := config.Default().ZoneMap()
	if err != nil {
		return pipeline.NormaliserOptions{}, err
	}
	parsers, err := parse.New(parse.Options{IFilterCategories: simulate.Categories()})
	if err != nil {
		return pipeline.NormaliserOptions{}, err
	}
	return pipeline.NormaliserOptions{Zones: zones, Parsers: parsers}, nil
}

// New makes a Normaliser.
func New(o Options) (*Normaliser, error) {
	if o.Org == nil {
		o.Org = simulate.DefaultOrg()
	}
	if o.Zones == nil || o.Parsers == nil {
		d, err := defaults()
		if err != nil {
			return nil, err
		}
		o.Zones, o.Parsers = cmp.Or(o.Zones, d.Zones), cmp.Or(o.Parsers, d.Parsers)
	}
	if o.Listener == "" {
		o.Listener = "syslog-tcp"
	}
	if o.FileInput == "" {
		o.FileInput = "proxy-file"
	}
	if o.Delay == 0 {
		o.Delay = 300 * time.Millisecond
	}
	n := &Normaliser{o: o}
	n.norm = pipeline.NewNormaliser(pipeline.NormaliserOptions{Zones: o.Zones, Parsers: o.Parsers,
		Location: calendar.Tokyo(), Now: func() time.Time { return n.now }})
	return n, nil
}

// Line normalises one line; an error means serve would have kept it as a dead letter.
func (n *Normaliser) Line(l *simulate.Line) (event.Event, error) {
	n.now = l.Time.Add(n.o.Delay)
	if l.Transport == simulate.TransportFile {
		return n.norm.File(n.o.FileInput, l.Format, fmt.Sprintf("sim-%012d", l.Seq), string(l.Wire))
	}
	var peer netip.Addr
	if h, ok := n.o.Org.Host(l.Device); ok {
		peer = h.Addr()
	}
	return n.norm.Syslog(n.o.Listener, peer, l.Wire)
}

// Now is the ingest clock: the arrival time of the last line.
func (n *Normaliser) Now() time.Time { return n.now }

// Events runs the simulator and returns its events, at most max of them (0: all), and the number of
// lines that would have been dead letters.
func Events(tb testing.TB, sim *simulate.Simulator, o Options, max int) (events []event.Event, dead int) {
	tb.Helper()
	if o.Org == nil {
		o.Org = sim.Org()
	}
	n, err := New(o)
	if err != nil {
		tb.Fatal(err)
	}
	s := &collect{n: n, max: max}
	if err := sim.Run(context.Background(), s); err != nil && !errors.Is(err, errEnough) {
		tb.Fatal(err)
	}
	return s.events, s.dead
}

var errEnough = errors.New("enough events")

type collect struct {
	n      *Normaliser
	max    int
	events []event.Event
	dead   int
}

func (c *collect) Send(_ context.Context, l *simulate.Line) error {
	if c.max > 0 && len(c.events) >= c.max {
		return errEnough
	}
	e, err := c.n.Line(l)
	if err != nil {
		c.dead++
		return nil
	}
	c.events = append(c.events, e)
	return nil
}

func (c *collect) Close() error { return nil }

// SyslogLines is n lines of the simulator's syslog mix (two busy working hours, all three zones) as the
// devices put them on the wire, for benchmarks that start at the socket.
func SyslogLines(tb testing.TB, n int) [][]byte {
	tb.Helper()
	from := time.Date(2026, 11, 2, 9, 0, 0, 0, time.FixedZone("JST", 9*3600))
	sim, err := simulate.New(simulate.Options{Seed: 7, From: from, To: from.Add(2 * time.Hour), Rate: float64(n) / 3600, Incidents: true})
	if err != nil {
		tb.Fatal(err)
	}
	c := &wireLines{max: n}
	if err := sim.Run(context.Background(), c); err != nil && !errors.Is(err, errEnough) {
		tb.Fatal(err)
	}
	if len(c.lines) < n {
		tb.Fatalf("the simulator gave %d syslog lines, want %d", len(c.lines), n)
	}
	return c.lines
}

type wireLines struct {
	lines [][]byte
	max   int
}

func (c *wireLines) Send(_ context.Context, l *simulate.Line) error {
	if l.Transport == simulate.TransportFile {
		return nil
	}
	if len(c.lines) >= c.max {
		return errEnough
	}
	c.lines = append(c.lines, bytes.Clone(l.Wire))
	return nil
}

func (c *wireLines) Close() error { return nil }
