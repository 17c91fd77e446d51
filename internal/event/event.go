// Package event holds zonewatch's one normalised event: what ingest produces from any log line, what
// travels on NATS, what rules evaluate and what the writer stores. Field names follow the Elastic Common
// Schema (ECS) where it has one, so `source.ip`, `destination.port`, `user.name`, `url.domain`,
// `event.action` mean what a SOC analyst expects. The JSON form is ECS's nested form; the expr tags give
// rule authors the same dotted names; the ClickHouse columns are the same names with `_` for `.`.
package event

import (
	"net/netip"
	"time"
)

// Parse statuses: every line becomes an event, and this says how much of it was understood.
const (
	ParseOK       = "ok"       // envelope and body understood
	ParseEnvelope = "envelope" // syslog envelope understood, body kept as raw text only
	ParseFailed   = "failed"   // nothing understood: the event carries the raw line and the reason
)

// Outcomes, as in ECS event.outcome.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeUnknown = "unknown"
)

// Event is one normalised log record.
type Event struct {
	ID          string    `json:"id" expr:"id"`
	Timestamp   time.Time `json:"@timestamp" expr:"timestamp"`
	Meta        Meta      `json:"event" expr:"event"`
	Observer    Observer  `json:"observer" expr:"observer"`
	Source      Endpoint  `json:"source" expr:"source"`
	Destination Endpoint  `json:"destination" expr:"destination"`
	Network     Network   `json:"network" expr:"network"`
	User        User      `json:"user" expr:"user"`
	URL         URL       `json:"url" expr:"url"`
	HTTP        HTTP      `json:"http" expr:"http"`
	Process     Process   `json:"process" expr:"process"`
	Log         Log       `json:"log" expr:"log"`
	Message     string    `json:"message,omitempty" expr:"message"`
	// Labels holds device fields that have no ECS home (FortiGate policyid, i-FILTER category code …).
	Labels map[string]string `json:"labels,omitempty" expr:"labels"`
}

// Meta is ECS `event.*`.
type Meta struct {
	Ingested time.Time `json:"ingested" expr:"ingested"`
	Module   string    `json:"module" expr:"module"` // source type: fortigate, iptables, sshd, squid, ifilter, intersafe, gateway, syslog
	Category string    `json:"category,omitempty" expr:"category"`
	Action   string    `json:"action,omitempty" expr:"action"`
	Outcome  string    `json:"outcome,omitempty" expr:"outcome"`
	Severity uint8     `json:"severity" expr:"severity"` // syslog severity 0 (emergency) … 7 (debug)
	// CrossZone is true when source and destination are in different known zones; computed once at ingest.
	CrossZone bool `json:"cross_zone,omitempty" expr:"cross_zone"`
	// Original is the raw line as received (ECS event.original): evidence, never altered.
	Original string `json:"original" expr:"original"`
}

// Observer is the device that reported the event (ECS observer.*).
type Observer struct {
	Hostname string     `json:"hostname,omitempty" expr:"hostname"`
	IP       netip.Addr `json:"ip,omitzero" expr:"ip"`
	Zone     string     `json:"zone,omitempty" expr:"zone"`
}

// Endpoint is ECS source.* or destination.*, plus the zone and named host zonewatch adds.
type Endpoint struct {
	IP    netip.Addr `json:"ip,omitzero" expr:"ip"`
	Port  uint16     `json:"port,omitempty" expr:"port"`
	Zone  string     `json:"zone,omitempty" expr:"zone"`
	Host  string     `json:"host,omitempty" expr:"host"` // named host from the zone map (gateway, proxy …)
	Bytes uint64     `json:"bytes,omitempty" expr:"bytes"`
}

// Network is ECS network.*.
type Network struct {
	Transport string `json:"transport,omitempty" expr:"transport"` // tcp, udp, icmp
	Protocol  string `json:"protocol,omitempty" expr:"protocol"`   // application protocol: https, ssh, smtp …
}

// User is ECS user.*.
type User struct {
	Name string `json:"name,omitempty" expr:"name"`
}

// URL is ECS url.*.
type URL struct {
	Original string `json:"original,omitempty" expr:"original"`
	Domain   string `json:"domain,omitempty" expr:"domain"`
	Category string `json:"category,omitempty" expr:"category"` // proxy's web category (malware, phishing …)
}

// HTTP is ECS http.*.
type HTTP struct {
	Method    string `json:"method,omitempty" expr:"method"`
	Status    uint16 `json:"status,omitempty" expr:"status"`
	UserAgent string `json:"user_agent,omitempty" expr:"user_agent"`
}

// Process is ECS process.* (the syslog app name).
type Process struct {
	Name string `json:"name,omitempty" expr:"name"`
}

// Log says where the line came in and how well it parsed (ECS log.*, plus zonewatch's parse status).
type Log struct {
	Listener    string `json:"listener,omitempty" expr:"listener"`
	Facility    uint8  `json:"facility" expr:"facility"`
	ParseStatus string `json:"parse_status" expr:"parse_status"`
	ParseError  string `json:"parse_error,omitempty" expr:"parse_error"`
}
