package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/query/api"
)

func TestParseRoles(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want roleSet
		err  string
	}{
		{in: "all", want: roleSet{true, true, true, true}},
		{in: "ingest", want: roleSet{Ingest: true}},
		{in: "writer,rules", want: roleSet{Writer: true, Rules: true}},
		{in: " api , ingest", want: roleSet{Ingest: true, API: true}},
		{in: "ingest,all", want: roleSet{true, true, true, true}},
		{in: "writers", err: `"writers" is not a role`},
		{in: "", err: `"" is not a role`},
		{in: "ingest,,api", err: `"" is not a role`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseRoles(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestSplitRolesNeedExternalServers(t *testing.T) {
	external := config.Default()
	external.NATS.URLs = []string{"nats://nats-1:4222"}
	external.ClickHouse.Addr = []string{"ch-1:9000"}
	natsOnly := config.Default()
	natsOnly.NATS.URLs = external.NATS.URLs
	for _, tc := range []struct {
		roles string
		cfg   *config.Config
		err   string
	}{
		{"all", config.Default(), ""},
		{"ingest", config.Default(), "set nats.urls"},
		{"ingest", natsOnly, ""}, // ingest never opens ClickHouse
		{"writer", natsOnly, "set clickhouse.addr"},
		{"api", config.Default(), "set clickhouse.addr"},
		{"api", external, ""},
		{"writer,rules", external, ""},
	} {
		t.Run(tc.roles, func(t *testing.T) {
			r, err := parseRoles(tc.roles)
			if err != nil {
				t.Fatal(err)
			}
			err = r.check(tc.cfg)
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

// TestEachRoleRunsAlone runs ingest, two writers, rules and api as five serve processes (in this process,
// each with its own configuration, state and HTTP port) over one external NATS and one ClickHouse, as a
// scaled-out deployment does. Lines sent to ingest are stored once by the writers sharing their durable
// consumer, the mynumber one raises the policy's alert in rules, and the API sees them. Ingest is given an
// unreachable ClickHouse and the API an unreachable NATS: they start all the same, because they do not
// use them.
func TestEachRoleRunsAlone(t *testing.T) {
	const lines = 400
	conn, db := chtest.NewDatabase(t)
	srv, err := natsbus.StartServer(natsbus.ServerOptions{Listen: "127.0.0.1:0", DataDir: filepath.Join(t.TempDir(), "nats")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	analyst, analystHash := api.NewToken()
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte(analystHash+" soc-analyst analyst *\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	type process struct {
		role string
		info readyInfo
	}
	var procs []process
	infos := map[string]readyInfo{}
	for _, role := range []string{RoleIngest, RoleWriter, RoleWriter, RoleRules, RoleAPI} {
		dir := t.TempDir()
		cfg := testConfig(t, dir, db)
		cfg.NATS.URLs = []string{srv.ClientURL()}
		cfg.API.TokensFile = tokens
		cfg.Writer.BatchSize = 50 // small batches, so that both writers take some
		switch role {
		case RoleIngest:
			cfg.ClickHouse.Addr = []string{"127.0.0.1:1"}
		case RoleAPI:
			cfg.NATS.URLs = []string{"nats://127.0.0.1:1"}
		}
		info := startRole(t, cfg, dir, role)
		procs = append(procs, process{role, info})
		infos[role] = info
	}
	for _, p := range procs {
		if n := len(p.info.Listeners); (p.role == RoleIngest) != (n > 0) {
			t.Errorf("%s process has %d syslog listeners", p.role, n)
		}
	}

	c, err := net.Dial("tcp", infos[RoleIngest].Listeners["syslog-tcp/tcp"])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	msg := fmt.Sprintf(`<132>1 %s fw-mynumber fortigate - - - srcip=10.10.1.5 srcport=50123 dstip=10.20.1.8 dstport=445 proto=6 action="deny" policyid=0`, now.Format(time.RFC3339))
	fmt.Fprintf(c, "%d %s", len(msg), msg)
	for i := 1; i < lines; i++ {
		msg := fmt.Sprintf(`<78>1 %s lgwan-srv01 cron - - - (root) CMD (run-parts /etc/cron.hourly) seq=%d`, now.Format(time.RFC3339), i)
		fmt.Fprintf(c, "%d %s", len(msg), msg)
	}
	_ = c.Close()

	waitCount(t, conn, lines, "SELECT count() FROM events")
	waitCount(t, conn, 1, "SELECT count() FROM events WHERE source_zone = 'mynumber'")
	waitCount(t, conn, 1, "SELECT count() FROM alerts FINAL WHERE rule_id = 'ZW-CZ-001' AND has(zones, 'mynumber')")
	time.Sleep(500 * time.Millisecond) // a duplicate from the other writer would show by now
	waitCount(t, conn, lines, "SELECT uniqExact(raw) FROM events")
	waitCount(t, conn, lines, "SELECT count() FROM events")
	var perWriter []string
	for _, p := range procs {
		if p.role == RoleWriter {
			_, body := httpGetText(t, "http://"+p.info.API+"/metrics")
			perWriter = append(perWriter, metricLine(body, "zonewatch_writer_rows_inserted_total"))
		}
	}
	t.Logf("rows inserted by each writer: %v", perWriter)

	q := url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Add(time.Hour).Format(time.RFC3339)}}
	for _, role := range []string{RoleIngest, RoleWriter, RoleRules, RoleAPI} {
		status, body := httpGet(t, "http://"+infos[role].API+"/api/v1/zonepairs?"+q.Encode(), analyst)
		if want := role == RoleAPI; want != (status == http.StatusOK) {
			t.Errorf("%s process: /api/v1/zonepairs answered %d", role, status)
		}
		if role == RoleAPI && !strings.Contains(body, "mynumber") {
			t.Errorf("api: zone pairs without the mynumber event: %s", body)
		}
		if status, body := httpGet(t, "http://"+infos[role].API+"/healthz", ""); status != http.StatusOK {
			t.Errorf("%s process: /healthz %d %s", role, status, body)
		}
	}

	nc, err := natsbus.Connect(natsbus.ConnOptions{URLs: []string{srv.ClientURL()}})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, durable := range []string{natsbus.ConsumerWriter, natsbus.ConsumerRules} {
		if _, err := js.Consumer(t.Context(), natsbus.StreamEvents, durable); err != nil {
			t.Errorf("consumer %s: %v", durable, err)
		}
	}
}

// startRole runs serve with one role until the test ends.
func startRole(t *testing.T, cfg *config.Config, dir, role string) readyInfo {
	t.Helper()
	roles, err := parseRoles(role)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := filepath.Join(dir, "ready.json")
	done := make(chan error, 1)
	go func() { done <- serveRoles(ctx, cfg, testLogger(t), ready, roles) }()
	info := waitReady(t, ready, done)
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve --role %s: %v", role, err)
		}
	})
	return info
}

func httpGet(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err == nil {
		b.Write(raw)
	}
	return resp.StatusCode, b.String()
}

func httpGetText(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricLine is the value of a metric without labels in a /metrics page, or "absent".
func metricLine(page, name string) string {
	for _, l := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "absent"
}

// The systemd template sets the role through the environment: zonewatch@writer runs --role writer.
func TestRoleFromTheEnvironment(t *testing.T) {
	t.Setenv("ZONEWATCH_ROLE", "")
	if got := defaultRoles(); got != "all" {
		t.Errorf("no ZONEWATCH_ROLE: %q, want all", got)
	}
	t.Setenv("ZONEWATCH_ROLE", "writer")
	cmd := newServe(&globals{})
	if got := cmd.Flags().Lookup("role").DefValue; got != "writer" {
		t.Errorf("--role default with ZONEWATCH_ROLE=writer: %q", got)
	}
}
