package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
	"github.com/zonewatch/zonewatch/query/api"
)

// TestServeMountsTheQueryAPI checks the API as serve runs it: tokens from a file, zone scopes, and an
// audit row for every query.
func TestServeMountsTheQueryAPI(t *testing.T) {
	conn, db := chtest.NewDatabase(t)
	dir := t.TempDir()
	viewer, viewerHash := api.NewToken()
	analyst, analystHash := api.NewToken()
	tokens := filepath.Join(dir, "tokens")
	body := fmt.Sprintf("%s soc-viewer viewer lgwan,internet\n%s soc-analyst analyst *\n", viewerHash, analystHash)
	if err := os.WriteFile(tokens, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, dir, db)
	cfg.API.TokensFile = tokens
	info, stop := startServe(t, cfg, dir)
	defer stop()

	c, err := net.Dial("tcp", info.Listeners["syslog-tcp/tcp"])
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for _, src := range []string{"10.10.1.5", "10.20.2.5"} { // one from mynumber, one from lgwan
		msg := fmt.Sprintf(`<134>1 %s fw - - - - srcip=%s dstip=10.30.1.9 dstport=443 action="deny"`, now.Format(time.RFC3339), src)
		fmt.Fprintf(c, "%d %s", len(msg), msg)
	}
	_ = c.Close()
	waitCount(t, conn, 2, "SELECT count() FROM events")

	q := url.Values{"from": {now.Add(-time.Hour).Format(time.RFC3339)}, "to": {now.Add(time.Hour).Format(time.RFC3339)}}
	get := func(token, path string) (int, map[string]any) {
		req, _ := http.NewRequest("GET", "http://"+info.API+path+"?"+q.Encode(), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	zones := func(m map[string]any) string {
		b, _ := json.Marshal(m["zones"])
		return string(b)
	}
	if status, _ := get("", "/api/v1/zonepairs"); status != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", status)
	}
	if status, _ := get("zw_forged", "/api/v1/zonepairs"); status != http.StatusUnauthorized {
		t.Errorf("forged token: %d, want 401", status)
	}
	status, m := get(viewer, "/api/v1/zonepairs")
	if status != http.StatusOK || strings.Contains(zones(m), "mynumber") || !strings.Contains(zones(m), "lgwan") {
		t.Errorf("viewer scoped to lgwan,internet: %d %v", status, m)
	}
	if status, _ := get(viewer, "/api/v1/search"); status != http.StatusForbidden {
		t.Errorf("viewer searching raw events: %d, want 403", status)
	}
	status, m = get(analyst, "/api/v1/zonepairs")
	if status != http.StatusOK || !strings.Contains(zones(m), "mynumber") {
		t.Errorf("analyst with every zone: %d %v", status, m)
	}
	waitCount(t, conn, 5, "SELECT count() FROM audit")
}
