package parse

import (
	"net/netip"
	"strings"

	"github.com/zonewatch/zonewatch/internal/event"
)

// atou reads a decimal unsigned integer no larger than max: digits only, no sign, no spaces.
func atou(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := uint64(s[i] - '0')
		if c > 9 || n > (max-c)/10 {
			return 0, false
		}
		n = n*10 + c
	}
	return n, true
}

// absent reports whether a log value means "nothing": empty or a lone dash.
func absent(s string) bool { return s == "" || s == "-" }

// setIP parses an address field into dst; IPv4-mapped IPv6 addresses become IPv4.
func setIP(dst *netip.Addr, format, field, v string) error {
	a, err := netip.ParseAddr(v)
	if err != nil {
		return fieldErr(format, field, v, "not an IP address")
	}
	*dst = a.Unmap()
	return nil
}

// setPort parses a port field into dst.
func setPort(dst *uint16, format, field, v string) error {
	n, ok := atou(v, 65535)
	if !ok {
		return fieldErr(format, field, v, "not a port number (0-65535)")
	}
	*dst = uint16(n)
	return nil
}

// setBytes parses a byte count into dst; a dash means unknown and leaves dst alone.
func setBytes(dst *uint64, format, field, v string) error {
	if absent(v) {
		return nil
	}
	n, ok := atou(v, 1<<63)
	if !ok {
		return fieldErr(format, field, v, "not a byte count")
	}
	*dst = n
	return nil
}

// setStatus parses an HTTP status; 0 ("000" in Squid) is kept as 0.
func setStatus(dst *uint16, format, field, v string) error {
	if absent(v) {
		return nil
	}
	n, ok := atou(v, 999)
	if !ok {
		return fieldErr(format, field, v, "not an HTTP status (0-999)")
	}
	*dst = uint16(n)
	return nil
}

// setAddrPort parses "ip", "ip:port" or "[ipv6]:port" into an endpoint.
func setAddrPort(dst *event.Endpoint, format, field, v string) error {
	// An address with a port has a ']' (IPv6) or one ':' after IPv4 digits; try the cheaper reading first,
	// since a failed netip parse allocates its error.
	if i := strings.LastIndexByte(v, ':'); i < 0 || strings.IndexByte(v, ']') < 0 && strings.IndexByte(v[:i], ':') >= 0 {
		return setIP(&dst.IP, format, field, v)
	}
	ap, err := netip.ParseAddrPort(v)
	if err != nil {
		return fieldErr(format, field, v, "not an IP address or address:port")
	}
	dst.IP, dst.Port = ap.Addr().Unmap(), ap.Port()
	return nil
}

// Label limits keep a hostile or chatty device from bloating events.
const (
	maxLabelKey   = 64
	maxLabelValue = 1024
)

// setLabel adds a label, making the map on first use (a caller may hand in a cleared map to reuse it).
// Past max labels, new keys are dropped; over-long keys and values are cut.
func setLabel(e *event.Event, max int, k, v string) {
	if e.Labels == nil {
		e.Labels = make(map[string]string, 8)
	}
	k, v = cut(k, maxLabelKey), cut(v, maxLabelValue)
	if _, ok := e.Labels[k]; !ok && len(e.Labels) >= max {
		return
	}
	e.Labels[k] = v
}

// lower lower-cases s, without allocating when s is lower-case already.
func lower(s string) string { return strings.ToLower(s) }

// appProto lower-cases an application protocol or service name (FortiGate service=, InterSafe's
// protocol column), without allocating for the common ones.
func appProto(v string) string {
	switch v {
	case "HTTP", "http":
		return "http"
	case "HTTPS", "https":
		return "https"
	case "DNS", "dns":
		return "dns"
	case "SSH", "ssh":
		return "ssh"
	case "SMB", "smb", "SAMBA":
		return "smb"
	case "RDP", "rdp":
		return "rdp"
	case "SMTP", "smtp":
		return "smtp"
	case "SMTPS", "smtps":
		return "smtps"
	case "NTP", "ntp":
		return "ntp"
	case "PING", "ping":
		return "ping"
	case "FTP", "ftp":
		return "ftp"
	case "ALL", "all":
		return "all"
	}
	return lower(v)
}

// transport names the network.transport of an IANA protocol number or name.
func transport(p string) string {
	switch p {
	case "6", "tcp", "TCP":
		return "tcp"
	case "17", "udp", "UDP":
		return "udp"
	case "1", "icmp", "ICMP":
		return "icmp"
	case "58", "icmpv6", "ICMPv6", "ICMPV6", "ipv6-icmp":
		return "ipv6-icmp"
	case "47", "gre", "GRE":
		return "gre"
	case "50", "esp", "ESP":
		return "esp"
	case "132", "sctp", "SCTP":
		return "sctp"
	}
	return lower(p)
}

// urlHost returns the lower-cased host of an absolute URL, of a CONNECT "host:port" target, or of a bare
// host; "" for a path-only URL. It never allocates for an already lower-case host.
func urlHost(u string) string {
	s := u
	if i := strings.Index(s, "://"); i >= 0 && strings.IndexAny(s[:i], "/?#") < 0 {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "/") || s == "-" || s == "*" {
		return ""
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return lower(s[1:i])
		}
		return ""
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		s = s[:i]
	}
	return lower(s)
}

// urlScheme returns "http" or "https" for such URLs and for CONNECT to port 443, else "".
func urlScheme(method, u string) string {
	switch {
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "HTTPS://"):
		return "https"
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "HTTP://"):
		return "http"
	case method == "CONNECT" && strings.HasSuffix(u, ":443"):
		return "https"
	case strings.HasPrefix(u, "ftp://"):
		return "ftp"
	}
	return ""
}

// containsFold reports whether s contains sub, ignoring ASCII case; sub must be upper-case ASCII.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}
