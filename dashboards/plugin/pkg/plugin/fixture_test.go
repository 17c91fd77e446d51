package plugin_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/zonewatch/zonewatch/ingest/pipeline/pipelinetest"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/simulate"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/rules"
)

// The simulated period: Monday 2026-11-02 00:00 to 18:00 JST, with one of each incident (those that
// need a Sunday night fall on an off-hours night of the period instead).
var (
	simFrom = time.Date(2026, 11, 1, 15, 0, 0, 0, time.UTC)
	simTo   = simFrom.Add(18 * time.Hour)
)

// fixture is a database loaded with one simulated period: the simulator's lines run through
// ingest's normaliser as serve does, stored in events (the rollups fill themselves), and the
// default rule pack's alerts over them stored in alerts.
type fixture struct {
	conn   driver.Conn
	db     string
	addr   string
	events int
	alerts []rules.Alert
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	conn, db := chtest.NewDatabase(t)
	ctx := t.Context()
	if _, err := clickhouse.Migrate(ctx, conn, clickhouse.MigrateOptions{Database: db}); err != nil {
		t.Fatalf("migrate %s: %v", db, err)
	}
	events := simulated(t)
	if err := insertEvents(ctx, conn, db, events); err != nil {
		t.Fatalf("insert %d simulated events: %v", len(events), err)
	}
	alerts := evaluate(t, events)
	if err := insertAlerts(ctx, conn, db, alerts); err != nil {
		t.Fatalf("insert %d alerts: %v", len(alerts), err)
	}
	t.Logf("fixture: %d events, %d alerts in %s", len(events), len(alerts), db)
	return &fixture{conn: conn, db: db, addr: chtest.Server(t).NativeAddr(), events: len(events), alerts: alerts}
}

// settings are the data source's instance settings pointing at the fixture's database.
func (f *fixture) settings(t *testing.T, extra map[string]any) backend.DataSourceInstanceSettings {
	t.Helper()
	js := map[string]any{"address": f.addr, "database": f.db, "streamInterval": 1,
		"zoneScopes": map[string][]string{"mn-officer": {"mynumber", "lgwan", "internet"}}}
	for k, v := range extra {
		js[k] = v
	}
	b, err := json.Marshal(js)
	if err != nil {
		t.Fatal(err)
	}
	return backend.DataSourceInstanceSettings{UID: "zonewatch", Name: "zonewatch", JSONData: b, DecryptedSecureJSONData: map[string]string{}}
}

func (f *fixture) count(t *testing.T, sql string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := f.conn.QueryRow(t.Context(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// simulated runs the simulator over the period through ingest's normaliser, with the i-FILTER
// category names a deployment configures (parse.ifilter_categories).
func simulated(t *testing.T) []event.Event {
	t.Helper()
	sim, err := simulate.New(simulate.Options{Seed: 7, From: simFrom, To: simTo, Incidents: true})
	if err != nil {
		t.Fatal(err)
	}
	events, _ := pipelinetest.Events(t, sim, pipelinetest.Options{}, 0)
	if len(events) < 1000 {
		t.Fatalf("the simulator gave %d events, want thousands", len(events))
	}
	return events
}

// evaluate runs the default rule pack over the events, as the rules stage of serve does.
func evaluate(t *testing.T, events []event.Event) []rules.Alert {
	t.Helper()
	cfg := config.Default()
	zones, err := cfg.ZoneMap()
	if err != nil {
		t.Fatal(err)
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	rs, err := rules.Load(t.Context(), "../../../../rules/default", rules.LoadOptions{Zones: zones, Hosts: hosts})
	if err != nil {
		t.Fatalf("load the default rule pack: %v", err)
	}
	clock := simTo
	en, err := rules.NewEngine(rules.Options{Rules: rs, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	var out []rules.Alert
	for i := range events {
		clock = events[i].Meta.Ingested
		out = append(out, en.Eval(&events[i])...)
	}
	return out
}

// insertEvents stores events as the writer does.
func insertEvents(ctx context.Context, conn driver.Conn, db string, events []event.Event) error {
	return writer.InsertEvents(ctx, conn, db+".events", events)
}

// insertAlerts stores alerts the way the rules stage does (rules/run).
func insertAlerts(ctx context.Context, conn driver.Conn, db string, alerts []rules.Alert) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO "+db+".alerts (id, rule_id, title_ja, title_en, severity, kind, tags, group_key, `group`, count, distinct_count, event_ids, event_ids_omitted, zones, first_seen, last_seen, suppressed, status, created)")
	if err != nil {
		return err
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
			return err
		}
	}
	return b.Send()
}
