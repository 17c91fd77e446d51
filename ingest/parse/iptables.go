package parse

import (
	"strings"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Linux netfilter log lines (iptables LOG target, nftables log statement), IPv4 and IPv6. The text before
// IN= is the rule's log prefix; it decides the action: DROP, REJECT, DENY or BLOCK in it mean deny,
// ACCEPT, ALLOW or PERMIT mean allow (case ignored). A leading kernel time stamp "[12345.678901]" is skipped
// (it is seconds since boot, not a time of day). Example:
//
//	[12345.678901] ZW-DROP IN=eth0 OUT=eth1 MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=10.10.1.5 DST=10.20.1.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=51234 DPT=445 WINDOW=64240 RES=0x00 SYN URGP=0
//
// and IPv6:
//
//	ZW-REJECT IN=eth0 OUT=eth1 SRC=2001:0db8:0000:0000:0000:0000:0000:0005 DST=2001:0db8:0001:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=40000 DPT=22 WINDOW=64800 RES=0x00 SYN URGP=0
//
// Fields: source/destination ip and port (SRC, DST, SPT, DPT), source.bytes (LEN, the packet length),
// network.transport (PROTO), event.action deny/allow/log and outcome, category network, labels prefix, in,
// out.
func parseIPTables(body string, e *event.Event, maxLabels int) (bool, error) {
	const f = FormatIPTables
	s := body
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			s = strings.TrimLeft(s[i+1:], " ")
		}
	}
	in := -1
	if strings.HasPrefix(s, "IN=") {
		in = 0
	} else if i := strings.Index(s, " IN="); i >= 0 {
		in = i + 1
	}
	if in < 0 || !strings.Contains(s[in:], " SRC=") {
		return false, nil
	}
	e.Meta.Module = f
	e.Meta.Category = "network"
	prefix := strings.TrimRight(strings.TrimSpace(s[:in]), ":")
	switch {
	case containsFold(prefix, "DROP"), containsFold(prefix, "REJECT"), containsFold(prefix, "DENY"), containsFold(prefix, "BLOCK"):
		e.Meta.Action, e.Meta.Outcome = "deny", event.OutcomeFailure
	case containsFold(prefix, "ACCEPT"), containsFold(prefix, "ALLOW"), containsFold(prefix, "PERMIT"):
		e.Meta.Action, e.Meta.Outcome = "allow", event.OutcomeSuccess
	default:
		e.Meta.Action, e.Meta.Outcome = "log", event.OutcomeUnknown
	}
	if prefix != "" {
		setLabel(e, maxLabels, "prefix", prefix)
	}
	var err error
	keep := func(er error) {
		if err == nil {
			err = er
		}
	}
	seenLen := false
	sc := kvScanner{s: s[in:]}
	for {
		k, v, _, _, ok := sc.next()
		if !ok || strings.HasPrefix(k, "[") || k == "" && strings.HasPrefix(v, "[") {
			break // end, or the quoted inner packet of an ICMP error: its addresses are not this packet's
		}
		switch k {
		case "IN":
			if v != "" {
				setLabel(e, maxLabels, "in", v)
			}
		case "OUT":
			if v != "" {
				setLabel(e, maxLabels, "out", v)
			}
		case "SRC":
			keep(setIP(&e.Source.IP, f, k, v))
		case "DST":
			keep(setIP(&e.Destination.IP, f, k, v))
		case "SPT":
			keep(setPort(&e.Source.Port, f, k, v))
		case "DPT":
			keep(setPort(&e.Destination.Port, f, k, v))
		case "LEN":
			if !seenLen { // the IP packet's length; UDP repeats LEN for its own length later
				seenLen = true
				keep(setBytes(&e.Source.Bytes, f, k, v))
			}
		case "PROTO":
			e.Network.Transport = transport(v)
		}
	}
	return true, err
}
