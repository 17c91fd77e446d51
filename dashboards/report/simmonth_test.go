package report_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/simulate"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/rules"
)

// simData is a simulated period loaded into ClickHouse the way serve stores it: the simulator's lines
// parsed and zone-tagged by ingest's normaliser, every event evaluated by the default rule pack, events
// and alerts inserted into a fully migrated database (so the rollups of 0005 are fed by their views).
type simData struct {
	org    *simulate.Org
	rules  *rules.RuleSet
	events int
	alerts []rules.Alert
	// stored are the alerts as the alerts table keeps them: one per id, the latest created (an absence
	// alert raised again for the same silence has the same id).
	stored []rules.Alert
	dead   int
}

// simConfig is the default configuration with the simulated organisation's proxies and sanitisation
// gateways named, as a deployment would name its own.
func simConfig(org *simulate.Org) *config.Config {
	cfg := config.Default()
	if h, ok := org.Host("in-mail01"); ok {
		cfg.Hosts = append(cfg.Hosts, config.HostConfig{Name: h.Name, Role: "mail", Addresses: []string{h.IP}})
	}
	for _, h := range org.Hosts {
		role := map[string]string{"proxy": "proxy", "gateway": "sanitizer"}[h.Role]
		if role == "" {
			continue
		}
		addrs := []string{h.Addr().String()}
		if h.PeerIP != "" {
			addrs = append(addrs, h.PeerIP)
		}
		cfg.Hosts = append(cfg.Hosts, config.HostConfig{Name: h.Name, Role: role, Addresses: addrs})
	}
	return cfg
}

// proxyHosts names the simulated organisation's proxies.
func proxyHosts(org *simulate.Org) []string {
	var out []string
	for _, h := range org.Hosts {
		if h.Role == "proxy" {
			out = append(out, h.Name)
		}
	}
	return out
}

// defaultRulesDir is the repository's default rule pack.
func defaultRulesDir(tb testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "rules", "default")
}

// migrate applies every migration to db.
func migrate(tb testing.TB, conn driver.Conn, db string) {
	tb.Helper()
	if _, err := clickhouse.Migrate(context.Background(), conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		tb.Fatalf("migrate %s: %v", db, err)
	}
}

// loadSimulated simulates [from, to) at rate lines per second with incidents, and stores it in db.
func loadSimulated(tb testing.TB, conn driver.Conn, db string, from, to time.Time, rate float64) *simData {
	tb.Helper()
	ctx := context.Background()
	sim, err := simulate.New(simulate.Options{Seed: 9, From: from, To: to, Rate: rate, Incidents: true})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := simConfig(sim.Org())
	zones, err := cfg.ZoneMap()
	if err != nil {
		tb.Fatal(err)
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	rs, err := rules.Load(ctx, defaultRulesDir(tb), rules.LoadOptions{Zones: zones, Hosts: hosts})
	if err != nil {
		tb.Fatal(err)
	}
	var clock time.Time
	// Created is the wall clock of the rules stage: the simulated time, a second after the event.
	eng, err := rules.NewEngine(rules.Options{Rules: rs, Now: func() time.Time { return clock.Add(time.Second) }})
	if err != nil {
		tb.Fatal(err)
	}
	// Clock follows the normaliser's: each line arrives 300 ms after its time.
	norm, err := pipelinetest.New(pipelinetest.Options{Org: sim.Org(), Zones: zones})
	if err != nil {
		tb.Fatal(err)
	}
	s := &loadSink{tb: tb, conn: conn, db: db, sim: sim, norm: norm, eng: eng, clock: &clock, d: &simData{org: sim.Org(), rules: rs}}
	if err := sim.Run(ctx, s); err != nil {
		tb.Fatal(err)
	}
	s.flush()
	tb.Logf("load: %s inserting, %s evaluating rules", s.inserting.Round(time.Millisecond), s.evaluating.Round(time.Millisecond))
	// The absence rules tick once a minute of simulated time, as serve's ticker would.
	s.d.alerts = append(s.d.alerts, eng.Tick(to)...)
	insertAlerts(tb, conn, db, s.d.alerts)
	s.d.stored = latestByID(s.d.alerts)
	return s.d
}

// latestByID keeps the last alert of each id with the greatest created time, in first-raised order.
func latestByID(alerts []rules.Alert) []rules.Alert {
	at := map[string]int{}
	var out []rules.Alert
	for _, a := range alerts {
		i, ok := at[a.ID]
		if !ok {
			at[a.ID] = len(out)
			out = append(out, a)
			continue
		}
		if !a.Created.Before(out[i].Created) {
			out[i] = a
		}
	}
	return out
}

type loadSink struct {
	tb       testing.TB
	conn     driver.Conn
	db       string
	sim      *simulate.Simulator
	norm     *pipelinetest.Normaliser
	eng      *rules.Engine
	clock    *time.Time
	lastTick time.Time
	batch    []event.Event
	n        uint64
	d        *simData
	// time spent inserting and evaluating rules, to see where a slow load goes
	inserting, evaluating time.Duration
}

func (s *loadSink) Send(_ context.Context, l *simulate.Line) error {
	*s.clock = l.Time.Add(300 * time.Millisecond) // the arrival time, as pipelinetest's normaliser has it
	if l.Time.Sub(s.lastTick) >= time.Minute {
		s.d.alerts = append(s.d.alerts, s.eng.Tick(l.Time)...)
		s.lastTick = l.Time.Truncate(time.Minute)
	}
	s.n++
	e, err := s.norm.Line(l)
	if err != nil {
		s.d.dead++
		return nil
	}
	t := time.Now()
	s.d.alerts = append(s.d.alerts, s.eng.Eval(&e)...)
	s.evaluating += time.Since(t)
	s.batch = append(s.batch, e)
	if len(s.batch) >= 50_000 {
		s.flush()
	}
	return nil
}

func (s *loadSink) Close() error { return nil }

func (s *loadSink) flush() {
	if len(s.batch) == 0 {
		return
	}
	t := time.Now()
	insertEvents(s.tb, s.conn, s.db, s.batch)
	s.inserting += time.Since(t)
	s.d.events += len(s.batch)
	s.batch = s.batch[:0]
}

// insertEvents stores events as the writer does (one batch INSERT).
func insertEvents(tb testing.TB, conn driver.Conn, db string, events []event.Event) {
	tb.Helper()
	if err := writer.InsertEvents(context.Background(), conn, db+".events", events); err != nil {
		tb.Fatal(err)
	}
}

// insertAlerts stores alerts as the rules stage (rules/run) does.
func insertAlerts(tb testing.TB, conn driver.Conn, db string, alerts []rules.Alert) {
	tb.Helper()
	if len(alerts) == 0 {
		return
	}
	b, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+db+".alerts (id, rule_id, title_ja, title_en, severity, kind, tags, group_key, `group`, count, distinct_count, event_ids, event_ids_omitted, zones, first_seen, last_seen, suppressed, status, created)")
	if err != nil {
		tb.Fatal(err)
	}
	nn := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	for _, a := range alerts {
		group := a.Group
		if group == nil {
			group = map[string]string{}
		}
		if err := b.Append(a.ID, a.RuleID, a.Title.Ja, a.Title.En, a.Severity, a.Kind, nn(a.Tags), a.GroupKey, group,
			uint64(a.Count), uint64(a.Distinct), nn(a.EventIDs), uint64(a.EventIDsOmitted), nn(a.Zones),
			a.FirstSeen, a.LastSeen, uint64(a.Suppressed), "open", a.Created); err != nil {
			tb.Fatal(err)
		}
	}
	if err := b.Send(); err != nil {
		tb.Fatal(err)
	}
}

// insertActions plays the SOC's part on the stored alerts, deterministically: of the alerts in order, every
// third is acknowledged after (i mod 7 + 1) × 20 minutes and resolved two hours later, every third
// only acknowledged, and the rest left open.
func insertActions(tb testing.TB, conn driver.Conn, db string, alerts []rules.Alert) {
	tb.Helper()
	b, err := conn.PrepareBatch(context.Background(), "INSERT INTO "+db+".alert_actions (alert_id, action, who, comment, at)")
	if err != nil {
		tb.Fatal(err)
	}
	for i, a := range alerts {
		if err := b.Append(a.ID, "open", "rules", "", a.Created); err != nil {
			tb.Fatal(err)
		}
		ack := a.Created.Add(time.Duration(i%7+1) * 20 * time.Minute)
		switch i % 3 {
		case 0:
			if err := errors.Join(b.Append(a.ID, "acknowledge", "soc.yamada", "確認", ack),
				b.Append(a.ID, "resolve", "soc.yamada", "対応済み", ack.Add(2*time.Hour))); err != nil {
				tb.Fatal(err)
			}
		case 1:
			if err := b.Append(a.ID, "acknowledge", "soc.suzuki", "調査中", ack); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := b.Send(); err != nil {
		tb.Fatal(err)
	}
}
