package parse

import "strings"

// appFormats is the built-in table of syslog app names (lower-case) and the format they send. It is built
// fresh for each Parsers so that Options.AppNames can add to it without shared state.
func appFormats() map[string]string {
	return map[string]string{
		"sshd":            FormatSSHD,
		"sshd-session":    FormatSSHD,
		"kernel":          FormatIPTables,
		"squid":           FormatSquid,
		"(squid-1)":       FormatSquid,
		"squid-1":         FormatSquid,
		"ifilter":         FormatIFilter,
		"i-filter":        FormatIFilter,
		"if_proxy":        FormatIFilter,
		"intersafe":       FormatInterSafe,
		"fortigate":       FormatFortiGate,
		"gateway":         FormatGateway,
		"mail-sanitizer":  FormatGateway,
		"file-sanitizer":  FormatGateway,
		"screen-transfer": FormatGateway,
		"sanitizer":       FormatGateway,
		"mailgw":          FormatGateway,
		"mail-gw":         FormatGateway,
		"filegw":          FormatGateway,
		"file-gw":         FormatGateway,
		"screengw":        FormatGateway,
		"screen-gw":       FormatGateway,
	}
}

// appFormat looks an app name up without caring for case, and without allocating for names that fit in
// 32 bytes.
func (p *Parsers) appFormat(app string) string {
	if app == "" || app == "-" {
		return ""
	}
	if f, ok := p.apps[app]; ok {
		return f
	}
	if len(app) <= 32 {
		var buf [32]byte
		for i := 0; i < len(app); i++ {
			c := app[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		return p.apps[string(buf[:len(app)])] // the conversion in a map index does not allocate
	}
	return p.apps[strings.ToLower(app)]
}

// sniff guesses a format from the content, cheapest and most specific tests first. "" means no guess.
func sniff(body string) string {
	if hasKey(body, "gw") && hasKey(body, "action") {
		return FormatGateway
	}
	if hasKey(body, "logid") && hasKey(body, "type") {
		return FormatFortiGate
	}
	if strings.Contains(body, " SRC=") && strings.Contains(body, " DST=") && strings.Contains(body, "PROTO=") {
		return FormatIPTables
	}
	if isEpoch(firstWord(body)) && countFields(body) == 10 {
		return FormatSquid
	}
	return ""
}

// countFields counts runs of non-space characters.
func countFields(s string) int { return splitPlain(s, nil) }
