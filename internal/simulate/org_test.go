package simulate

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultOrg(t *testing.T) {
	o := DefaultOrg()
	users := o.Users()
	if n := len(users); n < 280 || n > 320 {
		t.Errorf("%d users, want about 300 staff", n)
	}
	seen := map[string]bool{}
	groups := map[string]int{}
	for _, u := range users {
		if seen[u.Name] {
			t.Errorf("duplicate user %s", u.Name)
		}
		seen[u.Name] = true
		groups[u.Group]++
		if z := o.ZoneOf(u.Terminal); z == "" || z == "public" || z == "lgwan-network" {
			t.Errorf("%s: terminal %s in zone %q", u.Name, u.Terminal, z)
		}
		for _, h := range o.Hosts {
			if h.Addr() == u.Terminal {
				t.Errorf("%s: terminal %s is host %s", u.Name, u.Terminal, h.Name)
			}
		}
	}
	for _, g := range []string{"office", "shift-1", "shift-2", "shift-3", "admins", "contractors", "mynumber", "web"} {
		if groups[g] == 0 {
			t.Errorf("group %s has no users", g)
		}
	}
	for _, tt := range []struct{ ip, zone string }{
		{"10.10.1.5", "mynumber"}, {"10.20.2.1", "lgwan"}, {"10.30.1.20", "internet"},
		{"172.16.8.20", "lgwan-network"}, {"203.0.113.5", "public"}, {"198.51.100.7", "public"}, {"8.8.8.8", ""},
	} {
		if got := o.ZoneOf(mustAddr(tt.ip)); got != tt.zone {
			t.Errorf("ZoneOf(%s) = %q, want %q", tt.ip, got, tt.zone)
		}
	}
	// Every site resolves into the documentation ranges.
	for _, s := range o.Sites {
		if o.ZoneOf(s.addr) != "public" {
			t.Errorf("site %s resolves to %s", s.Host, s.addr)
		}
	}
}

func TestOrgErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"org_bad.yaml", []string{
			`zones[1] lgwan: cidr "10.20.0.0/33"`,
			`zones: zone "internet" missing`,
			`hosts[0] fw-x: unknown zone "dmz"`,
			`hosts[1] px: proxy format "bluecoat"`,
			`groups[0] office: unknown calendar "nightly"`,
			`groups[0] office: terminals 10.10.1.1/24 is not a network address (did you mean 10.10.1.0/24?)`,
			`sites[0] a.example: unknown category "weather"`,
			`need a site with category malware`,
			`approved[0] WSUS: to "10.20.0.50"`,
			`approved[0] WSUS: port 70000 outside 1..65535`,
		}},
		{"org_unknown_key.yaml", []string{"zonez"}},
		{"missing.yaml", []string{"missing.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadOrg(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2026, 11, 2, 9, 0, 0, 0, tokyo())
	for _, s := range []string{"2026-11-02T09:00", "2026-11-02 09:00", "2026-11-02T09:00:00", "2026-11-02T00:00:00Z", "2026-11-02T09:00:00+09:00"} {
		got, err := ParseTime(s)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %s, %v", s, got, err)
		}
	}
	if d, _ := ParseTime("2026-11-02"); !d.Equal(want.Add(-9 * time.Hour)) {
		t.Errorf("date = %s", d)
	}
	if _, err := ParseTime("yesterday"); err == nil || !strings.Contains(err.Error(), `"yesterday"`) {
		t.Errorf("err = %v", err)
	}
}

func TestIncidentsPerWeek(t *testing.T) {
	from := day("2026-11-02")
	s, err := New(Options{Seed: 5, From: from, To: from.Add(14 * 24 * time.Hour), Incidents: true})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	ids := map[string]bool{}
	for _, in := range s.Incidents() {
		kinds[in.Kind]++
		if ids[in.ID] {
			t.Errorf("duplicate id %s", in.ID)
		}
		ids[in.ID] = true
	}
	for _, k := range []string{KindMynumberCrossZone, KindLGWANInternetDirect, KindProxyBypass, KindOffHoursLogin, KindShiftNightLogin,
		KindPortScan, KindSSHBruteForce, KindMalwareDomain, KindLargeUpload, KindSourceSilent} {
		if kinds[k] != 2 {
			t.Errorf("%s: %d in two weeks, want 2", k, kinds[k])
		}
	}
	if !ids["INC-0018"] || !ids["BEN-0002"] || ids["INC-0019"] {
		t.Errorf("ids not dense: %v", ids)
	}
}

// Turning incidents on adds lines and silences one device for an hour, and
// changes nothing else: the background comes from its own random stream.
func TestIncidentsDoNotDisturbBackground(t *testing.T) {
	from := day("2026-11-02").Add(6 * time.Hour)
	opts := Options{Seed: 11, From: from, To: from.Add(10 * time.Hour)}
	run := func(o Options) (*Simulator, []Line) {
		s, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		c := &collect{}
		if err := s.Run(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		return s, c.lines
	}
	_, plain := run(opts)
	opts.Incidents = true
	s, with := run(opts)
	var silent Incident
	for _, in := range s.Incidents() {
		if in.Kind == KindSourceSilent {
			silent = in
		}
	}
	var kept []Line
	for _, l := range plain {
		if l.Device == silent.Device && !l.Time.Before(silent.Start) && l.Time.Before(silent.End) {
			continue
		}
		kept = append(kept, l)
	}
	var bg []Line
	for _, l := range with {
		if l.Incident == "" {
			bg = append(bg, l)
		}
	}
	if len(kept) != len(bg) {
		t.Fatalf("background has %d lines with incidents, %d without", len(bg), len(kept))
	}
	for i := range bg {
		if string(bg[i].Wire) != string(kept[i].Wire) {
			t.Fatalf("background line %d differs:\n%s\n%s", i, bg[i].Wire, kept[i].Wire)
		}
	}
}

func TestOpenOutputs(t *testing.T) {
	dir := t.TempDir()
	from := day("2026-11-02").Add(9 * time.Hour)
	s, err := New(Options{Seed: 1, From: from, To: from.Add(8 * time.Hour), Incidents: true})
	if err != nil {
		t.Fatal(err)
	}
	addr, got := listenTCP(t)
	truth := filepath.Join(dir, "truth.jsonl")
	sink, err := OpenOutputs(context.Background(), Outputs{TCP: addr, Framing: FramingNewline, OutDir: filepath.Join(dir, "logs"), Truth: truth}, s.Incidents())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	received := <-got
	if len(received) == 0 || received[len(received)-1] != '\n' {
		t.Errorf("TCP receiver got %d bytes", len(received))
	}
	for _, p := range []string{"proxy-sq1/access.log", "proxy-if1/access.log"} {
		if st, err := os.Stat(filepath.Join(dir, "logs", p)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "logs", "syslog")); err == nil {
		t.Error("syslog capture written although TCP was given")
	}
	b, err := os.ReadFile(truth)
	if err != nil || strings.Count(string(b), "\n") != len(s.Incidents()) {
		t.Errorf("truth file: %v, %d records", err, strings.Count(string(b), "\n"))
	}
	if _, err := OpenOutputs(context.Background(), Outputs{Framing: "crlf"}, nil); err == nil {
		t.Error("bad framing accepted")
	}
}
func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
