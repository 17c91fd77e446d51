package simulate

// This file holds every wire format the simulator writes, one function per
// format, each appending into a caller-owned buffer so the hot path does not
// allocate. The ingest parsers are written against exactly these layouts; a
// change here is a change of contract. Example lines are in
// testdata/formats.golden and in the package documentation.

import (
	"net/netip"
	"strconv"
	"time"
)

// Format names, as in Line.Format.
const (
	FormatFortiGate = "fortigate"
	FormatIptables  = "iptables"
	FormatSSHD      = "sshd"
	FormatSquid     = "squid"
	FormatIFilter   = "ifilter"
	FormatGateway   = "gateway"
)

// Transports, as in Line.Transport.
const (
	TransportSyslog5424 = "syslog5424"
	TransportSyslog3164 = "syslog3164"
	TransportFile       = "file"
)

// Syslog priorities (facility*8 + severity) used by the devices.
const (
	priFortiNotice  = 23*8 + 5 // local7.notice: accepted and closed sessions
	priFortiWarning = 23*8 + 4 // local7.warning: denied sessions
	priKernWarning  = 0*8 + 4  // kern.warning: iptables/nftables log target
	priAuthInfo     = 10*8 + 6 // authpriv.info: sshd
	priAuthNotice   = 10*8 + 5 // authpriv.notice: pam_unix authentication failure
	priSquidInfo    = 20*8 + 6 // local4.info: squid access_log syslog:local4.info
	priGatewayInfo  = 16*8 + 6 // local0.info: sanitisation gateways
	priGatewayWarn  = 16*8 + 4 // local0.warning: a gateway rejected content
)

// stamp caches the per-second parts of every timestamp layout, so that a
// line only formats its sub-second digits.
type stamp struct {
	sec     int64
	rfc3339 []byte // 2026-11-25T09:15:01
	date    []byte // 2026-11-25
	clock   []byte // 09:15:01
	bsd     []byte // Nov 25 09:15:01 (day space-padded, RFC 3164)
	clf     []byte // [25/Nov/2026:09:15:01 +0900]
}

func (s *stamp) set(t time.Time) {
	sec := t.Unix()
	if sec == s.sec && s.rfc3339 != nil {
		return
	}
	s.sec = sec
	t = t.In(tokyo())
	s.rfc3339 = t.AppendFormat(s.rfc3339[:0], "2006-01-02T15:04:05")
	s.date = t.AppendFormat(s.date[:0], "2006-01-02")
	s.clock = t.AppendFormat(s.clock[:0], "15:04:05")
	s.bsd = t.AppendFormat(s.bsd[:0], time.Stamp)
	s.clf = t.AppendFormat(s.clf[:0], "[02/Jan/2006:15:04:05 -0700]")
}

func appendMillis(b []byte, t time.Time) []byte {
	ms := t.Nanosecond() / 1e6
	return append(b, byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

func appendIP(b []byte, ip netip.Addr) []byte { return ip.AppendTo(b) }

// appendPadded appends v right-aligned in width columns (squid's %6tr).
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	d := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(d); i < width; i++ {
		b = append(b, ' ')
	}
	return append(b, d...)
}

// append5424Header appends an RFC 5424 header up to and including the space
// before MSG:
//
//	<189>1 2026-11-25T09:15:01.123+09:00 fw-lgwan - - - -
//
// with the app name and procid when given ("-" otherwise).
func append5424Header(b []byte, pri int, st *stamp, t time.Time, host, app string, procid int) []byte {
	b = append(b, '<')
	b = appendInt(b, int64(pri))
	b = append(b, ">1 "...)
	b = append(b, st.rfc3339...)
	b = append(b, '.')
	b = appendMillis(b, t)
	b = append(b, "+09:00 "...)
	b = append(b, host...)
	b = append(b, ' ')
	if app == "" {
		b = append(b, '-')
	} else {
		b = append(b, app...)
	}
	b = append(b, ' ')
	if procid <= 0 {
		b = append(b, '-')
	} else {
		b = appendInt(b, int64(procid))
	}
	return append(b, " - - "...)
}

// append3164Header appends an RFC 3164 header up to and including the space
// before the content, local (Asia/Tokyo) time as BSD syslogd writes it:
//
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]:
//
// procid <= 0 omits the [pid].
func append3164Header(b []byte, pri int, st *stamp, host, tag string, procid int) []byte {
	b = append(b, '<')
	b = appendInt(b, int64(pri))
	b = append(b, '>')
	b = append(b, st.bsd...)
	b = append(b, ' ')
	b = append(b, host...)
	b = append(b, ' ')
	b = append(b, tag...)
	if procid > 0 {
		b = append(b, '[')
		b = appendInt(b, int64(procid))
		b = append(b, ']')
	}
	return append(b, ": "...)
}

// fgRecord is one FortiGate forward-traffic session.
type fgRecord struct {
	devname, devid   string
	srcip, dstip     netip.Addr
	srcport, dstport int
	srcintf, dstintf string
	proto            int // 6 TCP, 17 UDP, 1 ICMP
	action           string
	service          string
	sentbyte         int64
	rcvdbyte         int64
	policyid         int
	sessionid        int64
	duration         int
}

// appendFortiGate writes a FortiGate (FortiOS 7.x) forward traffic log,
// quoted string values, sent as RFC 5424 with no app name (local7.notice for
// accept/close, local7.warning for deny):
//
//	<189>1 2026-11-02T09:15:01.123+09:00 fw-lgwan - - - - date=2026-11-02 time=09:15:01 devname="fw-lgwan" devid="FG100FTK22000002" eventtime=1793578501123000000 tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.1.15 srcport=51234 srcintf="lan" srcintfrole="lan" dstip=172.16.8.20 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=123456 proto=6 action="close" policyid=12 policytype="policy" service="HTTPS" duration=12 sentbyte=2345 rcvdbyte=34567 sentpkt=12 rcvdpkt=30
//
// Denied sessions have action="deny", level="warning", duration=0,
// sentbyte=0 rcvdbyte=0 and no packet counters; policyid=0 is the implicit
// deny.
func appendFortiGate(b []byte, st *stamp, t time.Time, r *fgRecord) []byte {
	deny := r.action == "deny"
	pri := priFortiNotice
	if deny {
		pri = priFortiWarning
	}
	b = append5424Header(b, pri, st, t, r.devname, "", 0)
	b = append(b, "date="...)
	b = append(b, st.date...)
	b = append(b, " time="...)
	b = append(b, st.clock...)
	b = append(b, ` devname="`...)
	b = append(b, r.devname...)
	b = append(b, `" devid="`...)
	b = append(b, r.devid...)
	b = append(b, `" eventtime=`...)
	b = appendInt(b, t.UnixNano())
	b = append(b, ` tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="`...)
	if deny {
		b = append(b, "warning"...)
	} else {
		b = append(b, "notice"...)
	}
	b = append(b, `" vd="root" srcip=`...)
	b = appendIP(b, r.srcip)
	b = append(b, " srcport="...)
	b = appendInt(b, int64(r.srcport))
	b = append(b, ` srcintf="`...)
	b = append(b, r.srcintf...)
	b = append(b, `" srcintfrole="`...)
	b = append(b, intfRole(r.srcintf)...)
	b = append(b, `" dstip=`...)
	b = appendIP(b, r.dstip)
	b = append(b, " dstport="...)
	b = appendInt(b, int64(r.dstport))
	b = append(b, ` dstintf="`...)
	b = append(b, r.dstintf...)
	b = append(b, `" dstintfrole="`...)
	b = append(b, intfRole(r.dstintf)...)
	b = append(b, `" sessionid=`...)
	b = appendInt(b, r.sessionid)
	b = append(b, " proto="...)
	b = appendInt(b, int64(r.proto))
	b = append(b, ` action="`...)
	b = append(b, r.action...)
	b = append(b, `" policyid=`...)
	b = appendInt(b, int64(r.policyid))
	b = append(b, ` policytype="policy" service="`...)
	b = append(b, r.service...)
	if deny {
		return append(b, `" duration=0 sentbyte=0 rcvdbyte=0`...)
	}
	b = append(b, `" duration=`...)
	b = appendInt(b, int64(r.duration))
	b = append(b, " sentbyte="...)
	b = appendInt(b, r.sentbyte)
	b = append(b, " rcvdbyte="...)
	b = appendInt(b, r.rcvdbyte)
	{
		b = append(b, " sentpkt="...)
		b = appendInt(b, r.sentbyte/1200+1)
		b = append(b, " rcvdpkt="...)
		b = appendInt(b, r.rcvdbyte/1200+1)
	}
	return b
}

// intfRole is the FortiGate interface role: wan for wan* ports, lan else.
func intfRole(intf string) string {
	if len(intf) >= 3 && intf[:3] == "wan" {
		return "wan"
	}
	return "lan"
}

// ipRecord is one packet logged by an iptables/nftables LOG rule.
type ipRecord struct {
	host            string
	uptime          time.Duration
	in              string
	mac             string
	src, dst        netip.Addr
	proto           string // TCP or UDP
	spt, dpt        int
	length, ttl, id int
}

// appendIptables writes a Linux kernel netfilter LOG line with prefix
// "ZW-DROP " as the kernel ring buffer has it, sent by rsyslog as RFC 3164
// (kern.warning, tag "kernel"):
//
//	<4>Nov 25 09:15:01 lg-file01 kernel: [1234567.123456] ZW-DROP IN=eth0 OUT= MAC=00:16:3e:5a:01:02:00:16:3e:11:22:33:08:00 SRC=10.20.1.15 DST=10.20.0.40 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=51234 DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0
//
// UDP packets end "PROTO=UDP SPT=137 DPT=137 LEN=58".
func appendIptables(b []byte, st *stamp, r *ipRecord) []byte {
	b = append3164Header(b, priKernWarning, st, r.host, "kernel", 0)
	b = append(b, '[')
	us := r.uptime.Microseconds()
	b = appendPadded(b, us/1e6, 5)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(100000); d > 0; d /= 10 {
		b = append(b, byte('0'+frac/d%10))
	}
	b = append(b, "] ZW-DROP IN="...)
	b = append(b, r.in...)
	b = append(b, " OUT= MAC="...)
	b = append(b, r.mac...)
	b = append(b, " SRC="...)
	b = appendIP(b, r.src)
	b = append(b, " DST="...)
	b = appendIP(b, r.dst)
	b = append(b, " LEN="...)
	b = appendInt(b, int64(r.length))
	b = append(b, " TOS=0x00 PREC=0x00 TTL="...)
	b = appendInt(b, int64(r.ttl))
	b = append(b, " ID="...)
	b = appendInt(b, int64(r.id))
	if r.proto == "TCP" {
		b = append(b, " DF PROTO=TCP SPT="...)
		b = appendInt(b, int64(r.spt))
		b = append(b, " DPT="...)
		b = appendInt(b, int64(r.dpt))
		b = append(b, " WINDOW=64240 RES=0x00 SYN URGP=0"...)
		return b
	}
	b = append(b, " PROTO=UDP SPT="...)
	b = appendInt(b, int64(r.spt))
	b = append(b, " DPT="...)
	b = appendInt(b, int64(r.dpt))
	b = append(b, " LEN="...)
	b = appendInt(b, int64(r.length-20))
	return b
}

// sshd message kinds.
const (
	sshAcceptedPublickey = iota
	sshAcceptedPassword
	sshFailedPassword
	sshFailedInvalidUser
	sshInvalidUser
	sshPamAuthFailure
	sshSessionOpened
)

// sshRecord is one OpenSSH sshd (or its pam_unix) message.
type sshRecord struct {
	host string
	pid  int
	kind int
	user string
	from netip.Addr
	port int
	key  string // SHA256 fingerprint for publickey
}

// appendSSHD writes an OpenSSH sshd line as journald/rsyslog forwards it,
// RFC 3164 with tag sshd[pid] (authpriv.info; pam failures authpriv.notice):
//
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Accepted publickey for adm.sato from 10.20.0.101 port 52314 ssh2: ED25519 SHA256:Zk3...
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Accepted password for ctr.yamada from 10.20.9.11 port 52314 ssh2
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for root from 203.0.113.77 port 40022 ssh2
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Failed password for invalid user admin from 203.0.113.77 port 40022 ssh2
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: Invalid user admin from 203.0.113.77 port 40022
//	<85>Nov 25 09:15:01 lg-app01 sshd[2345]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.77  user=root
//	<86>Nov 25 09:15:01 lg-app01 sshd[2345]: pam_unix(sshd:session): session opened for user adm.sato by (uid=0)
func appendSSHD(b []byte, st *stamp, r *sshRecord) []byte {
	pri := priAuthInfo
	if r.kind == sshPamAuthFailure {
		pri = priAuthNotice
	}
	b = append3164Header(b, pri, st, r.host, "sshd", r.pid)
	fromPort := func(b []byte) []byte {
		b = append(b, " from "...)
		b = appendIP(b, r.from)
		b = append(b, " port "...)
		return appendInt(b, int64(r.port))
	}
	switch r.kind {
	case sshAcceptedPublickey:
		b = append(b, "Accepted publickey for "...)
		b = append(b, r.user...)
		b = fromPort(b)
		b = append(b, " ssh2: ED25519 SHA256:"...)
		b = append(b, r.key...)
	case sshAcceptedPassword:
		b = append(b, "Accepted password for "...)
		b = append(b, r.user...)
		b = fromPort(b)
		b = append(b, " ssh2"...)
	case sshFailedPassword:
		b = append(b, "Failed password for "...)
		b = append(b, r.user...)
		b = fromPort(b)
		b = append(b, " ssh2"...)
	case sshFailedInvalidUser:
		b = append(b, "Failed password for invalid user "...)
		b = append(b, r.user...)
		b = fromPort(b)
		b = append(b, " ssh2"...)
	case sshInvalidUser:
		b = append(b, "Invalid user "...)
		b = append(b, r.user...)
		b = fromPort(b)
	case sshPamAuthFailure:
		b = append(b, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost="...)
		b = appendIP(b, r.from)
		if r.user != "" {
			b = append(b, "  user="...)
			b = append(b, r.user...)
		}
	case sshSessionOpened:
		b = append(b, "pam_unix(sshd:session): session opened for user "...)
		b = append(b, r.user...)
		b = append(b, " by (uid=0)"...)
	}
	return b
}

// squidRecord is one request seen by Squid.
type squidRecord struct {
	elapsedMS int
	client    netip.Addr
	code      string // TCP_TUNNEL/200, TCP_MISS/200, TCP_DENIED/403 ...
	bytes     int64
	method    string
	url       []byte
	user      string
	hier      string // HIER_DIRECT or HIER_NONE
	server    netip.Addr
	mime      string
}

// appendSquid writes a Squid native access.log line (logformat squid:
// "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt"), always 10
// whitespace-separated fields; no server address gives "HIER_NONE/-":
//
//	1795565701.123    245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT www.example.jp:443 sato.k HIER_DIRECT/203.0.113.5 -
//
// To a file it is written as is; over syslog it is the MSG of an RFC 3164
// frame with tag squid[pid] (local4.info):
//
//	<166>Nov 25 09:15:01 proxy-sq2 squid[812]: 1795565701.123    245 10.30.1.20 TCP_TUNNEL/200 ...
func appendSquid(b []byte, t time.Time, r *squidRecord) []byte {
	b = appendInt(b, t.Unix())
	b = append(b, '.')
	b = appendMillis(b, t)
	b = append(b, ' ')
	b = appendPadded(b, int64(r.elapsedMS), 6)
	b = append(b, ' ')
	b = appendIP(b, r.client)
	b = append(b, ' ')
	b = append(b, r.code...)
	b = append(b, ' ')
	b = appendInt(b, r.bytes)
	b = append(b, ' ')
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.url...)
	b = append(b, ' ')
	if r.user == "" {
		b = append(b, '-')
	} else {
		b = append(b, r.user...)
	}
	b = append(b, ' ')
	b = append(b, r.hier...)
	b = append(b, '/')
	if r.server.IsValid() {
		b = appendIP(b, r.server)
	} else {
		b = append(b, '-')
	}
	b = append(b, ' ')
	if r.mime == "" {
		b = append(b, '-')
	} else {
		b = append(b, r.mime...)
	}
	return b
}

// ifilterRecord is one request seen by i-FILTER.
type ifilterRecord struct {
	elapsedMS int
	client    netip.Addr
	user      string
	status    int
	respBytes int64
	reqBytes  int64
	action    string // pass, block, warn
	category  string // category code, see categoryCodes
	method    string
	url       []byte
	agent     string
}

// appendIFilter writes i-FILTER's access log as zonewatch reads it: a subset
// of the default columns in this order, space-delimited, written to a file:
//
//	[25/Nov/2026:09:15:01 +0900] 245 10.30.0.30 sato.k 200 5234 812 pass 0101 "GET http://news.example.jp/ HTTP/1.1" "Mozilla/5.0 (Windows NT 10.0; Win64; x64) ..."
//
// fields: time (bracketed, %d/%b/%Y:%H:%M:%S %z), elapsed ms, client IP,
// user ("-" if none), HTTP status, response bytes, request bytes (upload
// size), action (pass|block), category code (4 digits, categoryCodes),
// "METHOD URL HTTP/1.1", "user agent". Blocked requests have status 403.
func appendIFilter(b []byte, st *stamp, r *ifilterRecord) []byte {
	b = append(b, st.clf...)
	b = append(b, ' ')
	b = appendInt(b, int64(r.elapsedMS))
	b = append(b, ' ')
	b = appendIP(b, r.client)
	b = append(b, ' ')
	if r.user == "" {
		b = append(b, '-')
	} else {
		b = append(b, r.user...)
	}
	b = append(b, ' ')
	b = appendInt(b, int64(r.status))
	b = append(b, ' ')
	b = appendInt(b, r.respBytes)
	b = append(b, ' ')
	b = appendInt(b, r.reqBytes)
	b = append(b, ' ')
	b = append(b, r.action...)
	b = append(b, ' ')
	b = append(b, r.category...)
	b = append(b, ` "`...)
	b = append(b, r.method...)
	b = append(b, ' ')
	b = append(b, r.url...)
	b = append(b, ` HTTP/1.1" "`...)
	b = append(b, r.agent...)
	return append(b, '"')
}

// categoryCodes maps the i-FILTER-style category codes the simulator writes
// to their names. The ingest side can use the same table.
var categoryCodes = [...]struct{ Code, Name string }{
	{"0101", "news"},
	{"0201", "government"},
	{"0301", "search"},
	{"0401", "business"},
	{"0501", "shopping"},
	{"0601", "sns"},
	{"0701", "video"},
	{"0801", "software-update"},
	{"9001", "malware"},
	{"9002", "phishing"},
	{"9101", "gambling"},
}

// Categories returns the simulator's i-FILTER category table, code → name: what a deployment puts in
// parse.ifilter_categories for these devices.
func Categories() map[string]string {
	m := make(map[string]string, len(categoryCodes))
	for _, c := range categoryCodes {
		m[c.Code] = c.Name
	}
	return m
}

// CategoryCode returns the code of a category name, "0000" when unknown.
func CategoryCode(name string) string {
	for _, c := range categoryCodes {
		if c.Name == name {
			return c.Code
		}
	}
	return "0000"
}

// CategoryName returns the category name of a code, "" when unknown.
func CategoryName(code string) string {
	for _, c := range categoryCodes {
		if c.Code == code {
			return c.Name
		}
	}
	return ""
}

// gateway actions.
const (
	gwMailConverted = "mail_text_converted"
	gwFileSanitized = "file_sanitized"
	gwFileRejected  = "file_rejected"
	gwScreenSession = "screen_session_start"
)

// gwRecord is one event of a sanitisation gateway between lgwan and internet.
type gwRecord struct {
	host        string
	gw          string // mail-sanitizer, file-sanitizer, screen-transfer
	action      string
	user        string // file and screen
	from, to    string // mail addresses
	dir         string // in: internet→lgwan, out: lgwan→internet
	src, dst    netip.Addr
	size        int64
	file        string
	session     int64
	attachments int
	pid         int
}

// appendGateway writes a sanitisation gateway line (zonewatch's own layout,
// key=value, values never contain spaces), RFC 5424 with the gateway kind as
// app name (local0.info; rejections local0.warning). One line per mail
// converted to text, per file sanitised or rejected, per screen-transfer
// session opened:
//
//	<134>1 2026-11-25T09:15:01.123+09:00 gw-mail mail-sanitizer 2211 - - gw=mail-sanitizer action=mail_text_converted dir=in from=info@example.com to=sato.k@fd.example.lg.jp src=10.30.0.25 dst=10.20.0.25 size=48211 attachments=1
//	<134>1 2026-11-25T09:15:01.123+09:00 gw-file file-sanitizer 2212 - - gw=file-sanitizer action=file_sanitized dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=report-0412.pdf size=834211 method=cdr
//	<132>1 ... gw-file file-sanitizer 2212 - - gw=file-sanitizer action=file_rejected dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=invoice-0098.docm size=51200 method=cdr reason=macro
//	<134>1 2026-11-25T09:15:01.123+09:00 gw-screen screen-transfer 2213 - - gw=screen-transfer action=screen_session_start user=sato.k src=10.20.1.15 dst=10.30.0.30 session=ST-00001234
//
// src is always the sending side and dst the receiving side, so dir=in has
// an internet-zone src and dir=out an lgwan src.
func appendGateway(b []byte, st *stamp, t time.Time, r *gwRecord) []byte {
	pri := priGatewayInfo
	if r.action == gwFileRejected {
		pri = priGatewayWarn
	}
	b = append5424Header(b, pri, st, t, r.host, r.gw, r.pid)
	b = append(b, "gw="...)
	b = append(b, r.gw...)
	b = append(b, " action="...)
	b = append(b, r.action...)
	if r.dir != "" {
		b = append(b, " dir="...)
		b = append(b, r.dir...)
	}
	if r.from != "" {
		b = append(b, " from="...)
		b = append(b, r.from...)
		b = append(b, " to="...)
		b = append(b, r.to...)
	}
	if r.user != "" {
		b = append(b, " user="...)
		b = append(b, r.user...)
	}
	b = append(b, " src="...)
	b = appendIP(b, r.src)
	b = append(b, " dst="...)
	b = appendIP(b, r.dst)
	switch r.gw {
	case "mail-sanitizer":
		b = append(b, " size="...)
		b = appendInt(b, r.size)
		b = append(b, " attachments="...)
		b = appendInt(b, int64(r.attachments))
	case "file-sanitizer":
		b = append(b, " file="...)
		b = append(b, r.file...)
		b = append(b, " size="...)
		b = appendInt(b, r.size)
		b = append(b, " method=cdr"...)
		if r.action == gwFileRejected {
			b = append(b, " reason=macro"...)
		}
	case "screen-transfer":
		b = append(b, " session=ST-"...)
		s := r.session
		for d := int64(10000000); d > 0; d /= 10 {
			b = append(b, byte('0'+s/d%10))
		}
	}
	return b
}
