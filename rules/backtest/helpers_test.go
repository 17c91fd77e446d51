package backtest_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/simulate"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/rules"
)

func TestMain(m *testing.M) { chtest.Main(m) }

// world is the example deployment (deploy/zonewatch.example.yaml: zone map and named hosts, as the
// quick start runs it) with the default rule pack loaded for it.
type world struct {
	zones   *zone.Map
	rules   *rules.RuleSet
	parsers *parse.Parsers
}

func exampleWorld(t testing.TB) world {
	t.Helper()
	cfg, err := config.Load("../../deploy/zonewatch.example.yaml", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	zones, err := cfg.ZoneMap()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	rs, err := rules.Load(context.Background(), "../default", rules.LoadOptions{Zones: zones, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	parsers, err := parse.New(parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return world{zones: zones, rules: rs, parsers: parsers}
}

// ingest runs the simulator and puts its lines through ingest's parsers and normaliser, as serve does
// (each line received 300 ms after its time), on a goroutine of its own; the events reach each in
// arrival order, in batches, on the caller's goroutine: two stages, as in serve.
func (w world) ingest(t testing.TB, sim *simulate.Simulator, each func([]event.Event)) *ingestSink {
	t.Helper()
	batches := make(chan []event.Event, 8)
	sink := &ingestSink{sim: sim, out: batches, incidentOf: map[string]string{}}
	sink.norm = pipeline.NewNormaliser(pipeline.NormaliserOptions{Zones: w.zones, Parsers: w.parsers, Location: calendar.Tokyo(),
		Now: func() time.Time { return sink.now }})
	simErr := make(chan error, 1)
	go func() {
		err := sim.Run(context.Background(), sink)
		sink.flush()
		close(batches)
		simErr <- err
	}()
	for b := range batches {
		each(b)
	}
	if err := <-simErr; err != nil {
		t.Fatal(err)
	}
	return sink
}

// ingestSink normalises the simulator's lines and hands them on in batches.
type ingestSink struct {
	sim        *simulate.Simulator
	norm       *pipeline.Normaliser
	out        chan<- []event.Event
	batch      []event.Event
	now        time.Time
	incidentOf map[string]string // event id → incident id, for labelled lines
	lines      int
	dead       int
}

func (s *ingestSink) Send(_ context.Context, l *simulate.Line) error {
	s.lines++
	s.now = l.Time.Add(300 * time.Millisecond)
	var e event.Event
	var err error
	if l.Transport == "file" {
		e, err = s.norm.File("proxy-file", l.Format, event.NewID(s.now), string(l.Wire))
	} else {
		var peer netip.Addr
		if h, ok := s.sim.Org().Host(l.Device); ok {
			peer = h.Addr()
		}
		e, err = s.norm.Syslog("syslog-tcp", peer, l.Wire)
	}
	if err != nil {
		s.dead++
		return nil
	}
	if l.Incident != "" {
		s.incidentOf[e.ID] = l.Incident
	}
	s.batch = append(s.batch, e)
	if len(s.batch) == 2048 {
		s.flush()
	}
	return nil
}

func (s *ingestSink) flush() {
	if len(s.batch) > 0 {
		s.out <- s.batch
		s.batch = make([]event.Event, 0, 2048)
	}
}

func (s *ingestSink) Close() error { return nil }
