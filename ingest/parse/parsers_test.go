package parse

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestDetection(t *testing.T) {
	p := testParsers(t)
	for _, c := range []struct {
		app, body, want string
	}{
		{"sshd", "Accepted password for a from 10.0.0.1 port 1 ssh2", "sshd"},
		{"SSHD", "Accepted password for a from 10.0.0.1 port 1 ssh2", "sshd"},
		{"", `date=2026-11-02 time=09:15:01 logid="0000000013" type="traffic" srcip=10.0.0.1`, "fortigate"},
		{"-", "[1.0] X IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 LEN=1 PROTO=TCP", "iptables"},
		{"", "1764050100.123 245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT a:443 - HIER_NONE/- -", "squid"},
		{"(squid-1)", `10.30.1.20 - - [25/Nov/2026:09:15:01 +0900] "GET http://a/ HTTP/1.1" 200 1 "-" "-" TCP_MISS:HIER_DIRECT`, "squid"},
		{"i-FILTER", ifilterCompactLine, "ifilter"},
		{"intersafe", intersafeLine, "intersafe"},
		{"", "gw=g action=file_sanitized src=10.0.0.1", "gateway"},
		// The app name is wrong: content decides.
		{"sshd", `logid="0000000013" type="traffic" srcip=10.0.0.1`, "fortigate"},
		{"", `{"a":"b"}`, "json"},
		{"", `a=1 b=2`, "kv"},
		{"cron", "(root) CMD (run-parts /etc/cron.hourly)", "syslog"},
	} {
		var e event.Event
		got, _ := p.Parse(Input{AppName: c.app, Body: c.body}, &e)
		if got != c.want || e.Meta.Module != c.want {
			t.Errorf("Parse(app %q, %q) = %q (module %q), want %q", c.app, c.body, got, e.Meta.Module, c.want)
		}
	}
}

func TestUnparsed(t *testing.T) {
	p := testParsers(t)
	for _, c := range []struct{ app, body, want string }{
		{"cron", "(root) CMD (run-parts /etc/cron.hourly)", "parse syslog: no parser recognised the body"},
		{"", "   \r\n", "parse syslog: empty body"},
		{"sshd", "Server listening on :: port 22.", `parse syslog: app name "sshd" says sshd but the body is not a sshd line I know`},
		{"", `logid=13 type=traffic srcip=` + strings.Repeat("9", 200), `parse fortigate: field srcip "` + strings.Repeat("9", 64) + `": not an IP address`},
	} {
		var e event.Event
		_, err := p.Parse(Input{AppName: c.app, Body: c.body}, &e)
		var u *Unparsed
		if !errors.As(err, &u) || err.Error() != c.want {
			t.Errorf("Parse(%q): err = %v, want %s", c.body, err, c.want)
		}
	}
}

func TestAppNamesOption(t *testing.T) {
	p, err := New(Options{AppNames: map[string]string{"FGT-HQ": "fortigate"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.appFormat("fgt-hq"); got != "fortigate" {
		t.Errorf("appFormat(fgt-hq) = %q", got)
	}
	if got := p.appFormat("sshd"); got != "sshd" {
		t.Errorf("built-in names lost: appFormat(sshd) = %q", got)
	}
}

func TestInputLoc(t *testing.T) {
	p := testParsers(t)
	var e event.Event
	utcLoc := time.UTC
	if _, err := p.Parse(Input{AppName: "intersafe", Body: intersafeLine, Loc: utcLoc}, &e); err != nil {
		t.Fatal(err)
	}
	if want := utc("2026-11-25T09:15:01Z"); !e.Timestamp.Equal(want) || e.Timestamp.Location() != time.UTC {
		t.Errorf("Timestamp = %v, want %v in UTC", e.Timestamp, want)
	}
}

func TestParseFileUnknownFormat(t *testing.T) {
	p := testParsers(t)
	err := p.ParseFile("bluecoat", "x", nil, &event.Event{})
	var u *Unparsed
	if err == nil || errors.As(err, &u) || !strings.Contains(err.Error(), `"bluecoat"`) {
		t.Errorf("err = %v, want a plain error naming the format", err)
	}
}

// TestConcurrentUse runs every benchmark input from several goroutines at once; run with -race.
func TestConcurrentUse(t *testing.T) {
	p := testParsers(t)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 50 {
				for _, in := range benchInputs {
					var e event.Event
					_, _ = p.Parse(Input{AppName: in.app, Body: in.body}, &e)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// TestKeepsCallerFields: Parse writes only what the body gives, so the envelope's fields survive.
func TestKeepsCallerFields(t *testing.T) {
	p := testParsers(t)
	e := event.Event{
		Message:  "raw body",
		Meta:     event.Meta{Severity: 6, Original: "<86>raw"},
		Observer: event.Observer{Hostname: "lg-app01"},
		Process:  event.Process{Name: "sshd"},
		Labels:   map[string]string{"charset": "shift_jis"},
	}
	if _, err := p.Parse(Input{AppName: "sshd", Body: "Failed password for root from 10.30.1.9 port 4444 ssh2"}, &e); err != nil {
		t.Fatal(err)
	}
	if e.Message != "raw body" || e.Meta.Severity != 6 || e.Meta.Original != "<86>raw" || e.Observer.Hostname != "lg-app01" ||
		e.Process.Name != "sshd" || e.Labels["charset"] != "shift_jis" || e.Labels["method"] != "password" {
		t.Errorf("caller's fields changed or labels not merged: %+v", e)
	}
}
