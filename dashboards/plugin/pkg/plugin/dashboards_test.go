package plugin_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
)

// dashboardsDir holds the provisioned dashboards (deploy/grafana/provisioning/dashboards points there).
const dashboardsDir = "../../../json"

type dashboard struct {
	UID         string `json:"uid"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Templating  struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Datasource json.RawMessage `json:"datasource"`
			Query      json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Name       string          `json:"name"`
			Datasource json.RawMessage `json:"datasource"`
			Target     json.RawMessage `json:"target"`
		} `json:"list"`
	} `json:"annotations"`
	Panels []struct {
		Title       string            `json:"title"`
		Description string            `json:"description"`
		Datasource  json.RawMessage   `json:"datasource"`
		Targets     []json.RawMessage `json:"targets"`
	} `json:"panels"`
}

var dsRef = `{"type":"zonewatch-zonewatch-datasource","uid":"zonewatch"}`

func sameJSON(a json.RawMessage, b string) bool {
	var x, y any
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal([]byte(b), &y)
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return string(xb) == string(yb)
}

func japanese(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana) }) >= 0
}

var varRef = regexp.MustCompile(`\$(\w+)`)

// interpolate replaces dashboard variables the way the frontend does with All selected: in a
// filter, a list literal of every value; in other fields, the values joined by commas.
func interpolate(model map[string]any, vars map[string][]string) {
	for k, v := range model {
		s, ok := v.(string)
		if !ok {
			continue
		}
		model[k] = varRef.ReplaceAllStringFunc(s, func(ref string) string {
			vals, ok := vars[ref[1:]]
			if !ok {
				return ref
			}
			if k != "filter" {
				return strings.Join(vals, ",")
			}
			q := make([]string, len(vals))
			for i, v := range vals {
				q[i] = strconv.Quote(v)
			}
			return "[" + strings.Join(q, ", ") + "]"
		})
	}
}

// testDashboards loads every dashboard and runs each variable, panel target and annotation
// through QueryData against the loaded database, as an admin and as a viewer: an admin's queries
// must all succeed; a viewer's may only be refused for a zone or a role, with the reason.
func testDashboards(t *testing.T, _ *fixture, ds *plugin.Datasource) {
	files, err := filepath.Glob(filepath.Join(dashboardsDir, "*.json"))
	if err != nil || len(files) < 6 {
		t.Fatalf("dashboards in %s: %v %v, want the six of issue 8", dashboardsDir, files, err)
	}
	uids := map[string]string{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if prev, dup := uids[d.UID]; dup || d.UID == "" {
				t.Errorf("uid %q empty or also in %s", d.UID, prev)
			}
			uids[d.UID] = file
			if !japanese(d.Title) || d.Description == "" {
				t.Errorf("title %q must be Japanese and the description set", d.Title)
			}
			for _, u := range []*backend.User{admin, viewer} {
				runDashboard(t, ds, &d, u)
			}
		})
	}
}

func runDashboard(t *testing.T, ds *plugin.Datasource, d *dashboard, u *backend.User) {
	vars := map[string][]string{}
	runTarget := func(where string, raw json.RawMessage) *backend.DataResponse {
		var model map[string]any
		if err := json.Unmarshal(raw, &model); err != nil {
			t.Fatalf("%s: target %s: %v", where, raw, err)
		}
		if dsm, ok := model["datasource"]; ok {
			b, _ := json.Marshal(dsm)
			if !sameJSON(b, dsRef) {
				t.Errorf("%s: target datasource %s, want %s", where, b, dsRef)
			}
		}
		interpolate(model, vars)
		r := run(t, ds, u, model, 5*time.Minute)
		if r.Error != nil {
			msg := r.Error.Error()
			if u == admin || r.Status != backend.StatusForbidden || !strings.Contains(msg, "mynumber") && !strings.Contains(msg, "role") {
				t.Errorf("%s as %s: %v (status %v)", where, u.Login, r.Error, r.Status)
			}
			return nil
		}
		if len(r.Frames) == 0 {
			t.Errorf("%s as %s: no frame", where, u.Login)
		}
		return &r
	}
	for _, v := range d.Templating.List {
		switch v.Type {
		case "query":
			if !sameJSON(v.Datasource, dsRef) {
				t.Errorf("variable %s: datasource %s", v.Name, v.Datasource)
			}
			r := runTarget("variable "+v.Name, v.Query)
			if r == nil {
				continue
			}
			vals := strs(r.Frames[0].Fields[0])
			if len(vals) == 0 {
				t.Errorf("variable %s has no values", v.Name)
			}
			vars[v.Name] = vals
		case "adhoc":
			if !sameJSON(v.Datasource, dsRef) {
				t.Errorf("ad hoc variable %s: datasource %s", v.Name, v.Datasource)
			}
		}
	}
	for _, a := range d.Annotations.List {
		if len(a.Target) == 0 {
			continue // Grafana's built-in annotations
		}
		if r := runTarget("annotation "+a.Name, a.Target); r != nil {
			fr := r.Frames[0]
			for _, name := range []string{"time", "timeEnd", "title", "text", "tags"} {
				if _, i := fr.FieldByName(name); i < 0 {
					t.Errorf("annotation %s: no %s field", a.Name, name)
				}
			}
		}
	}
	for _, p := range d.Panels {
		where := "panel " + p.Title
		if !japanese(p.Title) || p.Description == "" || japanese(p.Description) {
			t.Errorf("%s: Japanese title and English description wanted (description %q)", where, p.Description)
		}
		if !sameJSON(p.Datasource, dsRef) || len(p.Targets) == 0 {
			t.Errorf("%s: datasource %s, %d targets", where, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			r := runTarget(where, tg)
			if r == nil || u != admin {
				continue
			}
			// Every panel shows something over the simulated period, but those whose data the
			// fixture has none of: no alert was worked on, and the default configuration names no
			// hosts (destination.host).
			if rows := framesRows(r.Frames); rows == 0 && !slices.Contains([]string{"対応中", "解決済み", "越境の宛先ホスト上位"}, p.Title) {
				t.Errorf("%s: no rows over the simulated period", where)
			}
		}
	}
}

func framesRows(fs data.Frames) int {
	n := 0
	for _, f := range fs {
		if r, err := f.RowLen(); err == nil {
			n += r
		}
	}
	return n
}
