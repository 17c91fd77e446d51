package simulate

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

//go:embed default_org.yaml
var defaultOrgYAML []byte

// Org is the model of the organisation the simulator plays: zones, hosts,
// user groups with their calendars, web sites and traffic volumes. Load it
// with LoadOrg or DefaultOrg; both validate and expand it.
type Org struct {
	Name       string                           `yaml:"name"`
	MailDomain string                           `yaml:"mail_domain"`
	Calendars  map[string]calendar.CalendarSpec `yaml:"calendars"`
	Zones      []Zone                           `yaml:"zones"`
	External   External                         `yaml:"external"`
	Hosts      []Host                           `yaml:"hosts"`
	Approved   []Approved                       `yaml:"approved"`
	Groups     []Group                          `yaml:"groups"`
	Sites      []Site                           `yaml:"sites"`
	Volumes    Volumes                          `yaml:"volumes"`

	// Derived by validate.
	users     []User
	cals      *calendar.Set
	zoneNets  []netip.Prefix
	lgwanNet  netip.Prefix
	publicNet []netip.Prefix
}

// Zone is one of the organisation's network zones.
type Zone struct {
	Name string `yaml:"name"`
	CIDR string `yaml:"cidr"`
}

// External lists the address ranges outside the organisation.
type External struct {
	LGWANNetwork string   `yaml:"lgwan_network"`
	Internet     []string `yaml:"internet"`
}

// Host roles.
const (
	RoleFirewall = "firewall"
	RoleProxy    = "proxy"
	RoleGateway  = "gateway"
	RoleLinux    = "linux"
	RoleServer   = "server"
)

// Host is a named machine. Firewalls, proxies, gateways and Linux servers
// write logs; servers are only destinations.
type Host struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
	Zone string `yaml:"zone"`
	IP   string `yaml:"ip"`
	// PeerIP is a gateway's leg in the internet zone.
	PeerIP string `yaml:"peer_ip,omitempty"`
	// DevID is a firewall's serial number.
	DevID string `yaml:"devid,omitempty"`
	// Format of a proxy: squid or ifilter.
	Format string `yaml:"format,omitempty"`
	// Transport of a proxy: file, syslog3164.
	Transport string `yaml:"transport,omitempty"`
	// Kind of a gateway: mail-sanitizer, file-sanitizer, screen-transfer.
	Kind string `yaml:"kind,omitempty"`
	// Service of a server: mail, dns, update, business.
	Service string `yaml:"service,omitempty"`
	// ClockSkew makes a Linux host's clock run off by this much (e.g.
	// "+2m30s"): its lines carry the skewed time while Line.Time, the time
	// they are sent, stays true. Drift is what the monitoring should see.
	ClockSkew string `yaml:"clock_skew,omitempty"`

	addr, peer netip.Addr
	skew       time.Duration
}

// Skew returns the parsed ClockSkew.
func (h *Host) Skew() time.Duration { return h.skew }

// Addr returns the host's address.
func (h *Host) Addr() netip.Addr { return h.addr }

// Approved is a flow the organisation allows across a boundary.
type Approved struct {
	From    string `yaml:"from"`
	To      string `yaml:"to"`
	Port    int    `yaml:"port"`
	Service string `yaml:"service"`
}

// Group is a set of users sharing a calendar and habits.
type Group struct {
	Name     string `yaml:"name"`
	Label    string `yaml:"label"`
	Calendar string `yaml:"calendar"`
	Count    int    `yaml:"count"`
	// Terminals is the address pool the group's terminals come from.
	Terminals string `yaml:"terminals"`
	// SharedTerminals > 0 makes users share that many terminals (shift crews).
	SharedTerminals int `yaml:"shared_terminals,omitempty"`
	// Browse: screen (virtual browser via screen transfer), direct, none.
	Browse string `yaml:"browse"`
	// SSH: publickey or password for accounts that log in to Linux servers.
	SSH string `yaml:"ssh,omitempty"`
	// Prefix is put before generated account names (adm., ctr.).
	Prefix string `yaml:"prefix,omitempty"`
}

// Site is a web destination with its filter category.
type Site struct {
	Host     string `yaml:"host"`
	Category string `yaml:"category"`
	Weight   int    `yaml:"weight"`
	Blocked  bool   `yaml:"blocked,omitempty"`

	addr netip.Addr
}

// Volumes are hourly rates at full activity.
type Volumes struct {
	WebPerUser             float64 `yaml:"web_per_user"`
	LGWANSessionsPerUser   float64 `yaml:"lgwan_sessions_per_user"`
	ScreenSessionsPerUser  float64 `yaml:"screen_sessions_per_user"`
	FilesPerUser           float64 `yaml:"files_per_user"`
	MailInPerUser          float64 `yaml:"mail_in_per_user"`
	MailOutPerUser         float64 `yaml:"mail_out_per_user"`
	SSHLoginsPerAdmin      float64 `yaml:"ssh_logins_per_admin"`
	SSHLoginsPerContractor float64 `yaml:"ssh_logins_per_contractor"`
	IptablesNoisePerHost   float64 `yaml:"iptables_noise_per_host"`
	InternetNoise          float64 `yaml:"internet_noise"`
	InboundWeb             float64 `yaml:"inbound_web"`
	DNSSessions            float64 `yaml:"dns_sessions"`
	MynumberApproved       float64 `yaml:"mynumber_approved"`
}

// User is one generated account.
type User struct {
	Name     string
	Group    string
	Calendar string
	Terminal netip.Addr
}

// DefaultOrg returns the embedded default organisation (default_org.yaml).
func DefaultOrg() *Org {
	o, err := ParseOrg(defaultOrgYAML)
	if err != nil {
		panic(fmt.Sprintf("simulate: embedded default_org.yaml: %v", err))
	}
	return o
}

// LoadOrg reads and validates an organisation file.
func LoadOrg(path string) (*Org, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load org: %w", err)
	}
	o, err := ParseOrg(data)
	if err != nil {
		return nil, fmt.Errorf("load org %s: %w", path, err)
	}
	return o, nil
}

// ParseOrg parses and validates an organisation in YAML. Unknown keys are
// errors, so a typo does not silently change the model.
func ParseOrg(data []byte) (*Org, error) {
	var o Org
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField())
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("parse org: %w", err)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &o, nil
}

// Users returns every generated account in a stable order.
func (o *Org) Users() []User { return slices.Clone(o.users) }

// User returns the account called name.
func (o *Org) User(name string) (User, bool) {
	for _, u := range o.users {
		if u.Name == name {
			return u, true
		}
	}
	return User{}, false
}

// CalendarSet returns the organisation's calendars.
func (o *Org) CalendarSet() *calendar.Set { return o.cals }

// Host returns the host called name.
func (o *Org) Host(name string) (*Host, bool) {
	for i := range o.Hosts {
		if o.Hosts[i].Name == name {
			return &o.Hosts[i], true
		}
	}
	return nil, false
}

// ZoneOf returns the zone of an internal address, "lgwan-network" for the
// LGWAN network, "internet" for public ranges of the model, or "".
func (o *Org) ZoneOf(ip netip.Addr) string {
	for i, p := range o.zoneNets {
		if p.Contains(ip) {
			return o.Zones[i].Name
		}
	}
	if o.lgwanNet.Contains(ip) {
		return "lgwan-network"
	}
	for _, p := range o.publicNet {
		if p.Contains(ip) {
			return "public"
		}
	}
	return ""
}

var surnames = [...]string{
	"sato", "suzuki", "takahashi", "tanaka", "ito", "watanabe", "yamamoto", "nakamura", "kobayashi", "kato",
	"yoshida", "yamada", "sasaki", "yamaguchi", "matsumoto", "inoue", "kimura", "hayashi", "saito", "shimizu",
	"yamazaki", "mori", "abe", "ikeda", "hashimoto", "yamashita", "ishikawa", "nakajima", "maeda", "fujita",
	"ogawa", "goto", "okada", "hasegawa", "murakami", "kondo", "ishii", "aoki", "sakamoto", "endo",
}

func (o *Org) validate() error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	cals, err := calendar.NewSet(o.Calendars, nil)
	if err != nil {
		fail("calendars: %w", err)
	}
	o.cals = cals

	zoneNames := map[string]bool{}
	for i, z := range o.Zones {
		p, err := netip.ParsePrefix(z.CIDR)
		if err != nil {
			fail("zones[%d] %s: cidr %q: %v", i, z.Name, z.CIDR, err)
		}
		zoneNames[z.Name] = true
		o.zoneNets = append(o.zoneNets, p.Masked())
	}
	for _, want := range []string{"mynumber", "lgwan", "internet"} {
		if !zoneNames[want] {
			fail("zones: zone %q missing", want)
		}
	}
	if o.lgwanNet, err = netip.ParsePrefix(o.External.LGWANNetwork); err != nil {
		fail("external.lgwan_network %q: %v", o.External.LGWANNetwork, err)
	}
	for _, s := range o.External.Internet {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			fail("external.internet %q: %v", s, err)
			continue
		}
		o.publicNet = append(o.publicNet, p.Masked())
	}
	if len(o.publicNet) == 0 {
		fail("external.internet: at least one public range is needed")
	}

	names := map[string]bool{}
	for i := range o.Hosts {
		h := &o.Hosts[i]
		where := fmt.Sprintf("hosts[%d] %s", i, h.Name)
		if h.Name == "" || strings.ContainsAny(h.Name, " \t") {
			fail("%s: name must be non-empty without spaces", where)
		}
		if names[h.Name] {
			fail("%s: duplicate host name", where)
		}
		names[h.Name] = true
		if !zoneNames[h.Zone] {
			fail("%s: unknown zone %q", where, h.Zone)
		}
		if h.addr, err = netip.ParseAddr(h.IP); err != nil {
			fail("%s: ip %q: %v", where, h.IP, err)
		} else if z := o.ZoneOf(h.addr); z != h.Zone && len(o.zoneNets) == len(o.Zones) {
			fail("%s: ip %s is not in zone %s", where, h.IP, h.Zone)
		}
		if h.ClockSkew != "" {
			if h.skew, err = time.ParseDuration(h.ClockSkew); err != nil {
				fail("%s: clock_skew %q: %v", where, h.ClockSkew, err)
			} else if h.Role != RoleLinux {
				fail("%s: clock_skew is only supported on linux hosts", where)
			}
		}
		switch h.Role {
		case RoleFirewall:
			if h.DevID == "" {
				fail("%s: firewall needs devid", where)
			}
		case RoleProxy:
			if h.Format != FormatSquid && h.Format != FormatIFilter {
				fail("%s: proxy format %q: want squid or ifilter", where, h.Format)
			}
			switch h.Transport {
			case TransportFile, TransportSyslog3164:
			case "":
				h.Transport = TransportFile
			default:
				fail("%s: proxy transport %q: want file or syslog3164", where, h.Transport)
			}
			if h.Format == FormatIFilter && h.Transport != TransportFile {
				fail("%s: i-FILTER logs are read from a file (transport file)", where)
			}
		case RoleGateway:
			switch h.Kind {
			case "mail-sanitizer", "file-sanitizer", "screen-transfer":
			default:
				fail("%s: gateway kind %q: want mail-sanitizer, file-sanitizer or screen-transfer", where, h.Kind)
			}
			if h.peer, err = netip.ParseAddr(h.PeerIP); err != nil {
				fail("%s: peer_ip %q: %v", where, h.PeerIP, err)
			}
		case RoleLinux, RoleServer:
		default:
			fail("%s: unknown role %q", where, h.Role)
		}
	}
	for _, z := range []string{"mynumber", "lgwan", "internet"} {
		if o.firewallFor(z) == nil {
			fail("hosts: no firewall for zone %s", z)
		}
	}
	for _, need := range []struct{ role, kind string }{{RoleGateway, "mail-sanitizer"}, {RoleGateway, "file-sanitizer"}, {RoleGateway, "screen-transfer"}, {RoleProxy, ""}, {RoleLinux, ""}} {
		if len(o.hostsWith(need.role, need.kind)) == 0 {
			fail("hosts: need a %s %s", need.role, need.kind)
		}
	}
	for _, z := range []string{"mynumber", "lgwan", "internet"} {
		found := false
		for _, h := range o.hostsWith(RoleLinux, "") {
			found = found || h.Zone == z
		}
		if !found {
			fail("hosts: need a linux host in zone %s", z)
		}
	}

	for i, a := range o.Approved {
		where := fmt.Sprintf("approved[%d] %s", i, a.Service)
		if _, err := netip.ParsePrefix(a.From); err != nil {
			fail("%s: from %q: %v", where, a.From, err)
		}
		if _, err := netip.ParsePrefix(a.To); err != nil {
			fail("%s: to %q: %v", where, a.To, err)
		}
		if a.Port < 1 || a.Port > 65535 {
			fail("%s: port %d outside 1..65535", where, a.Port)
		}
		if a.Service == "" || strings.ContainsAny(a.Service, " \"") {
			fail("%s: service must be a name without spaces or quotes", where)
		}
	}
	for i := range o.Sites {
		s := &o.Sites[i]
		if s.Host == "" || strings.ContainsAny(s.Host, " /") {
			fail("sites[%d]: host %q", i, s.Host)
		}
		if CategoryCode(s.Category) == "0000" {
			fail("sites[%d] %s: unknown category %q", i, s.Host, s.Category)
		}
		s.addr = publicAddr(o.publicNet, s.Host)
	}
	if len(o.sitesIn("malware")) == 0 {
		fail("sites: need a site with category malware for the malware incident")
	}

	userNames := map[string]bool{}
	for i, g := range o.Groups {
		where := fmt.Sprintf("groups[%d] %s", i, g.Name)
		if cals != nil {
			if _, ok := cals.Get(g.Calendar); !ok {
				fail("%s: unknown calendar %q", where, g.Calendar)
			}
		}
		pool, err := netip.ParsePrefix(g.Terminals)
		if err != nil {
			fail("%s: terminals %q: %v", where, g.Terminals, err)
			continue
		}
		if pool.Masked() != pool {
			fail("%s: terminals %s is not a network address (did you mean %s?)", where, pool, pool.Masked())
			continue
		}
		if z := o.ZoneOf(pool.Addr()); !zoneNames[z] {
			fail("%s: terminals %s lie in no zone", where, pool)
		}
		for _, h := range o.Hosts {
			if h.addr.IsValid() && pool.Contains(h.addr) {
				fail("%s: terminals %s contain host %s (%s)", where, pool, h.Name, h.IP)
			}
		}
		switch g.Browse {
		case "screen", "direct", "none":
		default:
			fail("%s: browse %q: want screen, direct or none", where, g.Browse)
		}
		switch g.SSH {
		case "", "publickey", "password":
		default:
			fail("%s: ssh %q: want publickey or password", where, g.SSH)
		}
		if g.Count < 1 {
			fail("%s: count %d: want at least 1", where, g.Count)
		}
		nTerm := g.Count
		if g.SharedTerminals > 0 && g.SharedTerminals < nTerm {
			nTerm = g.SharedTerminals
		}
		size := 1 << (32 - pool.Bits())
		if nTerm+2 > size {
			fail("%s: %d terminals do not fit in %s", where, nTerm, g.Terminals)
			continue
		}
		base := pool.Masked().Addr()
		for k := range g.Count {
			// Names run on across groups: sato.a, suzuki.b, … then the
			// initials shift so that 300 staff rarely need a number.
			n := len(o.users)
			stem := g.Prefix + surnames[n%len(surnames)] + "." + string(rune('a'+(n+n/len(surnames)*3)%26))
			name := stem
			for d := 2; userNames[name]; d++ {
				name = stem + strconv.Itoa(d)
			}
			userNames[name] = true
			term := base
			for range 1 + k%nTerm {
				term = term.Next()
			}
			o.users = append(o.users, User{Name: name, Group: g.Name, Calendar: g.Calendar, Terminal: term})
		}
	}
	if len(o.users) == 0 {
		fail("groups: no users")
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("org %q: %w", o.Name, err)
	}
	return nil
}

func (o *Org) firewallFor(zone string) *Host {
	for i := range o.Hosts {
		if o.Hosts[i].Role == RoleFirewall && o.Hosts[i].Zone == zone {
			return &o.Hosts[i]
		}
	}
	return nil
}

func (o *Org) hostsWith(role, kind string) []*Host {
	var out []*Host
	for i := range o.Hosts {
		h := &o.Hosts[i]
		if h.Role == role && (kind == "" || h.Kind == kind || h.Service == kind || h.Format == kind) {
			out = append(out, h)
		}
	}
	return out
}

func (o *Org) sitesIn(category string) []*Site {
	var out []*Site
	for i := range o.Sites {
		if o.Sites[i].Category == category {
			out = append(out, &o.Sites[i])
		}
	}
	return out
}

// publicAddr maps a host name to a stable address in the public ranges
// (FNV-1a), so that one name always resolves to the same address.
func publicAddr(nets []netip.Prefix, name string) netip.Addr {
	if len(nets) == 0 {
		return netip.Addr{}
	}
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	p := nets[int(h%uint32(len(nets)))]
	return hostInPrefix(p, int(h>>8))
}

// hostInPrefix returns the n-th usable address of p (wrapping), skipping the
// network and broadcast addresses of an IPv4 prefix.
func hostInPrefix(p netip.Prefix, n int) netip.Addr {
	size := 1 << (32 - p.Bits())
	if size > 1<<24 {
		size = 1 << 24
	}
	usable := size - 2
	if usable < 1 {
		return p.Addr()
	}
	off := 1 + n%usable
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(off)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
