package plugin_test

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
)

const provisioning = "../../../../deploy/grafana/provisioning/"

// TestProvisioning checks that the provisioned data source is the one the dashboards name and
// that its settings are what the backend accepts, and that the dashboard provider reads files.
func TestProvisioning(t *testing.T) {
	b, err := os.ReadFile(provisioning + "datasources/zonewatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type string
			JSONData        map[string]any    `yaml:"jsonData"`
			SecureJSONData  map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources provisioning: %+v", ds)
	}
	d := ds.Datasources[0]
	if d.UID != "zonewatch" || d.Type != plugin.PluginID {
		t.Errorf("data source uid %q type %q, want zonewatch and %s", d.UID, d.Type, plugin.PluginID)
	}
	js, err := json.Marshal(d.JSONData)
	if err != nil {
		t.Fatal(err)
	}
	st, err := plugin.ParseSettings(backend.DataSourceInstanceSettings{Name: d.Name, JSONData: js, DecryptedSecureJSONData: d.SecureJSONData})
	if err != nil {
		t.Fatalf("the provisioned settings do not parse: %v", err)
	}
	if st.Address == "" || st.Database != "zonewatch" || slices.Contains(st.ViewerZones, "mynumber") {
		t.Errorf("provisioned settings %+v", st)
	}
	for k := range d.SecureJSONData {
		if !slices.Contains([]string{"password", "tlsCACert", "tlsClientCert", "tlsClientKey"}, k) {
			t.Errorf("secureJsonData.%s is not read by the backend", k)
		}
	}
	b, err = os.ReadFile(provisioning + "dashboards/zonewatch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var prov struct {
		Providers []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	if err := yaml.Unmarshal(b, &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provider %+v, want one file provider with a path", prov)
	}
}

// TestSettings: defaults, and settings refused with the key that is wrong.
func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		json string
		err  string
	}{
		{`{}`, "address is empty"},
		{`{"address": "nohost"}`, "not host:port"},
		{`{"address": "h:9000", "roleMap": {"Viewer": "boss"}}`, "roleMap.Viewer"},
		{`{"address": "h:9000", "zoneScopes": {"x": ["mars"]}}`, "zoneScopes.x"},
		{`{"address": "h:9000", "defaultCalendar": "night"}`, "defaultCalendar"},
		{`{"address": "h:9000", "calendars": {"c": {"kind": "weird"}}, "defaultCalendar": "c"}`, "calendars"},
		{`{"address": "h:9000", "tls": true}`, ""},
		{`{"address": "h:9000"}`, ""},
	} {
		st, err := plugin.ParseSettings(backend.DataSourceInstanceSettings{Name: "zw", JSONData: []byte(tc.json)})
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.json, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one naming %q", tc.json, err, tc.err)
		case tc.err == "":
			if st.Database != "zonewatch" || st.RoleMap["Editor"] != "analyst" || !slices.Equal(st.ViewerZones, []string{"lgwan", "internet"}) {
				t.Errorf("%s: defaults %+v", tc.json, st)
			}
		}
	}
	// Requests without a user (alert rules) read backgroundZones.
	bg, err := plugin.ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"address": "h:9000", "backgroundZones": ["*"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := bg.Identify(nil); id.Role != "viewer" || len(id.Hidden) != 0 {
		t.Errorf("background identity %+v, want viewer with every zone", id)
	}
	if _, err := plugin.ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"address": "h:9000", "viewerZones": ["lgwan", "moon"]}`)}); err == nil || !strings.Contains(err.Error(), "moon") {
		t.Errorf("viewerZones with an unknown zone: %v", err)
	}
	// Identities: the contract's rules.
	st, err := plugin.ParseSettings(backend.DataSourceInstanceSettings{JSONData: []byte(`{"address": "h:9000", "zoneScopes": {"mn": ["mynumber"]}}`)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user   *backend.User
		role   string
		hidden []string
	}{
		{&backend.User{Login: "v", Role: "Viewer"}, "viewer", []string{"mynumber"}},
		{&backend.User{Login: "e", Role: "Editor"}, "analyst", []string{"mynumber"}},
		{&backend.User{Login: "a", Role: "Admin"}, "admin", nil},
		{&backend.User{Login: "mn", Role: "Viewer"}, "viewer", []string{"lgwan", "internet"}},
		{nil, "viewer", []string{"mynumber"}},
	} {
		id, err := st.Identify(tc.user)
		if err != nil || string(id.Role) != tc.role || !slices.Equal(id.Hidden, tc.hidden) {
			t.Errorf("Identify(%+v) = %+v, %v; want role %s hidden %v", tc.user, id, err, tc.role, tc.hidden)
		}
	}
}

// TestBrokenSettings: a data source whose settings are wrong still answers, with what to fix.
func TestBrokenSettings(t *testing.T) {
	inst, err := plugin.NewDatasource(t.Context(), backend.DataSourceInstanceSettings{Name: "zw", JSONData: []byte(`{"address": "h:9000", "roleMap": {"Viewer": "boss"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	ds := inst.(*plugin.Datasource)
	defer ds.Dispose()
	const want = `roleMap.Viewer: "boss" is not a zonewatch role`
	res, err := ds.CheckHealth(t.Context(), &backend.CheckHealthRequest{})
	if err != nil || res.Status != backend.HealthStatusError || !strings.Contains(res.Message, want) {
		t.Errorf("CheckHealth = %+v, %v; want an error saying %q", res, err, want)
	}
	resp, err := ds.QueryData(t.Context(), &backend.QueryDataRequest{Queries: []backend.DataQuery{{RefID: "A", JSON: []byte(`{}`)}}})
	if err != nil || resp.Responses["A"].Error == nil || !strings.Contains(resp.Responses["A"].Error.Error(), want) {
		t.Errorf("QueryData = %+v, %v; want an error saying %q", resp, err, want)
	}
	var body []byte
	_ = ds.CallResource(t.Context(), &backend.CallResourceRequest{Path: "fields", Method: "GET"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { body = r.Body; return nil }))
	if !strings.Contains(string(body), "not a zonewatch role") {
		t.Errorf("CallResource body %s", body)
	}
}
