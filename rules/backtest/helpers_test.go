package backtest_test

import (
	"context"
	"testing"

	"github.com/zonewatch/zonewatch/ingest/parse"
	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
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
	parsers, err := parse.New(parse.Options{IFilterLayout: cfg.Parse.IFilterLayout, InterSafeLayout: cfg.Parse.InterSafeLayout,
		IFilterCategories: cfg.Parse.IFilterCategories, AppNames: cfg.Parse.AppNames})
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
	norm, err := pipelinetest.New(pipelinetest.Options{Org: sim.Org(), Zones: w.zones, Parsers: w.parsers})
	if err != nil {
		t.Fatal(err)
	}
	sink := &ingestSink{norm: norm, out: batches, incidentOf: map[string]string{}}
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
	norm       *pipelinetest.Normaliser
	out        chan<- []event.Event
	batch      []event.Event
	incidentOf map[string]string // event id → incident id, for labelled lines
	lines      int
	dead       int
}

func (s *ingestSink) Send(_ context.Context, l *simulate.Line) error {
	s.lines++
	e, err := s.norm.Line(l)
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
