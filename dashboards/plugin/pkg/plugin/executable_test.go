package plugin_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
)

// testExecutable builds the backend executable and starts it the way Grafana does: go-plugin's
// client with the SDK's handshake (magic cookie, protocol version 2, gRPC), the plugin set names
// Grafana dispenses (diagnostics, data), and pluginv2 requests carrying the data source's settings
// in the PluginContext. CheckHealth and QueryData then go through the real binary and protocol.
func testExecutable(t *testing.T, f *fixture, _ *plugin.Datasource) {
	bin := filepath.Join(t.TempDir(), "gpx_zonewatch_linux_amd64")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/zonewatch/zonewatch/dashboards/plugin/pkg")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build the backend: %v\n%s", err, out)
	}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
		}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s through go-plugin: %v", bin, err)
	}
	raw, err := rpc.Dispense("diagnostics")
	if err != nil {
		t.Fatal(err)
	}
	diag := raw.(grpcplugin.DiagnosticsClient)
	raw, err = rpc.Dispense("data")
	if err != nil {
		t.Fatal(err)
	}
	dataClient := raw.(grpcplugin.DataClient)
	raw, err = rpc.Dispense("resource")
	if err != nil {
		t.Fatal(err)
	}
	resourceClient := raw.(grpcplugin.ResourceClient)

	s := f.settings(t, nil)
	pctx := &pluginv2.PluginContext{
		OrgId: 1, PluginId: plugin.PluginID,
		User: &pluginv2.User{Login: "viewer1", Role: "Viewer"},
		DataSourceInstanceSettings: &pluginv2.DataSourceInstanceSettings{
			Id: 1, Uid: s.UID, Name: s.Name, JsonData: s.JSONData, DecryptedSecureJsonData: s.DecryptedSecureJSONData,
			LastUpdatedMS: time.Now().UnixMilli(),
		},
	}
	health, err := diag.CheckHealth(t.Context(), &pluginv2.CheckHealthRequest{PluginContext: pctx})
	if err != nil {
		t.Fatalf("CheckHealth over gRPC: %v", err)
	}
	if health.Status != pluginv2.CheckHealthResponse_OK || !strings.Contains(health.Message, "database "+f.db) {
		t.Errorf("CheckHealth over gRPC = %v %q", health.Status, health.Message)
	}

	q := func(refID string, model map[string]any) *pluginv2.DataQuery {
		b, _ := json.Marshal(model)
		return &pluginv2.DataQuery{RefId: refID, Json: b, IntervalMS: time.Hour.Milliseconds(),
			TimeRange: &pluginv2.TimeRange{FromEpochMS: simFrom.UnixMilli(), ToEpochMS: simTo.UnixMilli()}}
	}
	resp, err := dataClient.QueryData(t.Context(), &pluginv2.QueryDataRequest{PluginContext: pctx, Queries: []*pluginv2.DataQuery{
		q("A", map[string]any{"queryType": "timeseries"}),
		q("B", map[string]any{"queryType": "timeseries", "filter": `source.zone == "mynumber"`}),
	}})
	if err != nil {
		t.Fatalf("QueryData over gRPC: %v", err)
	}
	a := resp.Responses["A"]
	if a == nil || a.Error != "" {
		t.Fatalf("query A over gRPC: no response or error %q", a.GetError())
	}
	frames, err := data.UnmarshalArrowFrames(a.Frames)
	if err != nil || len(frames) != 1 {
		t.Fatalf("query A frames: %v (%d)", err, len(frames))
	}
	// The viewer's count through the binary equals SQL's count without mynumber.
	var got int64
	vals := field(t, frames[0], "events", data.FieldTypeInt64)
	for i := range vals.Len() {
		got += vals.At(i).(int64)
	}
	if want := int64(f.count(t, "SELECT count() FROM events WHERE "+noMynumber+" AND "+inRange())); got != want {
		t.Errorf("viewer events over gRPC = %d, SQL says %d", got, want)
	}
	if b := resp.Responses["B"]; b == nil || b.Status != 403 || !strings.Contains(b.Error, "mynumber") {
		if b == nil {
			t.Fatal("no response B over gRPC")
		}
		t.Errorf("viewer's mynumber query over gRPC: status %d error %q (%d frames), want 403 naming the zone", b.Status, b.Error, len(b.Frames))
	}

	// The query editor's validation through the binary.
	stream, err := resourceClient.CallResource(t.Context(), &pluginv2.CallResourceRequest{PluginContext: pctx, Path: "validate", Method: "POST", Url: "validate",
		Body: []byte(`{"filter": "source.zone == \"lgwan\" &&"}`)})
	if err != nil {
		t.Fatalf("CallResource over gRPC: %v", err)
	}
	res, err := stream.Recv()
	if err != nil {
		t.Fatalf("CallResource over gRPC: %v", err)
	}
	var v plugin.ValidateResponse
	if err := json.Unmarshal(res.Body, &v); err != nil || res.Code != 200 || v.Valid || v.Line != 1 || v.Message == "" {
		t.Errorf("validate over gRPC: %d %s", res.Code, res.Body)
	}
}
