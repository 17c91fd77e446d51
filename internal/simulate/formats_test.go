package simulate

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
)

var update = flag.Bool("update", false, "rewrite golden files")

// formatExamples renders one line per format and variant from fixed records;
// testdata/formats.golden is the contract with the ingest parsers.
func formatExamples() []struct{ name, transport, line string } {
	t := time.Date(2026, 11, 25, 9, 15, 1, 123_000_000, tokyo())
	var st stamp
	st.set(t)
	ip := netip.MustParseAddr
	var out []struct{ name, transport, line string }
	add := func(name, transport string, b []byte) {
		out = append(out, struct{ name, transport, line string }{name, transport, string(b)})
	}
	fg := fgRecord{devname: "fw-lgwan", devid: "FG100FTK2200002", srcip: ip("10.20.2.15"), srcport: 51234, srcintf: "lan", dstip: ip("172.16.8.20"), dstport: 443, dstintf: "wan1",
		proto: 6, action: "close", service: "HTTPS", sentbyte: 2345, rcvdbyte: 34567, policyid: 12, sessionid: 123456, duration: 12}
	add("fortigate close", TransportSyslog5424, appendFortiGate(nil, &st, t, &fg))
	fg.action, fg.policyid, fg.dstip, fg.srcip, fg.devname, fg.devid = "deny", 0, ip("10.30.0.21"), ip("10.10.1.5"), "fw-mynumber", "FG60FTK2100001"
	add("fortigate deny", TransportSyslog5424, appendFortiGate(nil, &st, t, &fg))
	fg = fgRecord{devname: "fw-internet", devid: "FG100FTK2200003", srcip: ip("203.0.113.88"), srcport: 49505, srcintf: "wan1", dstip: ip("10.30.0.21"), dstport: 443, dstintf: "lan",
		proto: 6, action: "close", service: "HTTPS", sentbyte: 900, rcvdbyte: 95860, policyid: 3, sessionid: 172191491, duration: 15}
	add("fortigate inbound", TransportSyslog5424, appendFortiGate(nil, &st, t, &fg))

	ipt := ipRecord{host: "lg-file01", uptime: 1234567123456 * time.Microsecond, in: "eth0", mac: macOf("lg-file01", ip("10.20.2.15")), src: ip("10.20.2.15"), dst: ip("10.20.0.41"),
		proto: "TCP", spt: 51234, dpt: 23, length: 60, ttl: 64, id: 54321}
	add("iptables tcp", TransportSyslog3164, appendIptables(nil, &st, &ipt))
	ipt.proto, ipt.spt, ipt.dpt, ipt.dst, ipt.length = "UDP", 137, 137, ip("10.20.0.255"), 78
	add("iptables udp", TransportSyslog3164, appendIptables(nil, &st, &ipt))

	ssh := sshRecord{host: "lg-app01", pid: 2345, user: "adm.sato", from: ip("10.20.0.97"), port: 52314, key: fingerprint("adm.sato")}
	for _, k := range []struct {
		name string
		kind int
		user string
	}{
		{"sshd accepted publickey", sshAcceptedPublickey, "adm.sato"},
		{"sshd accepted password", sshAcceptedPassword, "ctr.yamada"},
		{"sshd failed password", sshFailedPassword, "root"},
		{"sshd failed invalid user", sshFailedInvalidUser, "admin"},
		{"sshd invalid user", sshInvalidUser, "admin"},
		{"sshd pam failure", sshPamAuthFailure, "root"},
		{"sshd pam failure no user", sshPamAuthFailure, ""},
		{"sshd session opened", sshSessionOpened, "adm.sato"},
	} {
		ssh.kind, ssh.user = k.kind, k.user
		add(k.name, TransportSyslog3164, appendSSHD(nil, &st, &ssh))
	}

	sq := squidRecord{elapsedMS: 245, client: ip("10.30.1.20"), code: "TCP_TUNNEL/200", bytes: 5234, method: "CONNECT", url: []byte("www.example.jp:443"), user: "sato.k", hier: "HIER_DIRECT", server: ip("203.0.113.5")}
	add("squid tunnel", TransportFile, appendSquid(nil, t, &sq))
	sq.code, sq.method, sq.url, sq.mime = "TCP_MISS/200", "GET", []byte("http://news.example.co.jp/index.html"), "text/html"
	add("squid miss", TransportFile, appendSquid(nil, t, &sq))
	sq = squidRecord{elapsedMS: 3, client: ip("10.30.0.30"), code: "TCP_DENIED/403", bytes: 3950, method: "CONNECT", url: []byte("dl.malware-c2.example:443"), user: "sato.k", hier: "HIER_NONE", mime: "text/html"}
	add("squid denied", TransportFile, appendSquid(nil, t, &sq))
	add("squid over syslog", TransportSyslog3164, appendSquid(append3164Header(nil, priSquidInfo, &st, "proxy-sq2", "squid", 812), t, &sq))

	ifr := ifilterRecord{elapsedMS: 245, client: ip("10.30.0.30"), user: "sato.k", status: 200, respBytes: 5234, reqBytes: 812, action: "pass", category: "0101", method: "GET", url: []byte("http://news.example.jp/"), agent: userAgents[0]}
	add("ifilter pass", TransportFile, appendIFilter(nil, &st, &ifr))
	ifr.status, ifr.respBytes, ifr.action, ifr.category, ifr.method, ifr.url = 403, 2048, "block", "9001", "CONNECT", []byte("dl.malware-c2.example:443")
	add("ifilter block", TransportFile, appendIFilter(nil, &st, &ifr))

	gw := gwRecord{host: "gw-mail", gw: "mail-sanitizer", action: gwMailConverted, dir: "in", from: "info@example.com", to: "sato.k@fd.example.lg.jp", src: ip("10.30.0.25"), dst: ip("10.20.0.25"), size: 48211, attachments: 1, pid: 2211}
	add("gateway mail", TransportSyslog5424, appendGateway(nil, &st, t, &gw))
	gw = gwRecord{host: "gw-file", gw: "file-sanitizer", action: gwFileSanitized, dir: "in", user: "sato.k", src: ip("10.30.0.32"), dst: ip("10.20.2.15"), file: "doc-0412.pdf", size: 834211, pid: 2212}
	add("gateway file", TransportSyslog5424, appendGateway(nil, &st, t, &gw))
	gw.action, gw.file = gwFileRejected, "doc-0098.docm"
	add("gateway file rejected", TransportSyslog5424, appendGateway(nil, &st, t, &gw))
	gw = gwRecord{host: "gw-screen", gw: "screen-transfer", action: gwScreenSession, user: "sato.k", src: ip("10.20.2.15"), dst: ip("10.30.0.30"), session: 1234, pid: 2213}
	add("gateway screen", TransportSyslog5424, appendGateway(nil, &st, t, &gw))
	return out
}

func TestFormatsGolden(t *testing.T) {
	var buf bytes.Buffer
	p5424 := rfc5424.NewParser()
	p3164 := rfc3164.NewParser()
	for _, ex := range formatExamples() {
		buf.WriteString("# " + ex.name + " (" + ex.transport + ")\n" + ex.line + "\n")
		var err error
		switch ex.transport {
		case TransportSyslog5424:
			_, err = p5424.Parse([]byte(ex.line))
		case TransportSyslog3164:
			_, err = p3164.Parse([]byte(ex.line))
		}
		if err != nil {
			t.Errorf("%s: %v: %s", ex.name, err, ex.line)
		}
	}
	path := filepath.Join("testdata", "formats.golden")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("formats changed; the ingest parsers depend on them. Diff against %s, then go test -update if intended:\n%s", path, buf.String())
	}
}

func TestAppendPadded(t *testing.T) {
	tests := []struct {
		v     int64
		width int
		want  string
	}{{245, 6, "   245"}, {1234567, 6, "1234567"}, {0, 3, "  0"}}
	for _, tt := range tests {
		if got := string(appendPadded(nil, tt.v, tt.width)); got != tt.want {
			t.Errorf("appendPadded(%d, %d) = %q, want %q", tt.v, tt.width, got, tt.want)
		}
	}
}

func TestCategoryCodes(t *testing.T) {
	for _, c := range categoryCodes {
		if CategoryName(CategoryCode(c.Name)) != c.Name {
			t.Errorf("category %s does not round-trip", c.Name)
		}
	}
	if CategoryCode("nope") != "0000" || CategoryName("9999") != "" {
		t.Error("unknown category mapping")
	}
}
