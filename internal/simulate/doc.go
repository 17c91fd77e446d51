// Package simulate generates realistic, labelled log traffic for zonewatch:
// the devices of a fire-department union with three separated zones
// (mynumber, lgwan, internet), its ~300 staff working office hours or
// 24-hour shifts, and injected incidents with ground truth.
//
// # Model
//
// An Org (default_org.yaml, embedded; LoadOrg for another file) holds zones
// and their CIDRs, the outside ranges (LGWAN network 172.16.0.0/12, public
// documentation ranges 198.51.100.0/24 and 203.0.113.0/24 that only ever
// appear as text), hosts by role (a FortiGate at each zone boundary, Squid
// and i-FILTER proxies for the security cloud, the three sanitisation
// gateways, Linux servers), user groups with a calendar each (office 日勤,
// shift crews 当務 in three platoons, admins, contractors; see
// internal/calendar), web sites with filter categories and hourly volumes.
// A Linux host may have a clock_skew: its lines carry the skewed time while
// Line.Time stays true (in the default org mn-app01 runs 2m30s ahead, as a
// server without NTP in the closed mynumber zone would).
//
// # Generation
//
// New(Options) prepares a Simulator; Run(ctx, sink) produces the period
// second by second: the number of background events in a second is Poisson
// with the sum of the activity rates of that minute (users count only while
// their calendar has them on duty, times a daily rhythm), times are sorted
// uniforms, and each event is rendered by its activity. Follow-up lines (a
// proxy's upstream session closing, an ssh login after a typo) wait in a
// heap for their time, so lines always come out in time order. With the
// same Seed and Options the output is byte-identical (math/rand/v2 PCG,
// separate streams for background and incidents, no map order anywhere).
// Accelerated mode runs From..To as fast as the sink takes it; Live mode
// sleeps until each line's time. Rate > 0 holds the total at Rate lines per
// simulated second while keeping the model's mix.
//
// Every line gets Line.Seq, its id (1, 2, 3 … in emission order). Lines of
// an incident carry Line.Incident; nothing is embedded in the line itself.
// TruthWriter writes the ground truth as JSON Lines.
//
// # Incidents
//
// With Options.Incidents, every started week of the period gets one of each
// (ids INC-0001 …), placed when the people involved are on duty unless the
// point is that they are not:
//
//   - mynumber_cross_zone: a mynumber terminal tries lgwan, the internet zone
//     or the internet; fw-mynumber denies 3–8 attempts;
//   - lgwan_internet_direct: an lgwan terminal connects straight to the
//     internet zone or the internet; fw-lgwan denies some, then a mistaken
//     policy (policyid=99) lets one through;
//   - proxy_bypass: an internet-zone PC makes HTTPS sessions to the internet
//     without the proxy (fw-internet, policyid=31);
//   - off_hours_login: an office account opens a screen-transfer session and
//     browses at 03:xx on a Sunday (any off-hours night if the period has no
//     Sunday). Alongside it a shift-crew account on duty that night does the
//     same: kind shift_night_login, benign, id BEN-0001 …, which no rule
//     should alert on;
//   - port_scan: an internet-zone PC sends SYNs to 25–60 distinct ports of a
//     server within a minute (iptables drops);
//   - ssh_bruteforce: 25–50 failed ssh logins (Invalid user, pam_unix
//     authentication failure, Failed password) from one internet address;
//   - malware_domain: a user's requests to dl.malware-c2.example, blocked
//     by the proxies (Squid TCP_DENIED/403, i-FILTER block 9001);
//   - large_upload: a 300–900 MiB POST through i-FILTER and the matching
//     firewall session;
//   - source_silent: a Linux server (lg-file01) sends nothing for one hour;
//     the record has the device and the window, and no lines.
//
// Incidents that need an on-duty person are skipped when the period has no
// such time (a weekend-only period has no office incidents).
//
// # Wire formats
//
// formats.go is the contract with the ingest parsers; testdata/formats.golden
// has an example of every variant. In short:
//
//	fortigate  RFC 5424, local7: <189>1 2026-11-25T09:15:01.123+09:00 fw-lgwan - - - - date=2026-11-25 time=09:15:01 devname="fw-lgwan" devid="FG100FTK2200002" eventtime=… tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.20.2.15 srcport=51234 srcintf="lan" srcintfrole="lan" dstip=172.16.8.20 dstport=443 dstintf="wan1" dstintfrole="wan" sessionid=123456 proto=6 action="close" policyid=12 policytype="policy" service="HTTPS" duration=12 sentbyte=2345 rcvdbyte=34567 sentpkt=2 rcvdpkt=29
//	iptables   RFC 3164, kern:   <4>Nov 25 09:15:01 lg-file01 kernel: [1234567.123456] ZW-DROP IN=eth0 OUT= MAC=… SRC=10.20.2.15 DST=10.20.0.41 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=54321 DF PROTO=TCP SPT=51234 DPT=23 WINDOW=64240 RES=0x00 SYN URGP=0
//	sshd       RFC 3164, authpriv: <86>Nov 25 09:15:01 lg-app01 sshd[2345]: Accepted publickey for adm.sato from 10.20.0.97 port 52314 ssh2: ED25519 SHA256:…
//	squid      file access.log:  1795565701.123    245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT www.example.jp:443 sato.k HIER_DIRECT/203.0.113.5 -
//	           or RFC 3164, local4: <166>Nov 25 09:15:01 proxy-sq2 squid[812]: <the same line>
//	ifilter    file access.log:  [25/Nov/2026:09:15:01 +0900] 245 10.30.0.30 sato.k 200 5234 812 pass 0101 "GET http://news.example.jp/ HTTP/1.1" "Mozilla/5.0 …"
//	gateway    RFC 5424, local0: <134>1 2026-11-25T09:15:01.123+09:00 gw-mail mail-sanitizer 2211 - - gw=mail-sanitizer action=mail_text_converted dir=in from=… to=… src=10.30.0.25 dst=10.20.0.25 size=48211 attachments=1
//	           action=file_sanitized|file_rejected (file-sanitizer: user= src= dst= file= size= method=cdr [reason=macro]),
//	           action=screen_session_start (screen-transfer: user= src= dst= session=ST-00001234)
//
// # Sinks
//
// TCPSink (octet counting or newline framing), UDPSink, FileSink (Squid and
// i-FILTER access.log per device, rotated Squid-style; optionally a capture
// of the syslog lines), WriterSink, DiscardSink, MultiSink and TruthWriter.
// Syslog sinks skip file lines and the file sink skips syslog lines, so a
// MultiSink of both delivers every line once.
package simulate
