package parse

import (
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// FortiGate key=value logs: traffic, UTM (webfilter, virus, ips, app-ctrl) and event logs. Values are bare
// in older firmware and double-quoted in newer; the time is date= and time= in the device's zone (tz= when
// present, else the input's zone), or eventtime= as an epoch in s, ms, µs or ns, which wins. Example:
//
//	date=2026-11-02 time=09:15:01 devname="FGT-HQ" devid="FG100FTK20000001" eventtime=1793578501123456789 tz="+0900" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.10.1.5 srcport=50000 srcintf="port1" dstip=10.20.1.1 dstport=445 dstintf="port2" proto=6 service="SMB" action="deny" policyid=12 sentbyte=0 rcvdbyte=0
//
// and a webfilter UTM line:
//
//	date=2026-11-02 time=09:20:11 logid="0316013056" type="utm" subtype="webfilter" eventtype="ftgd_blk" level="warning" srcip=10.30.1.20 srcport=51000 dstip=203.0.113.9 dstport=443 proto=6 service="HTTPS" hostname="malware.example" url="/payload.exe" action="blocked" catdesc="Malicious Websites" user="tanaka" devname="FGT-NET"
//
// Fields: source/destination ip, port, bytes (sentbyte/rcvdbyte), network.transport (proto) and protocol
// (service), user.name (user, else unauthuser), url.domain (hostname), url.original (url), url.category
// (catdesc), event.action (action, as logged), outcome (from action, or status= for event logs such as
// admin logins), category, severity (level), labels devname,
// policyid, logid, type, subtype.
func (p *Parsers) parseFortiGate(body string, loc *time.Location, e *event.Event) (bool, error) {
	const f = FormatFortiGate
	if !hasKey(body, "logid") && !hasKey(body, "type") {
		return false, nil
	}
	var date, clock, tz, etime, typ, subtype, user, unauth, status, action string
	var err error
	keep := func(er error) {
		if err == nil {
			err = er
		}
	}
	sc := kvScanner{s: body}
	for {
		k, v, quoted, bad, ok := sc.next()
		if !ok {
			break
		}
		if k == "" {
			continue // FortiGate lines have no bare words; tolerate them
		}
		if bad {
			keep(fieldErr(f, k, v, "unterminated quoted value"))
		}
		if quoted {
			v = unquote(v)
		}
		switch k {
		case "date":
			date = v
		case "time":
			clock = v
		case "tz":
			tz = v
		case "eventtime":
			etime = v
		case "logid":
			setLabel(e, p.maxLabels, "logid", v)
		case "type":
			typ = v
			setLabel(e, p.maxLabels, "type", v)
		case "subtype":
			subtype = v
			setLabel(e, p.maxLabels, "subtype", v)
		case "devname":
			setLabel(e, p.maxLabels, "devname", v)
		case "policyid":
			setLabel(e, p.maxLabels, "policyid", v)
		case "level":
			if s, ok := fortiLevel(v); ok {
				e.Meta.Severity = s
			}
		case "srcip":
			keep(setIP(&e.Source.IP, f, k, v))
		case "dstip":
			keep(setIP(&e.Destination.IP, f, k, v))
		case "srcport":
			keep(setPort(&e.Source.Port, f, k, v))
		case "dstport":
			keep(setPort(&e.Destination.Port, f, k, v))
		case "sentbyte":
			keep(setBytes(&e.Source.Bytes, f, k, v))
		case "rcvdbyte":
			keep(setBytes(&e.Destination.Bytes, f, k, v))
		case "proto":
			e.Network.Transport = transport(v)
		case "service":
			if !absent(v) {
				e.Network.Protocol = appProto(v)
			}
		case "action":
			action = v
		case "status":
			status = v
		case "user":
			user = v
		case "unauthuser":
			unauth = v
		case "hostname":
			e.URL.Domain = lower(v)
		case "url":
			e.URL.Original = v
		case "catdesc":
			e.URL.Category = v
		}
	}
	e.Meta.Module = f
	e.Meta.Category = fortiCategory(typ, subtype, action)
	if action != "" || status != "" {
		e.Meta.Action, e.Meta.Outcome = action, fortiOutcome(action)
		if e.Meta.Outcome == event.OutcomeUnknown {
			// Event logs (admin and VPN logins) say how it went in status=, not action=.
			switch status {
			case "success":
				e.Meta.Outcome = event.OutcomeSuccess
			case "failed", "failure":
				e.Meta.Outcome = event.OutcomeFailure
			}
		}
	}
	if !absent(user) {
		e.User.Name = user
	} else if !absent(unauth) {
		e.User.Name = unauth
	}
	if etime != "" {
		t, ok := epochAuto(etime)
		if !ok {
			keep(fieldErr(f, "eventtime", etime, "not an epoch in s, ms, µs or ns"))
		} else {
			e.Timestamp = t
		}
	} else if date != "" || clock != "" {
		keep(fortiTime(e, date, clock, tz, loc))
	}
	return true, err
}

// fortiTime sets e.Timestamp from date=, time= and tz= (tz wins over the input's zone).
func fortiTime(e *event.Event, date, clock, tz string, loc *time.Location) error {
	y, mo, d, ok := ymd(date)
	if !ok {
		return fieldErr(FormatFortiGate, "date", date, "not a YYYY-MM-DD date")
	}
	h, mi, s, ok := hms(clock)
	if !ok {
		return fieldErr(FormatFortiGate, "time", clock, "not a HH:MM:SS time")
	}
	if tz != "" {
		if off, ok := offset(tz); ok {
			t, ok := inZone(y, mo, d, h, mi, s, off)
			if !ok {
				return fieldErr(FormatFortiGate, "date", date, "impossible date or time")
			}
			e.Timestamp = t
			return nil
		}
	}
	t, ok := civil(y, mo, d, h, mi, s, loc)
	if !ok {
		return fieldErr(FormatFortiGate, "date", date, "impossible date or time")
	}
	e.Timestamp = t.UTC()
	return nil
}

// fortiLevel maps FortiGate's level to a syslog severity.
func fortiLevel(v string) (uint8, bool) {
	switch v {
	case "emergency":
		return 0, true
	case "alert":
		return 1, true
	case "critical":
		return 2, true
	case "error":
		return 3, true
	case "warning":
		return 4, true
	case "notice":
		return 5, true
	case "information":
		return 6, true
	case "debug":
		return 7, true
	}
	return 0, false
}

// fortiOutcome: a denied or blocked attempt failed; a session the policy let through succeeded, however it
// ended (close, timeout, resets).
func fortiOutcome(action string) string {
	switch action {
	case "deny", "blocked", "block", "dropped", "drop", "reject", "ip-conn":
		return event.OutcomeFailure
	case "accept", "close", "timeout", "server-rst", "client-rst", "passthrough", "pass", "allow", "permit", "monitored":
		return event.OutcomeSuccess
	}
	return event.OutcomeUnknown
}

// fortiCategory maps type/subtype (and login actions) to an ECS event.category.
func fortiCategory(typ, subtype, action string) string {
	if action == "login" || action == "logout" || action == "auth" {
		return "authentication"
	}
	switch typ {
	case "traffic":
		return "network"
	case "utm":
		switch subtype {
		case "webfilter":
			return "web"
		case "virus":
			return "malware"
		case "ips", "anomaly":
			return "intrusion_detection"
		}
		return "network"
	case "event":
		switch subtype {
		case "user", "vpn":
			return "authentication"
		case "system":
			return "configuration"
		}
		return "host"
	}
	return "network"
}
