package parse

import (
	"strings"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Squid's native access.log ("logformat squid"): time elapsed client code/status bytes method URL user
// hierarchy/peer type. Over syslog (app name squid) and from files alike. Example:
//
//	1764050100.123    245 10.30.1.20 TCP_TUNNEL/200 5234 CONNECT www.example.jp:443 tanaka HIER_DIRECT/203.0.113.5 -
//
// Fields: @timestamp, source.ip (client), destination.ip (peer, when an address), destination.bytes
// (bytes sent to the client), http.method, http.status, url.original, url.domain (CONNECT host:port too),
// network.protocol (http/https), user.name, event.action deny/allow, outcome, category web, label result
// (the Squid result code, e.g. TCP_DENIED).
func parseSquid(line string, e *event.Event, maxLabels int) (bool, error) {
	var fs [10]string
	n := splitPlain(line, fs[:])
	if n < 10 || !isEpoch(fs[0]) {
		return false, nil
	}
	const f = FormatSquid
	e.Meta.Module = f
	e.Meta.Category = "web"
	t, ok := epoch(fs[0])
	if !ok {
		return true, fieldErr(f, "time", fs[0], "not an epoch time")
	}
	e.Timestamp = t
	if err := setIP(&e.Source.IP, f, "client", fs[2]); err != nil {
		return true, err
	}
	code, status, _ := strings.Cut(fs[3], "/")
	if err := setStatus(&e.HTTP.Status, f, "status", status); err != nil {
		return true, err
	}
	squidAction(e, code, maxLabels)
	if err := setBytes(&e.Destination.Bytes, f, "bytes", fs[4]); err != nil {
		return true, err
	}
	setRequest(e, fs[5], fs[6])
	if !absent(fs[7]) {
		e.User.Name = fs[7]
	}
	if _, peer, ok := strings.Cut(fs[8], "/"); ok && !absent(peer) {
		_ = setIP(&e.Destination.IP, f, "peer", peer) // a peer may be a host name: then there is no address
	}
	return true, nil
}

// squidAction sets action and outcome from a Squid result code (TCP_MISS, TCP_DENIED …) and keeps it.
func squidAction(e *event.Event, code string, maxLabels int) {
	if code != "" {
		setLabel(e, maxLabels, "result", code)
	}
	switch {
	case strings.Contains(code, "DENIED"):
		e.Meta.Action, e.Meta.Outcome = "deny", event.OutcomeFailure
	case e.HTTP.Status >= 400 || strings.HasPrefix(code, "NONE"):
		e.Meta.Action, e.Meta.Outcome = "allow", event.OutcomeFailure
	default:
		e.Meta.Action, e.Meta.Outcome = "allow", event.OutcomeSuccess
	}
}

// setRequest fills method, URL, domain and application protocol of a proxied request.
func setRequest(e *event.Event, method, url string) {
	if !absent(method) {
		e.HTTP.Method = method
	}
	if absent(url) {
		return
	}
	e.URL.Original = url
	e.URL.Domain = urlHost(url)
	if p := urlScheme(method, url); p != "" {
		e.Network.Protocol = p
	}
	e.Network.Transport = "tcp"
}
