package parse

import (
	"runtime"
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

// benchInputs is one typical message per format, as the simulator and the devices send them.
var benchInputs = []struct{ name, app, body string }{
	{"fortigate", "", `date=2026-11-02 time=09:15:01 devname="fw-lgwan" devid="FG100FTK22000002" eventtime=1793578501123000000 tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.1.15 srcport=51234 srcintf="lan" srcintfrole="lan" dstip=172.16.8.20 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=123456 proto=6 action="close" policyid=12 policytype="policy" service="HTTPS" duration=12 sentbyte=2345 rcvdbyte=34567 sentpkt=12 rcvdpkt=30`},
	{"iptables", "kernel", `[1234567.123456] ZW-DROP IN=eth0 OUT= MAC=00:16:3e:5a:01:02:00:16:3e:11:22:33:08:00 SRC=10.20.1.15 DST=10.20.0.40 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=51234 DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0`},
	{"sshd", "sshd", `Failed password for invalid user admin from 203.0.113.77 port 40022 ssh2`},
	{"squid", "squid", `1795565701.123    245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT www.example.jp:443 sato.k HIER_DIRECT/203.0.113.5 -`},
	{"squid-combined", "squid", `10.30.1.20 - tanaka [25/Nov/2026:09:15:01 +0900] "GET http://www.example.jp/index.html HTTP/1.1" 200 5234 "-" "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" TCP_MISS:HIER_DIRECT`},
	{"ifilter", "i-FILTER", ifilterLine},
	{"ifilter-compact", "ifilter", ifilterCompactLine},
	{"intersafe", "intersafe", intersafeLine},
	{"gateway", "file-sanitizer", `gw=file-sanitizer action=file_sanitized dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=report-0412.pdf size=834211 method=cdr`},
	{"json", "app", `{"@timestamp":"2026-11-25T09:15:01+09:00","source":{"ip":"10.20.1.5"},"user":{"name":"tanaka"},"event":{"action":"clock-in"},"terminal":"T-12"}`},
	{"kv", "acme", `vendor=acme act=blocked src=10.30.1.9 dst=10.20.1.1 dpt=445 user=admin`},
	{"syslog", "cron", `(root) CMD (run-parts /etc/cron.hourly)`},
}

// BenchmarkParse measures Parse per format, detection included, into a fresh event each time (as the
// pipeline does), so allocs/op counts the labels map too.
func BenchmarkParse(b *testing.B) {
	p := testParsers(b)
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			input := Input{AppName: in.app, Body: in.body}
			b.ReportAllocs()
			b.SetBytes(int64(len(in.body)))
			defer reportCPU(b)()
			for b.Loop() {
				var e event.Event
				_, _ = p.Parse(input, &e)
			}
		})
	}
}

// BenchmarkParseFile measures ParseFile per file format.
func BenchmarkParseFile(b *testing.B) {
	p := testParsers(b)
	for _, in := range []struct{ format, line string }{
		{"squid", benchInputs[3].body},
		{"squid-combined", benchInputs[4].body},
		{"ifilter", ifilterLine},
		{"intersafe", intersafeLine},
	} {
		b.Run(in.format, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.line)))
			defer reportCPU(b)()
			for b.Loop() {
				var e event.Event
				_ = p.ParseFile(in.format, in.line, nil, &e)
			}
		})
	}
}

// reportCPU pins the benchmark to its OS thread and, when the returned func runs, reports the thread's
// CPU time per operation as cpu-ns/op: unlike ns/op it does not grow when the machine is busy.
func reportCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start, ok := threadCPU()
	return func() {
		end, ok2 := threadCPU()
		runtime.UnlockOSThread()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
