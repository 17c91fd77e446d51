// Package parse turns message bodies and proxy log-file lines into zonewatch's normalised event.
//
// The syslog envelope and the framing are someone else's job: Parse receives one message body plus what
// the envelope said (app name, host name, time received) and fills the event's ECS fields. ParseFile does
// the same for one line of a proxy log file of a named format.
//
// Formats, and the file that reads each:
//
//	fortigate       fortigate.go      FortiGate key=value traffic, UTM and event logs
//	iptables        iptables.go       Linux iptables / nftables kernel log lines (IPv4 and IPv6)
//	sshd            sshd.go           OpenSSH sshd and its PAM messages
//	squid           squid.go          Squid native access.log
//	squid-combined  squidcombined.go  Squid "combined" (Apache combined + %Ss:%Sh) access log; module squid
//	ifilter         ifilter.go        i-FILTER access log (column layout configurable)
//	intersafe       intersafe.go      InterSafe WebFilter access log (column layout configurable)
//	gateway         gateway.go        sanitisation gateways (mail text conversion, file sanitisation, screen transfer)
//	json            jsonbody.go       any JSON object body (generic fallback)
//	kv              keyvalue.go       any key=value body (generic fallback)
//
// Detection goes by the envelope's app name first, then by cheap content tests, then the generic
// fallbacks; no regular expression runs on the hot path. A body nothing understands yields the format
// "syslog" and an *Unparsed error; the caller keeps the event with its raw text.
//
// i-FILTER and InterSafe lines are read by column layouts (layout.go), configurable per site. The example
// lines of internal/simulate are a contract: TestSimulatorContract parses each of them through the
// envelope parser, as the pipeline does.
//
// Parsers are built once by New and are safe for concurrent use: they hold no mutable state. Parse writes
// only the fields a body gives; the event should be fresh (or the caller's envelope fields only).
package parse
