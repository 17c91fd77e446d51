package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// collect keeps copies of every line.
type collect struct {
	lines []Line
}

func (c *collect) Send(_ context.Context, l *Line) error {
	cp := *l
	cp.Wire = bytes.Clone(l.Wire)
	c.lines = append(c.lines, cp)
	return nil
}

func (c *collect) Close() error { return nil }

func day(s string) time.Time {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d.Time(0, 0)
}

// run caches runs shared by several tests.
var runs sync.Map

type result struct {
	sim   *Simulator
	lines []Line
	truth []Incident
}

// weekend: Fri 2026-11-27 … Mon 2026-11-30 00:00, contains office hours, a
// Sunday 03:00 and every shift platoon's duty.
func runWeekend(t testing.TB) *result {
	t.Helper()
	if r, ok := runs.Load("weekend"); ok {
		return r.(*result)
	}
	from := day("2026-11-27")
	s, err := New(Options{Seed: 7, From: from, To: from.Add(72 * time.Hour), Incidents: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{}
	tw := NewTruthWriter(&bytes.Buffer{}, s.Incidents())
	if err := s.Run(context.Background(), MultiSink{c, tw}); err != nil {
		t.Fatal(err)
	}
	r := &result{sim: s, lines: c.lines, truth: tw.Incidents()}
	runs.Store("weekend", r)
	return r
}

func hashRun(t *testing.T, opts Options) (string, uint64) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var truth bytes.Buffer
	tw := NewTruthWriter(&truth, s.Incidents())
	d := &DiscardSink{}
	w := NewWriterSink(h)
	if err := s.Run(context.Background(), MultiSink{w, tw, d}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	tw.Close()
	h.Write(truth.Bytes())
	return hex.EncodeToString(h.Sum(nil)), d.Lines
}

func TestDeterministic(t *testing.T) {
	from := day("2026-11-02")
	opts := Options{Seed: 42, From: from.Add(8 * time.Hour), To: from.Add(14 * time.Hour), Incidents: true}
	a, n := hashRun(t, opts)
	b, _ := hashRun(t, opts)
	if a != b {
		t.Fatalf("same seed, different output: %s vs %s", a, b)
	}
	if n < 1000 {
		t.Fatalf("only %d lines in 6 office hours", n)
	}
	opts.Seed = 43
	if c, _ := hashRun(t, opts); c == a {
		t.Fatal("different seeds gave identical output")
	}
	// The same org loaded from its YAML gives the same bytes.
	opts.Seed = 42
	o, err := LoadOrg("default_org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts.Org = o
	if d, _ := hashRun(t, opts); d != a {
		t.Fatal("LoadOrg(default_org.yaml) differs from DefaultOrg()")
	}
}

func TestIncidentsAppear(t *testing.T) {
	r := runWeekend(t)
	wantKinds := []string{KindMynumberCrossZone, KindLGWANInternetDirect, KindProxyBypass, KindOffHoursLogin, KindShiftNightLogin,
		KindPortScan, KindSSHBruteForce, KindMalwareDomain, KindLargeUpload, KindSourceSilent}
	byKind := map[string]Incident{}
	for _, in := range r.truth {
		byKind[in.Kind] = in
	}
	for _, k := range wantKinds {
		if _, ok := byKind[k]; !ok {
			t.Errorf("kind %s not scheduled", k)
		}
	}
	labelled := map[string][]uint64{}
	for _, l := range r.lines {
		if l.Incident != "" {
			labelled[l.Incident] = append(labelled[l.Incident], l.Seq)
		}
	}
	for _, in := range r.truth {
		if in.Kind == KindSourceSilent {
			continue
		}
		if len(in.Lines) == 0 {
			t.Errorf("%s %s: no lines emitted", in.ID, in.Kind)
		}
		if got := labelled[in.ID]; !slicesEqual(got, in.Lines) {
			t.Errorf("%s: truth lines %v, labelled lines %v", in.ID, in.Lines, got)
		}
		if in.Start.After(in.End) || in.Start.IsZero() {
			t.Errorf("%s: start %s end %s", in.ID, in.Start, in.End)
		}
		if (in.Kind == KindShiftNightLogin) != in.Benign {
			t.Errorf("%s %s: benign = %v", in.ID, in.Kind, in.Benign)
		}
	}
	// Line ids are 1..n in order, times never go backwards.
	for i, l := range r.lines {
		if l.Seq != uint64(i+1) {
			t.Fatalf("line %d has seq %d", i, l.Seq)
		}
		if i > 0 && l.Time.Before(r.lines[i-1].Time) {
			t.Fatalf("line %d at %s is before line %d at %s", l.Seq, l.Time, l.Seq-1, r.lines[i-1].Time)
		}
	}
}

func slicesEqual(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func incidentLines(r *result, kind string) (Incident, []Line) {
	var in Incident
	for _, x := range r.truth {
		if x.Kind == kind {
			in = x
			break
		}
	}
	var out []Line
	for _, l := range r.lines {
		if l.Incident == in.ID && in.ID != "" {
			out = append(out, l)
		}
	}
	return in, out
}

var (
	reSrc = regexp.MustCompile(`\bSRC=(\S+)`)
	reDPT = regexp.MustCompile(`\bDPT=(\d+)`)
	reFG  = regexp.MustCompile(`\b(srcip|dstip|action|policyid)="?([^" ]+)"?`)
)

func TestIncidentShapes(t *testing.T) {
	r := runWeekend(t)
	org := r.sim.Org()

	t.Run("port_scan", func(t *testing.T) {
		in, lines := incidentLines(r, KindPortScan)
		ports := map[string]bool{}
		for _, l := range lines {
			if l.Format != FormatIptables {
				t.Fatalf("port scan line of format %s", l.Format)
			}
			if src := reSrc.FindSubmatch(l.Wire); string(src[1]) != in.SourceIP {
				t.Errorf("SRC %s, want %s", src[1], in.SourceIP)
			}
			ports[string(reDPT.FindSubmatch(l.Wire)[1])] = true
		}
		if len(ports) <= 20 {
			t.Errorf("%d distinct ports, want > 20", len(ports))
		}
		if d := in.End.Sub(in.Start); d >= time.Minute {
			t.Errorf("scan took %s, want < 1m", d)
		}
	})
	t.Run("ssh_bruteforce", func(t *testing.T) {
		in, lines := incidentLines(r, KindSSHBruteForce)
		fails := 0
		for _, l := range lines {
			if !strings.Contains(string(l.Wire), "from "+in.SourceIP) && !strings.Contains(string(l.Wire), "rhost="+in.SourceIP) {
				t.Errorf("line not from %s: %s", in.SourceIP, l.Wire)
			}
			if strings.Contains(string(l.Wire), "Failed password") {
				fails++
			}
		}
		if fails < 20 || in.End.Sub(in.Start) > 10*time.Minute {
			t.Errorf("%d failures over %s", fails, in.End.Sub(in.Start))
		}
	})
	t.Run("mynumber_cross_zone", func(t *testing.T) {
		in, lines := incidentLines(r, KindMynumberCrossZone)
		for _, l := range lines {
			m := fgFields(l.Wire)
			if l.Device != "fw-mynumber" || m["action"] != "deny" || m["srcip"] != in.SourceIP {
				t.Errorf("unexpected line %s", l.Wire)
			}
			if org.ZoneOf(netip.MustParseAddr(m["dstip"])) == "mynumber" {
				t.Errorf("destination %s inside mynumber", m["dstip"])
			}
		}
	})
	t.Run("lgwan_internet_direct", func(t *testing.T) {
		_, lines := incidentLines(r, KindLGWANInternetDirect)
		accepted := 0
		for _, l := range lines {
			m := fgFields(l.Wire)
			if z := org.ZoneOf(netip.MustParseAddr(m["srcip"])); z != "lgwan" {
				t.Errorf("source zone %s", z)
			}
			if z := org.ZoneOf(netip.MustParseAddr(m["dstip"])); z != "internet" && z != "public" {
				t.Errorf("destination zone %s", z)
			}
			if m["action"] != "deny" {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("%d accepted sessions, want 1", accepted)
		}
	})
	t.Run("proxy_bypass", func(t *testing.T) {
		in, lines := incidentLines(r, KindProxyBypass)
		for _, l := range lines {
			m := fgFields(l.Wire)
			if m["srcip"] != in.SourceIP || l.Device != "fw-internet" || org.ZoneOf(netip.MustParseAddr(m["dstip"])) != "public" {
				t.Errorf("unexpected line %s", l.Wire)
			}
			for _, p := range org.Hosts {
				if p.Role == RoleProxy && p.IP == m["srcip"] {
					t.Errorf("bypass line comes from proxy %s", p.Name)
				}
			}
		}
	})
	t.Run("malware_domain", func(t *testing.T) {
		_, lines := incidentLines(r, KindMalwareDomain)
		for _, l := range lines {
			if l.Format == FormatFortiGate {
				continue
			}
			w := string(l.Wire)
			if !strings.Contains(w, "dl.malware-c2.example") {
				t.Errorf("line without the malware domain: %s", w)
			}
			if l.Format == FormatIFilter && !strings.Contains(w, " block 9001 ") {
				t.Errorf("i-FILTER line not blocked as malware: %s", w)
			}
			if l.Format == FormatSquid && !strings.Contains(w, "TCP_DENIED/403") {
				t.Errorf("squid line not denied: %s", w)
			}
		}
	})
	t.Run("large_upload", func(t *testing.T) {
		_, lines := incidentLines(r, KindLargeUpload)
		big := false
		for _, l := range lines {
			m := reSent.FindSubmatch(l.Wire)
			if m != nil {
				n, _ := strconv.ParseInt(string(m[1]), 10, 64)
				big = big || n > 100<<20
			}
			if l.Format == FormatIFilter {
				f := strings.Fields(string(l.Wire))
				n, _ := strconv.ParseInt(f[7], 10, 64)
				big = big || n > 100<<20
			}
		}
		if !big {
			t.Error("no line shows more than 100 MiB sent")
		}
	})
	t.Run("source_silent", func(t *testing.T) {
		in, _ := incidentLines(r, KindSourceSilent)
		before, during, after := 0, 0, 0
		for _, l := range r.lines {
			if l.Device != in.Device {
				continue
			}
			switch {
			case l.Time.Before(in.Start):
				before++
			case l.Time.Before(in.End):
				during++
			default:
				after++
			}
		}
		if during != 0 || before == 0 || after == 0 {
			t.Errorf("%s: %d lines before, %d during, %d after the silence", in.Device, before, during, after)
		}
	})
	t.Run("off_hours_login", func(t *testing.T) {
		in, lines := incidentLines(r, KindOffHoursLogin)
		u, _ := org.User(in.User)
		cal, _ := org.CalendarSet().Get(u.Calendar)
		if cal.Kind() != calendar.KindOffice {
			t.Fatalf("off-hours user %s has a %s calendar", u.Name, cal.Kind())
		}
		lt := in.Start.In(tokyo())
		if lt.Weekday() != time.Sunday || lt.Hour() != 3 {
			t.Errorf("login at %s, want Sunday 03:xx", lt)
		}
		for _, l := range lines {
			if cal.OnDuty(l.Time) {
				t.Errorf("line %d at %s is on duty for %s", l.Seq, l.Time, u.Name)
			}
		}
		ben, blines := incidentLines(r, KindShiftNightLogin)
		bu, _ := org.User(ben.User)
		bcal, _ := org.CalendarSet().Get(bu.Calendar)
		if bcal.Kind() != calendar.KindShift || len(blines) == 0 {
			t.Fatalf("benign user %s calendar %s, %d lines", bu.Name, bcal.Kind(), len(blines))
		}
		for _, l := range blines {
			if !bcal.OnDuty(l.Time) {
				t.Errorf("benign line %d at %s is off duty for %s: %s", l.Seq, l.Time, bu.Name, bcal.Explain(l.Time))
			}
		}
		if ben.Start.In(tokyo()).Hour() != 3 {
			t.Errorf("benign login at %s, want 03:xx", ben.Start)
		}
	})
}

var reSent = regexp.MustCompile(`\bsentbyte=(\d+)`)

// fgField returns an unquoted key=value field of a FortiGate line.
func fgField(wire []byte, key string) string {
	i := bytes.Index(wire, []byte(" "+key+"="))
	if i < 0 {
		return ""
	}
	v := wire[i+len(key)+2:]
	if j := bytes.IndexByte(v, ' '); j >= 0 {
		v = v[:j]
	}
	return string(bytes.Trim(v, `"`))
}

func fgFields(wire []byte) map[string]string {
	m := map[string]string{}
	for _, x := range reFG.FindAllSubmatch(wire, -1) {
		m[string(x[1])] = string(x[2])
	}
	return m
}

var (
	reGwUser  = regexp.MustCompile(` user=(\S+)`)
	reSSHUser = regexp.MustCompile(`(?:Accepted \w+ for|session opened for user|Failed password for) (\S+)`)
)

// lineUser extracts the account a line is attributed to, if any.
func lineUser(l *Line) string {
	w := string(l.Wire)
	switch l.Format {
	case FormatGateway:
		if m := reGwUser.FindStringSubmatch(w); m != nil {
			return m[1]
		}
	case FormatSSHD:
		if m := reSSHUser.FindStringSubmatch(w); m != nil && m[1] != "invalid" {
			return m[1]
		}
	case FormatSquid:
		if i := strings.Index(w, "]: "); l.Transport != TransportFile && i >= 0 {
			w = w[i+3:]
		}
		if f := strings.Fields(w); len(f) == 10 && f[7] != "-" {
			return f[7]
		}
	case FormatIFilter:
		if f := strings.Fields(w); len(f) > 4 && f[4] != "-" {
			return f[4]
		}
	}
	return ""
}

func TestCalendarsRespected(t *testing.T) {
	r := runWeekend(t)
	org := r.sim.Org()
	cals := org.CalendarSet()
	termCal := map[netip.Addr]string{}
	userCal := map[string]string{}
	for _, u := range org.Users() {
		termCal[u.Terminal] = u.Calendar
		userCal[u.Name] = u.Calendar
	}
	checked, night := 0, map[string]int{}
	for i := range r.lines {
		l := &r.lines[i]
		if l.Incident != "" {
			continue
		}
		calName := ""
		if name := lineUser(l); name != "" {
			var ok bool
			if calName, ok = userCal[name]; !ok {
				t.Fatalf("line %d names unknown user %q: %s", l.Seq, name, l.Wire)
			}
		} else if l.Format == FormatFortiGate {
			if ip, err := netip.ParseAddr(fgField(l.Wire, "srcip")); err == nil {
				calName = termCal[ip]
			}
		}
		if calName == "" {
			continue
		}
		c, _ := cals.Get(calName)
		checked++
		if !c.OnDuty(l.Time) {
			t.Fatalf("line %d at %s: calendar %s is off duty (%s): %s", l.Seq, l.Time.In(tokyo()), calName, c.Explain(l.Time), l.Wire)
		}
		if h := l.Time.In(tokyo()).Hour(); h < 6 {
			night[calName]++
		}
	}
	if checked < 10000 {
		t.Errorf("only %d user-attributed lines checked", checked)
	}
	// Every platoon works some nights in three days; the office never does.
	for _, name := range []string{"shift-1", "shift-2", "shift-3"} {
		if night[name] == 0 {
			t.Errorf("no night activity of %s", name)
		}
	}
	if night["office"] != 0 {
		t.Errorf("office has %d night lines", night["office"])
	}
}

func TestWireFormatsParse(t *testing.T) {
	r := runWeekend(t)
	p5424 := rfc5424.NewParser()
	p3164 := rfc3164.NewParser(rfc3164.WithYear(rfc3164.Year{YYYY: 2026}))
	squidRe := regexp.MustCompile(`^\d{10}\.\d{3} +\d+ \S+ [A-Z_]+/\d{3} \d+ [A-Z]+ \S+ \S+ [A-Z_]+/\S+ \S+$`)
	ifilterRe := regexp.MustCompile(`^\[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0900\] \d+ \S+ \S+ \d{3} \d+ \d+ (pass|block) \d{4} "[A-Z]+ \S+ HTTP/1\.1" "[^"]+"$`)
	counts := map[string]int{}
	skewed := 0
	for i := range r.lines {
		l := &r.lines[i]
		counts[l.Format+"/"+l.Transport]++
		switch l.Transport {
		case TransportSyslog5424:
			m, err := p5424.Parse(l.Wire)
			if err != nil {
				t.Fatalf("line %d: rfc5424: %v: %s", l.Seq, err, l.Wire)
			}
			sm := m.(*rfc5424.SyslogMessage)
			if *sm.Hostname != l.Device || !sm.Timestamp.Equal(l.Time.Truncate(time.Millisecond)) {
				t.Fatalf("line %d: host %s time %s, want %s %s", l.Seq, *sm.Hostname, sm.Timestamp, l.Device, l.Time)
			}
		case TransportSyslog3164:
			m, err := p3164.Parse(l.Wire)
			if err != nil {
				t.Fatalf("line %d: rfc3164: %v: %s", l.Seq, err, l.Wire)
			}
			sm := m.(*rfc3164.SyslogMessage)
			// The parser reads the local wall clock as UTC; a host may
			// have a skewed clock.
			var skew time.Duration
			if h, ok := r.sim.Org().Host(l.Device); ok {
				skew = h.Skew()
			}
			if skew != 0 {
				skewed++
			}
			if *sm.Hostname != l.Device || sm.Timestamp.UTC().Format(time.DateTime) != l.Time.Add(skew).In(tokyo()).Format(time.DateTime) {
				t.Fatalf("line %d: host %s time %s, want %s %s", l.Seq, *sm.Hostname, sm.Timestamp, l.Device, l.Time)
			}
			if l.Format == FormatSquid {
				if msg := *sm.Message; !squidRe.MatchString(msg) || len(strings.Fields(msg)) != 10 {
					t.Fatalf("line %d: squid message %q", l.Seq, msg)
				}
			}
		case TransportFile:
			w := string(l.Wire)
			switch l.Format {
			case FormatSquid:
				if !squidRe.MatchString(w) || len(strings.Fields(w)) != 10 {
					t.Fatalf("line %d: squid line %q", l.Seq, w)
				}
				if ts, want := strings.Fields(w)[0], strconv.FormatInt(l.Time.Unix(), 10)+l.Time.Format(".000"); ts != want {
					t.Fatalf("line %d: squid time %s, want %s", l.Seq, ts, want)
				}
			case FormatIFilter:
				if !ifilterRe.MatchString(w) {
					t.Fatalf("line %d: i-FILTER line %q", l.Seq, w)
				}
			default:
				t.Fatalf("line %d: format %s over file", l.Seq, l.Format)
			}
		default:
			t.Fatalf("line %d: transport %q", l.Seq, l.Transport)
		}
	}
	if skewed == 0 {
		t.Error("no line of the host with a skewed clock")
	}
	for _, k := range []string{"fortigate/syslog5424", "iptables/syslog3164", "sshd/syslog3164", "squid/file", "squid/syslog3164", "ifilter/file", "gateway/syslog5424"} {
		if counts[k] == 0 {
			t.Errorf("no %s lines", k)
		}
	}
	t.Logf("lines by format: %v", counts)
}

func TestRealisticVolume(t *testing.T) {
	from := day("2026-11-02") // a Monday
	s, err := New(Options{Seed: 1, From: from, To: from.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var hours [24]int
	c := &countSink{fn: func(l *Line) { hours[l.Time.In(tokyo()).Hour()]++ }}
	if err := s.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range hours {
		total += n
	}
	// ~300 staff: some hundred thousand lines on a weekday, busy by day.
	if total < 100_000 || total > 2_000_000 {
		t.Errorf("%d lines on a weekday", total)
	}
	if hours[10] < 3*hours[3] {
		t.Errorf("10:00 has %d lines, 03:00 %d: no daily rhythm", hours[10], hours[3])
	}
	t.Logf("weekday total %d, by hour %v", total, hours)
}

type countSink struct{ fn func(*Line) }

func (c *countSink) Send(_ context.Context, l *Line) error { c.fn(l); return nil }
func (c *countSink) Close() error                          { return nil }

func TestRate(t *testing.T) {
	from := day("2026-11-02").Add(3 * time.Hour)
	s, err := New(Options{Seed: 1, From: from, To: from.Add(10 * time.Second), Rate: 20000})
	if err != nil {
		t.Fatal(err)
	}
	d := &DiscardSink{}
	if err := s.Run(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	// Multi-line events (ssh, mail) push the count slightly above Rate.
	if d.Lines < 190_000 || d.Lines > 230_000 {
		t.Errorf("%d lines in 10s at rate 20000", d.Lines)
	}
}

func TestLive(t *testing.T) {
	start := time.Now()
	s, err := New(Options{Seed: 1, Live: true, To: start.Add(1500 * time.Millisecond), Rate: 200})
	if err != nil {
		t.Fatal(err)
	}
	var late []time.Duration
	n := 0
	c := &countSink{fn: func(l *Line) {
		n++
		if d := time.Since(l.Time); d < -5*time.Millisecond {
			late = append(late, d)
		}
	}}
	if err := s.Run(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("live run of 1.5s returned after %s", el)
	}
	if n < 100 {
		t.Errorf("%d lines in a live run at 200/s", n)
	}
	if len(late) > 0 {
		t.Errorf("%d lines sent before their time, e.g. %s early", len(late), -late[0])
	}
	// Cancelling ends a live run without To.
	s, _ = New(Options{Seed: 1, Live: true})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx, &DiscardSink{}); err != context.DeadlineExceeded {
		t.Errorf("open-ended live run: err = %v", err)
	}
}

func TestOptionErrors(t *testing.T) {
	from := day("2026-11-02")
	tests := []struct {
		opts Options
		want string
	}{
		{Options{From: from}, "needs both From and To"},
		{Options{From: from, To: from}, "is not after From"},
		{Options{From: from, To: from.Add(time.Hour), Rate: -1}, "rate -1"},
	}
	for _, tt := range tests {
		if _, err := New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) err = %v, want %q", tt.opts, err, tt.want)
		}
	}
}

func TestTruthJSON(t *testing.T) {
	from := day("2026-11-02")
	s, err := New(Options{Seed: 3, From: from, To: from.Add(24 * time.Hour), Incidents: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := NewTruthWriter(&buf, s.Incidents())
	if err := s.Run(context.Background(), tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(s.Incidents()) {
		t.Fatalf("%d records for %d incidents", len(lines), len(s.Incidents()))
	}
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		for _, k := range []string{"incident", "kind", "lines", "start", "end"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("record without %q: %s", k, l)
			}
		}
	}
}
