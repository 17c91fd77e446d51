package parse

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestFortiGate(t *testing.T) {
	runParse(t, []parseCase{{
		name:   "traffic deny, quoted values, eventtime in ns wins over date and time",
		body:   `date=2026-11-02 time=09:15:01 devname="FGT-HQ" devid="FG100FTK20000001" eventtime=1793578501123456789 tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="warning" vd="root" srcip=10.10.1.5 srcport=50000 srcintf="port1" dstip=10.20.1.1 dstport=445 dstintf="port2" proto=6 service="SMB" action="deny" policyid=0 sentbyte=0 rcvdbyte=0`,
		format: "fortigate",
		want: event.Event{
			Timestamp:   utc("2026-11-02T00:15:01.123456789Z"),
			Meta:        event.Meta{Module: "fortigate", Category: "network", Action: "deny", Outcome: "failure", Severity: 4},
			Source:      event.Endpoint{IP: ip("10.10.1.5"), Port: 50000},
			Destination: event.Endpoint{IP: ip("10.20.1.1"), Port: 445},
			Network:     event.Network{Transport: "tcp", Protocol: "smb"},
			Labels:      map[string]string{"devname": "FGT-HQ", "logid": "0000000013", "type": "traffic", "subtype": "forward", "policyid": "0"},
		},
	}, {
		name:   "traffic close, bare values, date and time with tz, bytes, user",
		app:    "-",
		body:   `date=2026-11-02 time=09:15:01 devname=FGT-HQ logid=0000000013 type=traffic subtype=forward level=notice srcip=10.20.1.15 srcport=51234 dstip=172.16.8.20 dstport=443 proto=17 action=close policyid=12 service=HTTPS sentbyte=2345 rcvdbyte=34567 user=tanaka tz=+0900`,
		format: "fortigate",
		want: event.Event{
			Timestamp:   utc("2026-11-02T00:15:01Z"),
			Meta:        event.Meta{Module: "fortigate", Category: "network", Action: "close", Outcome: "success", Severity: 5},
			Source:      event.Endpoint{IP: ip("10.20.1.15"), Port: 51234, Bytes: 2345},
			Destination: event.Endpoint{IP: ip("172.16.8.20"), Port: 443, Bytes: 34567},
			Network:     event.Network{Transport: "udp", Protocol: "https"},
			User:        event.User{Name: "tanaka"},
			Labels:      map[string]string{"devname": "FGT-HQ", "logid": "0000000013", "type": "traffic", "subtype": "forward", "policyid": "12"},
		},
	}, {
		name:   "no tz: the input's zone (Tokyo)",
		body:   `date=2026-11-02 time=23:59:59 logid=0000000013 type=traffic subtype=forward srcip=10.1.1.1 dstip=10.2.2.2 proto=1 action=accept`,
		format: "fortigate",
		want: event.Event{
			Timestamp:   utc("2026-11-02T14:59:59Z"),
			Meta:        event.Meta{Module: "fortigate", Category: "network", Action: "accept", Outcome: "success"},
			Source:      event.Endpoint{IP: ip("10.1.1.1")},
			Destination: event.Endpoint{IP: ip("10.2.2.2")},
			Network:     event.Network{Transport: "icmp"},
			Labels:      map[string]string{"logid": "0000000013", "type": "traffic", "subtype": "forward"},
		},
	}, {
		name:   "webfilter UTM blocked, hostname, url, catdesc, IPv6",
		app:    "fortigate",
		body:   `date=2026-11-02 time=09:20:11 logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" srcip=2001:db8::5 srcport=51000 dstip=2001:db8:1::9 dstport=443 proto=6 service="HTTPS" hostname="Malware.Example" url="/payload.exe" action="blocked" catdesc="Malicious Websites" user="tanaka" devname="FGT-NET" msg="URL belongs to a denied category in policy"`,
		format: "fortigate",
		want: event.Event{
			Timestamp:   utc("2026-11-02T00:20:11Z"),
			Meta:        event.Meta{Module: "fortigate", Category: "web", Action: "blocked", Outcome: "failure", Severity: 4},
			Source:      event.Endpoint{IP: ip("2001:db8::5"), Port: 51000},
			Destination: event.Endpoint{IP: ip("2001:db8:1::9"), Port: 443},
			Network:     event.Network{Transport: "tcp", Protocol: "https"},
			User:        event.User{Name: "tanaka"},
			URL:         event.URL{Original: "/payload.exe", Domain: "malware.example", Category: "Malicious Websites"},
			Labels:      map[string]string{"devname": "FGT-NET", "logid": "0316013056", "type": "utm", "subtype": "webfilter"},
		},
	}, {
		name:   "escaped quote in a value, eventtime in seconds, timeout counts as success",
		body:   `logid="0000000013" type="traffic" subtype="forward" eventtime=1793578501 devname="FGT \"HQ\"" srcip=10.1.1.1 action="timeout"`,
		format: "fortigate",
		want: event.Event{
			Timestamp: utc("2026-11-02T00:15:01Z"),
			Meta:      event.Meta{Module: "fortigate", Category: "network", Action: "timeout", Outcome: "success"},
			Source:    event.Endpoint{IP: ip("10.1.1.1")},
			Labels:    map[string]string{"devname": `FGT "HQ"`, "logid": "0000000013", "type": "traffic", "subtype": "forward"},
		},
	},
		{name: "admin login failed: event log, outcome from status", format: "fortigate",
			body: `date=2026-11-02 time=03:10:00 tz="+0900" logid="0100032002" type="event" subtype="system" level="alert" vd="root" logdesc="Admin login failed" sn="0" user="admin" ui="https(10.30.1.9)" method="https" srcip=10.30.1.9 dstip=10.20.0.1 action="login" status="failed" reason="passwd_invalid" msg="Administrator admin login failed from https(10.30.1.9) because of invalid password"`,
			want: event.Event{
				Timestamp:   utc("2026-11-01T18:10:00Z"),
				Meta:        event.Meta{Module: "fortigate", Category: "authentication", Action: "login", Outcome: "failure", Severity: 1},
				Source:      event.Endpoint{IP: ip("10.30.1.9")},
				Destination: event.Endpoint{IP: ip("10.20.0.1")},
				User:        event.User{Name: "admin"},
				Labels:      map[string]string{"logid": "0100032002", "type": "event", "subtype": "system"},
			}},
		{name: "bad srcip", body: `logid=13 type=traffic srcip=10.1.1 dstip=10.2.2.2`, format: "fortigate", errField: "srcip"},
		{name: "bad dstport", body: `logid=13 type=traffic srcip=10.1.1.1 dstport=70000`, format: "fortigate", errField: "dstport"},
		{name: "bad sentbyte", body: `logid=13 type=traffic sentbyte=-5`, format: "fortigate", errField: "sentbyte"},
		{name: "bad date", body: `date=2026-13-02 time=09:15:01 logid=13 type=traffic`, format: "fortigate", errField: "date"},
		{name: "bad time", body: `date=2026-11-02 time=9:15 logid=13 type=traffic`, format: "fortigate", errField: "time"},
		{name: "bad eventtime", body: `eventtime=12x logid=13 type=traffic`, format: "fortigate", errField: "eventtime"},
		{name: "unterminated quote", body: `logid=13 type=traffic devname="FGT`, format: "fortigate", errField: "devname"},
	})
}
