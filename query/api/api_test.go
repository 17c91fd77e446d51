package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/goccy/go-yaml"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

var (
	t0   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	span = 48 * time.Hour
)

// recordingConn is the real ClickHouse connection, recording the SQL text of every statement so
// that tests can check that no user text reaches it.
type recordingConn struct {
	driver.Conn
	mu  sync.Mutex
	sql []string
}

func (c *recordingConn) note(s string) {
	c.mu.Lock()
	c.sql = append(c.sql, s)
	c.mu.Unlock()
}

func (c *recordingConn) Query(ctx context.Context, q string, args ...any) (driver.Rows, error) {
	c.note(q)
	return c.Conn.Query(ctx, q, args...)
}

func (c *recordingConn) QueryRow(ctx context.Context, q string, args ...any) driver.Row {
	c.note(q)
	return c.Conn.QueryRow(ctx, q, args...)
}

func (c *recordingConn) Exec(ctx context.Context, q string, args ...any) error {
	c.note(q)
	return c.Conn.Exec(ctx, q, args...)
}

func (c *recordingConn) statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sql)
}

type fixture struct {
	srv    *httptest.Server
	conn   *recordingConn
	db     string
	audit  *api.MemoryAudit
	events []*event.Event
	tokens map[string]string // role-ish name → token
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	raw, db := testdb.New(t, "0004_alerts")
	evs := testdb.Generate(rand.New(rand.NewPCG(3, 4)), 2000, t0, span)
	if err := testdb.Insert(t.Context(), raw, db, evs); err != nil {
		t.Fatal(err)
	}
	conn := &recordingConn{Conn: raw}
	eng, err := query.New(query.Options{Conn: conn, Database: db, Now: func() time.Time { return t0.Add(span) },
		Limits: query.Limits{MaxRange: 31 * 24 * time.Hour, MaxRows: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{conn: conn, db: db, audit: &api.MemoryAudit{}, events: evs, tokens: map[string]string{}}
	entries := map[string]api.Principal{}
	for _, p := range []api.Principal{
		{Name: "viewer-lgwan", Role: api.Viewer, Zones: []string{"lgwan", "internet"}},
		{Name: "viewer-all", Role: api.Viewer, Zones: []string{"*"}},
		{Name: "analyst-lgwan", Role: api.Analyst, Zones: []string{"lgwan"}},
		{Name: "admin", Role: api.Admin, Zones: []string{"*"}},
	} {
		tok, hash := api.NewToken()
		p.TokenID = hash[:12]
		entries[hash] = p
		f.tokens[p.Name] = tok
	}
	auth, err := api.NewStaticTokens(entries)
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.NewHandler(api.Options{Engine: eng, Auth: auth, Audit: f.audit, MaxBodyBytes: 4096, Rules: func() []api.RuleInfo {
		return []api.RuleInfo{
			{ID: "ZW-T-001", Title: query.AlertTitle{Ja: "テスト一", En: "test one"}, Severity: "high", Kind: "match", Enabled: true},
			{ID: "ZW-T-003", Title: query.AlertTitle{Ja: "テスト三", En: "test three"}, Severity: "low", Kind: "match", Enabled: false},
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

// call sends a request with the token of who ("" for none) and decodes the JSON answer.
func (f *fixture) call(t *testing.T, method, path, who string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, rd)
	if tok, ok := f.tokens[who]; ok {
		req.Header.Set("Authorization", "Bearer "+tok)
	} else if who != "" {
		req.Header.Set("Authorization", "Bearer "+who) // a forged token
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, b)
	}
	return resp.StatusCode, out
}

func rng() url.Values {
	return url.Values{"from": {t0.Format(time.RFC3339)}, "to": {t0.Add(span).Format(time.RFC3339)}}
}

func errKind(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	k, _ := e["kind"].(string)
	return k
}

// TestOpenAPIDescribesEveryRoute checks openapi.yaml against Routes() both ways, and that every
// described route answers.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                    `yaml:"openapi"`
		Paths   map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi: %q, want 3.x", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for m := range ops {
			described[strings.ToUpper(m)+" "+path] = true
		}
	}
	served := map[string]bool{}
	for _, r := range api.Routes() {
		served[r.Method+" "+r.Path] = true
		if !described[r.Method+" "+r.Path] {
			t.Errorf("route %s %s is not described in openapi.yaml", r.Method, r.Path)
		}
	}
	f := newFixture(t)
	for _, d := range slices.Sorted(maps.Keys(described)) {
		if !served[d] {
			t.Errorf("openapi.yaml describes %s, which the handler does not serve", d)
		}
		method, path, _ := strings.Cut(d, " ")
		if strings.Contains(path, "{id}") { // a fresh alert in the status the route acts on
			id := "openapi-" + strings.NewReplacer("/", "-", "{", "", "}", "", " ", "-").Replace(d)
			f.alert(t, id, "ZW-T-001", "high", []string{"lgwan"}, 1)
			switch {
			case strings.HasSuffix(path, "/resolve"):
				f.action(t, id, "acknowledge")
			case strings.HasSuffix(path, "/reopen"):
				f.action(t, id, "acknowledge")
				f.action(t, id, "resolve")
			}
			path = strings.Replace(path, "{id}", id, 1)
		}
		var body any
		q := rng()
		if strings.HasSuffix(path, "/topn") {
			q.Set("field", "url.domain")
		}
		switch {
		case strings.HasPrefix(path, "/api/v1/alerts/") && method == http.MethodPost:
			body = map[string]any{"comment": "checked by the OpenAPI test"}
		case method == http.MethodPost:
			body = map[string]any{"from": q.Get("from"), "to": q.Get("to"), "field": q.Get("field")}
		default:
			path += "?" + q.Encode()
		}
		status, resp := f.call(t, method, path, "admin", body)
		if status != http.StatusOK {
			t.Errorf("%s answers %d: %v", d, status, resp)
		}
	}
}

func TestAuthRolesAndAudit(t *testing.T) {
	f := newFixture(t)
	q := "/api/v1/aggregate?" + rng().Encode()
	for _, tc := range []struct {
		method, path, who string
		status            int
		kind              string
	}{
		{"GET", q, "", 401, "unauthenticated"},
		{"GET", q, "zw_forged-token-that-is-not-ours", 401, "unauthenticated"},
		{"GET", q, f.tokens["admin"] + "x", 401, "unauthenticated"},
		{"GET", "/api/v1/search?" + rng().Encode(), "viewer-all", 403, "forbidden"},
		{"GET", q, "viewer-lgwan", 200, ""},
		{"GET", "/api/v1/search?" + rng().Encode(), "analyst-lgwan", 200, ""},
		{"GET", "/api/v1/nope", "admin", 404, "not_found"},
	} {
		status, body := f.call(t, tc.method, tc.path, tc.who, nil)
		if status != tc.status || errKind(body) != tc.kind {
			t.Errorf("%s %s as %q: %d %v, want %d %s", tc.method, tc.path, tc.who, status, body, tc.status, tc.kind)
		}
	}
	recs := f.audit.Records()
	if len(recs) != 6 { // the 404 reaches no query route
		t.Fatalf("%d audit records, want 6: %+v", len(recs), recs)
	}
	last := recs[len(recs)-1]
	if last.Principal != "analyst-lgwan" || last.Endpoint != "search" || last.Status != 200 || last.Rows == 0 || last.RequestID == "" {
		t.Errorf("last audit record %+v", last)
	}
	if recs[0].Status != 401 || recs[0].Principal != "" || recs[3].Status != 403 || recs[3].Principal != "viewer-all" {
		t.Errorf("refusals audited as %+v and %+v", recs[0], recs[3])
	}

	// Paging: next and after.
	v := rng()
	v.Set("limit", "5")
	_, page1 := f.call(t, "GET", "/api/v1/search?"+v.Encode(), "admin", nil)
	next, _ := page1["next"].(string)
	if next == "" || page1["truncated"] != true {
		t.Fatalf("page 1: %v", page1)
	}
	v.Set("after", next)
	_, page2 := f.call(t, "GET", "/api/v1/search?"+v.Encode(), "admin", nil)
	e1 := page1["events"].([]any)
	e2 := page2["events"].([]any)
	if len(e2) != 5 || e2[0].(map[string]any)["id"] == e1[4].(map[string]any)["id"] {
		t.Errorf("page 2 does not follow page 1: %v", page2)
	}

	// A query whose audit record cannot be written is not answered.
	f.audit.Fail = errors.New("disk full")
	status, body := f.call(t, "GET", q, "admin", nil)
	if status != 503 || body["rows"] != nil {
		t.Errorf("with the audit failing: %d %v, want 503 and no data", status, body)
	}
}

func TestScope(t *testing.T) {
	f := newFixture(t)
	hidden := func(e *event.Event) bool {
		return e.Source.Zone == "mynumber" || e.Destination.Zone == "mynumber" || e.Observer.Zone == "mynumber"
	}
	status, body := f.call(t, "POST", "/api/v1/zonepairs", "viewer-lgwan", map[string]any{"from": t0.Format(time.RFC3339), "to": t0.Add(span).Format(time.RFC3339)})
	if status != 200 {
		t.Fatalf("zonepairs: %d %v", status, body)
	}
	var total float64
	for _, p := range body["pairs"].([]any) {
		pm := p.(map[string]any)
		if pm["source"] == "mynumber" || pm["destination"] == "mynumber" {
			t.Errorf("viewer scoped to lgwan+internet sees %v", pm)
		}
		total += pm["events"].(float64)
	}
	var want int
	for _, e := range f.events {
		if !hidden(e) {
			want++
		}
	}
	if int(total) != want {
		t.Errorf("viewer sees %v events, want %d (all but those touching mynumber)", total, want)
	}
	for _, flt := range []string{`source.zone == "mynumber"`, `destination.zone in ["lgwan", "mynumber"]`, `observer.zone == "mynumber" or true`} {
		v := rng()
		v.Set("filter", flt)
		status, body := f.call(t, "GET", "/api/v1/aggregate?"+v.Encode(), "viewer-lgwan", nil)
		if status != 403 || !strings.Contains(fmt.Sprint(body), `zone \"mynumber\"`) && !strings.Contains(fmt.Sprint(body), `zone "mynumber"`) {
			t.Errorf("viewer asks %s: %d %v, want 403 naming mynumber", flt, status, body)
		}
	}
	// Asking sideways (not by equality) is not refused but returns nothing hidden.
	v := rng()
	v.Set("filter", `source.zone startsWith "myn"`)
	v.Set("limit", "5000")
	status, body = f.call(t, "GET", "/api/v1/search?"+v.Encode(), "analyst-lgwan", nil)
	if status != 200 {
		t.Fatalf("search: %d %v", status, body)
	}
	if n := len(body["events"].([]any)); n != 0 {
		t.Errorf("analyst scoped to lgwan found %d mynumber events sideways", n)
	}
}

func TestErrorsAndLimits(t *testing.T) {
	f := newFixture(t)
	from, to := t0.Format(time.RFC3339), t0.Add(span).Format(time.RFC3339)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		kind   string
	}{
		{"bad filter has a position", map[string]any{"from": from, "to": to, "filter": `user.name == "a" and source.zon == "x"`}, 400, "bad_query"},
		{"range too long", map[string]any{"from": t0.Add(-60 * 24 * time.Hour).Format(time.RFC3339), "to": to}, 413, "too_large"},
		{"too many rows", map[string]any{"from": from, "to": to, "limit": 100000}, 413, "too_large"},
		{"residual in aggregate", map[string]any{"from": from, "to": to, "filter": `offHours("office", timestamp)`}, 422, "unpushable"},
		{"unknown JSON field", `{"from": "` + from + `", "drop": "table"}`, 400, "bad_request"},
		{"not JSON", `from=1`, 400, "bad_request"},
		{"two JSON values", `{} {}`, 400, "bad_request"},
		{"bad time", map[string]any{"from": "yesterday"}, 400, "bad_request"},
		{"bad bucket", map[string]any{"from": from, "to": to, "bucket": "-1h"}, 400, "bad_request"},
		{"body too large", map[string]any{"filter": strings.Repeat("a", 5000)}, 413, "bad_request"},
	} {
		path := "/api/v1/aggregate"
		status, body := f.call(t, "POST", path, "admin", tc.body)
		if status != tc.status || errKind(body) != tc.kind {
			t.Errorf("%s: %d %v, want %d %s", tc.name, status, body, tc.status, tc.kind)
		}
		if tc.name == "bad filter has a position" {
			pos := body["error"].(map[string]any)["position"].(map[string]any)
			if pos["column"].(float64) != 22 || pos["line"].(float64) != 1 {
				t.Errorf("position %v, want line 1 column 22", pos)
			}
		}
	}
	// validate: ok with residuals, or ok false with the position; 200 either way.
	for _, tc := range []struct {
		filter string
		ok     bool
	}{
		{`source.zone == "lgwan" and offHours("office", timestamp)`, true},
		{`source.zone == `, false},
		{`mystery(1)`, false},
	} {
		status, body := f.call(t, "POST", "/api/v1/validate", "viewer-lgwan", map[string]any{"filter": tc.filter})
		if status != 200 || body["ok"] != tc.ok {
			t.Errorf("validate %q: %d %v, want ok %v", tc.filter, status, body, tc.ok)
		}
		if !tc.ok && body["error"].(map[string]any)["position"] == nil {
			t.Errorf("validate %q: no position in %v", tc.filter, body)
		}
	}
	status, body := f.call(t, "POST", "/api/v1/validate", "viewer-lgwan", map[string]any{"filter": `source.zone == "mynumber"`})
	if status != 200 || body["ok"] != false || errKind(map[string]any{"error": body["error"]}) != "forbidden" {
		t.Errorf("validate out of scope: %d %v", status, body)
	}
	// health needs no token.
	if status, body := f.call(t, "GET", "/api/v1/health", "", nil); status != 200 || body["status"] != "ok" {
		t.Errorf("health: %d %v", status, body)
	}
}

// TestTableTokensAndAudit uses the api_tokens and audit tables of internal/clickhouse migrations 0007_audit, 0008_api_tokens.
func TestTableTokensAndAudit(t *testing.T) {
	conn, db := testdb.New(t)
	ctx := t.Context()
	tok, hash := api.NewToken()
	if err := api.AddToken(ctx, conn, db, hash, api.Principal{TokenID: "t1", Name: "soc", Role: api.Analyst, Zones: []string{"lgwan"}}, nil); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	oldTok, oldHash := api.NewToken()
	if err := api.AddToken(ctx, conn, db, oldHash, api.Principal{TokenID: "t2", Name: "old", Role: api.Admin, Zones: []string{"*"}}, &past); err != nil {
		t.Fatal(err)
	}
	store := &api.TableTokens{Conn: conn, Database: db}
	p, err := store.Authenticate(ctx, tok)
	if err != nil || p.Name != "soc" || p.Role != api.Analyst || fmt.Sprint(p.Zones) != "[lgwan]" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	for _, bad := range []string{oldTok, tok + "x", "", hash} {
		if _, err := store.Authenticate(ctx, bad); !errors.Is(err, api.ErrUnauthenticated) {
			t.Errorf("Authenticate(%.10q…) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	a := &api.TableAudit{Conn: conn, Database: db}
	if err := a.Record(ctx, api.Record{Time: time.Now(), Principal: "soc", Endpoint: "search", Filter: `user.name == "x'; DROP"`, Rows: 3, Status: 200}); err != nil {
		t.Fatal(err)
	}
	var n uint64
	var flt string
	if err := conn.QueryRow(ctx, "SELECT count(), any(filter) FROM "+db+".audit").Scan(&n, &flt); err != nil || n != 1 || flt != `user.name == "x'; DROP"` {
		t.Errorf("audit table: %d rows, filter %q, %v", n, flt, err)
	}
}

func TestReadTokenFile(t *testing.T) {
	_, h := api.NewToken()
	dir := t.TempDir()
	good := dir + "/tokens"
	os.WriteFile(good, []byte("# comment\n"+h+" grafana viewer lgwan,internet\n"), 0o600)
	if _, err := api.ReadTokenFile(good); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ content, want string }{
		{"zw_plaintext grafana viewer *\n", "64 hex digits"},
		{h + " grafana god *\n", `role "god"`},
		{h + " grafana viewer\n", "want <sha256 hex>"},
		{h + " a viewer *\n" + h + " b viewer *\n", "listed twice"},
	} {
		p := dir + "/bad"
		os.WriteFile(p, []byte(tc.content), 0o600)
		_, err := api.ReadTokenFile(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p+":") {
			t.Errorf("ReadTokenFile(%q) = %v, want an error naming the file and line and %q", tc.content, err, tc.want)
		}
	}
}
