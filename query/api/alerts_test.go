package api_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// alert inserts an alert as the rules stage stores it (rules/run), first seen at t0 plus count minutes.
func (f *fixture) alert(t *testing.T, id, rule, severity string, zones []string, count uint64) {
	t.Helper()
	first := t0.Add(time.Duration(count) * time.Minute)
	b, err := f.conn.PrepareBatch(t.Context(), "INSERT INTO "+f.db+".alerts (id, rule_id, title_ja, title_en, severity, kind, tags, group_key, `group`, count, distinct_count, event_ids, event_ids_omitted, zones, first_seen, last_seen, suppressed, status, created)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(id, rule, "題 "+rule, "title "+rule, severity, "match", []string{"t"}, "source.ip=10.20.1.5", map[string]string{"source.ip": "10.20.1.5"},
		count, uint64(0), []string{"ev-1"}, uint64(0), zones, first, first.Add(time.Minute), uint64(0), "open", first.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
}

// action appends a workflow row directly, to put an alert in a status.
func (f *fixture) action(t *testing.T, id, action string) {
	t.Helper()
	if err := f.conn.Exec(t.Context(), "INSERT INTO "+f.db+".alert_actions (alert_id, action, who, comment, at) VALUES (?, ?, 'setup', '', now64(3))", id, action); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // the next action must come later
}

func ids(body map[string]any) []string {
	var out []string
	as, _ := body["alerts"].([]any)
	for _, a := range as {
		out = append(out, a.(map[string]any)["id"].(string))
	}
	slices.Sort(out)
	return out
}

func TestAlertWorkflow(t *testing.T) {
	f := newFixture(t)
	f.alert(t, "a-lgwan", "ZW-T-001", "high", []string{"lgwan"}, 3)
	f.alert(t, "a-mynumber", "ZW-T-002", "critical", []string{"lgwan", "mynumber"}, 5)
	f.alert(t, "a-nozone", "ZW-T-001", "low", nil, 7)

	// Listing: filters and scope.
	for _, tc := range []struct {
		who, query string
		status     int
		want       string
	}{
		{"admin", "", 200, "[a-lgwan a-mynumber a-nozone]"},
		{"viewer-lgwan", "", 200, "[a-lgwan a-nozone]"},
		{"admin", "severity=critical", 200, "[a-mynumber]"},
		{"admin", "rule=ZW-T-001", 200, "[a-lgwan a-nozone]"},
		{"admin", "zone=mynumber", 200, "[a-mynumber]"},
		{"admin", "status=open", 200, "[a-lgwan a-mynumber a-nozone]"},
		{"admin", "status=resolved", 200, "[]"},
		{"admin", "limit=2", 200, "[a-mynumber a-nozone]"}, // newest first
		{"admin", "from=" + url.QueryEscape(t0.Add(7*time.Minute).Format(time.RFC3339)), 200, "[a-nozone]"},
		{"viewer-lgwan", "zone=mynumber", 403, ""},
		{"admin", "status=closed", 400, ""},
		{"admin", "colour=red", 400, ""},
		{"", "", 401, ""},
	} {
		status, body := f.call(t, "GET", "/api/v1/alerts?"+tc.query, tc.who, nil)
		if status != tc.status || status == 200 && fmt.Sprint(ids(body)) != tc.want {
			t.Errorf("GET alerts?%s as %q: %d %v, want %d %s", tc.query, tc.who, status, ids(body), tc.status, tc.want)
		}
		if status >= 400 && errKind(body) == "" {
			t.Errorf("GET alerts?%s: %d without an error kind: %v", tc.query, status, body)
		}
	}
	if _, body := f.call(t, "GET", "/api/v1/alerts?limit=2", "admin", nil); body["truncated"] != true {
		t.Errorf("limit 2 of 3: truncated is %v", body["truncated"])
	}

	// One alert: hidden ones are not found, for reading or acting.
	if status, _ := f.call(t, "GET", "/api/v1/alerts/a-mynumber", "viewer-lgwan", nil); status != 404 {
		t.Errorf("viewer without mynumber reads a mynumber alert: %d, want 404", status)
	}
	if status, _ := f.call(t, "GET", "/api/v1/alerts/no-such", "admin", nil); status != 404 {
		t.Errorf("unknown alert: %d, want 404", status)
	}
	status, body := f.call(t, "GET", "/api/v1/alerts/a-mynumber", "admin", nil)
	if status != 200 || body["status"] != "open" || body["rule_id"] != "ZW-T-002" || fmt.Sprint(body["zones"]) != "[lgwan mynumber]" {
		t.Errorf("admin reads a-mynumber: %d %v", status, body)
	}

	// Hostile ids and parameters are parameters, never SQL: nothing found, nothing touched.
	for _, id := range []string{"a-lgwan' OR '1'='1", "a-mynumber\x00", "%27%3B DROP TABLE alerts; --", "a-lgwan/../a-mynumber"} {
		if status, body := f.call(t, "GET", "/api/v1/alerts/"+url.PathEscape(id), "viewer-lgwan", nil); status != 404 {
			t.Errorf("GET alert %q: %d %v, want 404", id, status, body)
		}
		if status, _ := f.call(t, "POST", "/api/v1/alerts/"+url.PathEscape(id)+"/ack", "analyst-lgwan", nil); status != 404 {
			t.Errorf("ack alert %q: %d, want 404", id, status)
		}
	}
	if status, body := f.call(t, "GET", "/api/v1/alerts?rule="+url.QueryEscape("ZW-T-001' OR 1=1 --"), "admin", nil); status != 200 || len(ids(body)) != 0 {
		t.Errorf("hostile rule parameter: %d %v, want 200 and no alerts", status, ids(body))
	}

	// Acting: roles, transitions, who from the token.
	steps := []struct {
		who, id, action, body string
		status                int
		want                  string // status after, or error kind
	}{
		{"viewer-all", "a-lgwan", "ack", `{"comment": "mine"}`, 403, "forbidden"},
		{"analyst-lgwan", "a-mynumber", "ack", `{}`, 404, "not_found"},
		{"analyst-lgwan", "a-lgwan", "resolve", `{"comment": "skip the ack"}`, 409, "conflict"},
		{"analyst-lgwan", "a-lgwan", "ack", `{"comment": "looking", "who": "someone else"}`, 400, "bad_request"},
		{"analyst-lgwan", "a-lgwan", "ack", `{"comment": "見ています"}`, 200, "acknowledged"},
		{"admin", "a-lgwan", "ack", ``, 409, "conflict"},
		{"analyst-lgwan", "a-lgwan", "resolve", `{"comment": "false positive: backup job"}`, 200, "resolved"},
		{"analyst-lgwan", "a-lgwan", "resolve", `{}`, 409, "conflict"},
		{"admin", "a-lgwan", "reopen", `{"comment": "happened again"}`, 200, "open"},
		{"admin", "a-nozone", "reopen", `{}`, 409, "conflict"},
		{"admin", "a-nozone", "ack", `{"comment": "` + strings.Repeat("x", 4001) + `"}`, 413, "too_large"},
	}
	for _, s := range steps {
		status, body := f.call(t, "POST", "/api/v1/alerts/"+s.id+"/"+s.action, s.who, s.body)
		got := errKind(body)
		if status == 200 {
			got, _ = body["status"].(string)
			if body["status_by"] != s.who {
				t.Errorf("%s %s by %s: status_by %v", s.action, s.id, s.who, body["status_by"])
			}
		}
		if status != s.status || got != s.want {
			t.Errorf("%s %s by %s: %d %s (%v), want %d %s", s.action, s.id, s.who, status, got, body, s.status, s.want)
		}
	}
	// The history is append-only and says who did what, with the comments, in order.
	status, body = f.call(t, "GET", "/api/v1/alerts/a-lgwan", "viewer-lgwan", nil)
	if status != 200 {
		t.Fatalf("read a-lgwan: %d %v", status, body)
	}
	var hist []string
	for _, h := range body["history"].([]any) {
		m := h.(map[string]any)
		hist = append(hist, fmt.Sprintf("%s/%s/%s", m["action"], m["who"], m["comment"]))
	}
	want := "[acknowledge/analyst-lgwan/見ています resolve/analyst-lgwan/false positive: backup job open/admin/happened again]"
	if fmt.Sprint(hist) != want || body["status"] != "open" || body["status_by"] != "admin" {
		t.Errorf("a-lgwan: status %v by %v, history %v, want %s", body["status"], body["status_by"], hist, want)
	}
	var rows, mynumberRows uint64
	if err := f.conn.QueryRow(t.Context(), "SELECT count(), countIf(alert_id = 'a-mynumber') FROM "+f.db+".alert_actions").Scan(&rows, &mynumberRows); err != nil {
		t.Fatal(err)
	}
	if rows != 3 || mynumberRows != 0 {
		t.Errorf("alert_actions holds %d rows (%d for a-mynumber), want 3 (0): refused actions must write nothing", rows, mynumberRows)
	}
	// Listing by status follows the workflow.
	if _, body := f.call(t, "GET", "/api/v1/alerts?status=open", "admin", nil); fmt.Sprint(ids(body)) != "[a-lgwan a-mynumber a-nozone]" {
		t.Errorf("open after reopen: %v", ids(body))
	}
	// Every action request was audited, refused or not, with the token's principal.
	var acts []string
	for _, r := range f.audit.Records() {
		if strings.HasPrefix(r.Endpoint, "alert.") {
			acts = append(acts, fmt.Sprintf("%s:%s:%d", r.Endpoint, r.Principal, r.Status))
		}
	}
	if len(acts) != 4+len(steps) { // the hostile acks, then the steps
		t.Fatalf("audited actions %v", acts)
	}
	if acts = acts[4:]; acts[4] != "alert.ack:analyst-lgwan:200" || acts[0] != "alert.ack:viewer-all:403" {
		t.Errorf("audited actions %v", acts)
	}
}

func TestRulesStatus(t *testing.T) {
	f := newFixture(t)
	f.alert(t, "r1", "ZW-T-001", "high", []string{"lgwan"}, 4)
	f.alert(t, "r2", "ZW-T-001", "high", []string{"internet", "lgwan"}, 6)
	f.alert(t, "r3", "ZW-T-002", "critical", []string{"mynumber"}, 10)
	f.action(t, "r2", "acknowledge")
	type rule struct {
		status                   string
		alerts, hits, open, acks float64
	}
	get := func(who string) map[string]rule {
		status, body := f.call(t, "GET", "/api/v1/rules", who, nil)
		if status != 200 || body["loaded"] != true {
			t.Fatalf("rules as %s: %d %v", who, status, body)
		}
		out := map[string]rule{}
		for _, r := range body["rules"].([]any) {
			m := r.(map[string]any)
			out[m["rule_id"].(string)] = rule{m["status"].(string), m["alerts"].(float64), m["hits"].(float64), m["open"].(float64), m["acknowledged"].(float64)}
		}
		return out
	}
	all := get("admin")
	want := map[string]rule{
		"ZW-T-001": {"enabled", 2, 10, 1, 1},
		"ZW-T-002": {"not_loaded", 1, 10, 1, 0},
		"ZW-T-003": {"disabled", 0, 0, 0, 0},
	}
	if fmt.Sprint(all) != fmt.Sprint(want) {
		t.Errorf("rules as admin:\n%v\nwant\n%v", all, want)
	}
	// A viewer without mynumber counts only the alerts it may see.
	scoped := get("viewer-lgwan")
	delete(want, "ZW-T-002") // not listed at all: no visible alert, and not a loaded rule
	if fmt.Sprint(scoped) != fmt.Sprint(want) {
		t.Errorf("rules as viewer-lgwan:\n%v\nwant\n%v", scoped, want)
	}
}
