package plugin

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/query/api"
)

// GuardedZones are the zones a user's scope grants or withholds, as in the query API.
var guardedZones = []string{"mynumber", "lgwan", "internet"}

// Settings are a data source's jsonData and decrypted secureJsonData (see the plugin contract in
// dashboards/README.md).
type Settings struct {
	// Address is the ClickHouse native address host:port.
	Address  string `json:"address"`
	Database string `json:"database"`
	Username string `json:"username"`
	TLS      bool   `json:"tls"`
	// TLSSkipVerify accepts any server certificate: for tests only.
	TLSSkipVerify bool `json:"tlsSkipVerify"`
	// RoleMap maps Grafana's org roles (Viewer, Editor, Admin) to zonewatch roles (viewer, analyst,
	// rule-author, admin).
	RoleMap map[string]string `json:"roleMap"`
	// ZoneScopes maps a Grafana login (or team name, when Grafana forwards it) to the guarded zones
	// it may read; "*" reads all.
	ZoneScopes map[string][]string `json:"zoneScopes"`
	// ViewerZones are the zones of a user whose login has no ZoneScopes entry and who is not an
	// admin; default lgwan and internet (never mynumber unless listed).
	ViewerZones []string `json:"viewerZones"`
	// BackgroundZones are the zones of requests that come without a user (Grafana's alert rule
	// evaluations, its own background work), which run as viewer (aggregates only); default
	// ViewerZones. List mynumber here for Grafana alert rules on the mynumber zone.
	BackgroundZones []string `json:"backgroundZones"`
	// Calendars are duty calendars (internal/calendar's spec) for off-hours queries; default one
	// "office" calendar, 08:30–17:15 on working days.
	Calendars map[string]calendar.CalendarSpec `json:"calendars"`
	// CalendarOf maps a user name or host name to its calendar's name; others use DefaultCalendar.
	CalendarOf map[string]string `json:"calendarOf"`
	// DefaultCalendar is the calendar of keys CalendarOf does not name; default "office".
	DefaultCalendar string `json:"defaultCalendar"`
	// StreamInterval is how often the alerts stream polls for new alerts, in seconds; default 5.
	StreamInterval int `json:"streamInterval"`

	Password      string `json:"-"`
	TLSCACert     string `json:"-"`
	TLSClientCert string `json:"-"`
	TLSClientKey  string `json:"-"`

	cals *calendar.Set
}

// ParseSettings reads and checks a data source's settings, with defaults applied.
func ParseSettings(s backend.DataSourceInstanceSettings) (*Settings, error) {
	var st Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &st); err != nil {
			return nil, fmt.Errorf("settings: jsonData of data source %q is not valid: %w", s.Name, err)
		}
	}
	sec := s.DecryptedSecureJSONData
	st.Password, st.TLSCACert, st.TLSClientCert, st.TLSClientKey = sec["password"], sec["tlsCACert"], sec["tlsClientCert"], sec["tlsClientKey"]
	if err := st.defaults(); err != nil {
		return nil, fmt.Errorf("settings of data source %q: %w", s.Name, err)
	}
	return &st, nil
}

func (s *Settings) defaults() error {
	if s.Address == "" {
		return errors.New("address is empty: give the ClickHouse native address, e.g. 127.0.0.1:9000")
	}
	if _, _, err := net.SplitHostPort(s.Address); err != nil {
		return fmt.Errorf("address %q is not host:port (e.g. 127.0.0.1:9000): %w", s.Address, err)
	}
	if s.Database == "" {
		s.Database = "zonewatch"
	}
	if s.Username == "" {
		s.Username = "default"
	}
	if s.RoleMap == nil {
		s.RoleMap = map[string]string{}
	}
	for grafana, zw := range map[string]string{"Viewer": "viewer", "Editor": "analyst", "Admin": "admin"} {
		if _, ok := s.RoleMap[grafana]; !ok {
			s.RoleMap[grafana] = zw
		}
	}
	for grafana, zw := range s.RoleMap {
		if !api.Role(zw).Valid() {
			return fmt.Errorf("roleMap.%s: %q is not a zonewatch role: use viewer, analyst, rule-author or admin", grafana, zw)
		}
	}
	if s.ViewerZones == nil {
		s.ViewerZones = []string{"lgwan", "internet"}
	}
	if s.BackgroundZones == nil {
		s.BackgroundZones = slices.Clone(s.ViewerZones)
	}
	for _, z := range append(slices.Clone(s.ViewerZones), s.BackgroundZones...) {
		if z != "*" && !slices.Contains(guardedZones, z) {
			return fmt.Errorf("viewerZones/backgroundZones: %q is not a zone: use %s or *", z, strings.Join(guardedZones, ", "))
		}
	}
	for who, zones := range s.ZoneScopes {
		for _, z := range zones {
			if z != "*" && !slices.Contains(guardedZones, z) {
				return fmt.Errorf("zoneScopes.%s: %q is not a zone: use %s or *", who, z, strings.Join(guardedZones, ", "))
			}
		}
	}
	if len(s.Calendars) == 0 {
		s.Calendars = map[string]calendar.CalendarSpec{"office": {Kind: "office", Start: "08:30", End: "17:15"}}
	}
	if s.DefaultCalendar == "" {
		s.DefaultCalendar = "office"
	}
	set, err := calendar.NewSet(s.Calendars, nil)
	if err != nil {
		return fmt.Errorf("calendars: %w", err)
	}
	if _, ok := set.Get(s.DefaultCalendar); !ok {
		return fmt.Errorf("defaultCalendar %q is not one of the calendars (%s)", s.DefaultCalendar, strings.Join(set.Names(), ", "))
	}
	s.cals = set
	if s.StreamInterval <= 0 {
		s.StreamInterval = 5
	}
	return nil
}

// tlsConfig returns the TLS configuration of the connection, nil without TLS.
func (s *Settings) tlsConfig() (*tls.Config, error) {
	if !s.TLS {
		return nil, nil
	}
	host, _, _ := net.SplitHostPort(s.Address)
	c := &tls.Config{ServerName: host, InsecureSkipVerify: s.TLSSkipVerify, MinVersion: tls.VersionTLS12} //nolint:gosec // the operator's explicit choice
	if s.TLSCACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.TLSCACert)) {
			return nil, errors.New("tlsCACert holds no PEM certificate: paste the CA certificate, -----BEGIN CERTIFICATE----- included")
		}
		c.RootCAs = pool
	}
	if s.TLSClientCert != "" || s.TLSClientKey != "" {
		pair, err := tls.X509KeyPair([]byte(s.TLSClientCert), []byte(s.TLSClientKey))
		if err != nil {
			return nil, fmt.Errorf("tlsClientCert/tlsClientKey: %w: paste both in PEM", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
