package parse

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestIPTables(t *testing.T) {
	runParse(t, []parseCase{{
		name:   "kernel drop, IPv4 TCP SYN, kernel time stamp",
		app:    "kernel",
		body:   `[12345.678901] ZW-DROP IN=eth0 OUT=eth1 MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=10.10.1.5 DST=10.20.1.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=51234 DPT=445 WINDOW=64240 RES=0x00 SYN URGP=0`,
		format: "iptables",
		want: event.Event{
			Meta:        event.Meta{Module: "iptables", Category: "network", Action: "deny", Outcome: "failure"},
			Source:      event.Endpoint{IP: ip("10.10.1.5"), Port: 51234, Bytes: 60},
			Destination: event.Endpoint{IP: ip("10.20.1.1"), Port: 445},
			Network:     event.Network{Transport: "tcp"},
			Labels:      map[string]string{"prefix": "ZW-DROP", "in": "eth0", "out": "eth1"},
		},
	}, {
		name:   "padded kernel time stamp, UDP repeats LEN, empty OUT, found by content",
		body:   `[    5.000001] zw-accept: IN=eth0 OUT= MAC=00:16:3e:5a:01:02:00:16:3e:11:22:33:08:00 SRC=10.20.1.15 DST=10.20.0.40 LEN=78 TOS=0x00 PREC=0x00 TTL=64 ID=54321 PROTO=UDP SPT=137 DPT=137 LEN=58`,
		format: "iptables",
		want: event.Event{
			Meta:        event.Meta{Module: "iptables", Category: "network", Action: "allow", Outcome: "success"},
			Source:      event.Endpoint{IP: ip("10.20.1.15"), Port: 137, Bytes: 78},
			Destination: event.Endpoint{IP: ip("10.20.0.40"), Port: 137},
			Network:     event.Network{Transport: "udp"},
			Labels:      map[string]string{"prefix": "zw-accept", "in": "eth0"},
		},
	}, {
		name:   "IPv6 reject, nftables style without kernel stamp",
		app:    "kernel",
		body:   `ZW-REJECT IN=eth0 OUT=eth1 SRC=2001:0db8:0000:0000:0000:0000:0000:0005 DST=2001:0db8:0001:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=40000 DPT=22 WINDOW=64800 RES=0x00 SYN URGP=0`,
		format: "iptables",
		want: event.Event{
			Meta:        event.Meta{Module: "iptables", Category: "network", Action: "deny", Outcome: "failure"},
			Source:      event.Endpoint{IP: ip("2001:db8::5"), Port: 40000, Bytes: 80},
			Destination: event.Endpoint{IP: ip("2001:db8:1::1"), Port: 22},
			Network:     event.Network{Transport: "tcp"},
			Labels:      map[string]string{"prefix": "ZW-REJECT", "in": "eth0", "out": "eth1"},
		},
	}, {
		name:   "ICMP error: the quoted inner packet does not overwrite the outer one",
		app:    "kernel",
		body:   `LOG IN=eth0 OUT= SRC=10.20.0.1 DST=10.20.1.15 LEN=88 TOS=0x00 PREC=0xC0 TTL=64 ID=1 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.20.1.15 DST=10.20.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=2 PROTO=UDP SPT=5353 DPT=53 LEN=40 ]`,
		format: "iptables",
		want: event.Event{
			Meta:        event.Meta{Module: "iptables", Category: "network", Action: "log", Outcome: "unknown"},
			Source:      event.Endpoint{IP: ip("10.20.0.1"), Bytes: 88},
			Destination: event.Endpoint{IP: ip("10.20.1.15")},
			Network:     event.Network{Transport: "icmp"},
			Labels:      map[string]string{"prefix": "LOG", "in": "eth0"},
		},
	},
		{name: "bad SRC", app: "kernel", body: `DROP IN=eth0 OUT= SRC=10.10.1 DST=10.20.1.1 PROTO=TCP`, format: "iptables", errField: "SRC"},
		{name: "bad DPT", app: "kernel", body: `DROP IN=eth0 OUT= SRC=10.10.1.1 DST=10.20.1.1 PROTO=TCP SPT=1 DPT=99999`, format: "iptables", errField: "DPT"},
		{name: "other kernel message is not iptables", app: "kernel", body: `usb 1-1: new high-speed USB device number 2 using xhci_hcd`, format: "syslog", errField: "-"},
	})
}
