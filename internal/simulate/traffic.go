package simulate

import (
	"context"
	"math"
	"net/netip"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// Background activity kinds.
const (
	actWeb              = iota // proxy request by a user (+ firewall session of the proxy)
	actLGWAN                   // lgwan terminal to an LGWAN-ASP service (fw-lgwan)
	actScreen                  // screen-transfer session opened
	actFile                    // file sanitised for a user
	actMailIn                  // internet mail converted to text for a user
	actMailOut                 // mail from a user relayed out
	actSSH                     // ssh login of an admin or contractor
	actIptables                // netfilter drop of broadcast/neighbour noise on a Linux host
	actInternetNoise           // fw-internet deny of scanning noise from the internet
	actInboundWeb              // fw-internet accepted session to the public web server
	actDNS                     // fw-lgwan DNS forwarding to the LGWAN network
	actMynumberApproved        // fw-mynumber approved update/NTP flow of a mynumber terminal
)

// activity is one source of background lines with its hourly rate.
type activity struct {
	kind    int
	group   int   // index into Org.Groups for user activities, -1 else
	users   []int // indices into Org.users
	calKind string
	host    *Host
	perHour float64 // per user (user activities) or per device
}

func (s *Simulator) buildActivities() {
	o := s.org
	v := o.Volumes
	for gi, grp := range o.Groups {
		users := s.userIdx[grp.Name]
		if len(users) == 0 {
			continue
		}
		calKind := ""
		if c, ok := o.cals.Get(grp.Calendar); ok {
			calKind = c.Kind()
		}
		zone := o.ZoneOf(o.users[users[0]].Terminal)
		add := func(kind int, perHour float64) {
			if perHour > 0 {
				s.acts = append(s.acts, activity{kind: kind, group: gi, users: users, calKind: calKind, perHour: perHour})
			}
		}
		if grp.Browse != "none" {
			rate := v.WebPerUser
			if calKind == calendar.KindShift {
				rate /= 4 // crews are on calls and drills, not at a desk
			}
			add(actWeb, rate)
		}
		if zone == "mynumber" && len(o.Approved) > 0 {
			add(actMynumberApproved, v.MynumberApproved)
		}
		if zone == "lgwan" {
			add(actLGWAN, v.LGWANSessionsPerUser)
			add(actMailIn, v.MailInPerUser)
			add(actMailOut, v.MailOutPerUser)
			if grp.Browse == "screen" {
				add(actScreen, v.ScreenSessionsPerUser)
				add(actFile, v.FilesPerUser)
			}
		}
		switch grp.SSH {
		case "publickey":
			add(actSSH, v.SSHLoginsPerAdmin)
		case "password":
			add(actSSH, v.SSHLoginsPerContractor)
		}
	}
	for i := range o.Hosts {
		h := &o.Hosts[i]
		if h.Role == RoleLinux && v.IptablesNoisePerHost > 0 {
			s.acts = append(s.acts, activity{kind: actIptables, group: -1, host: h, perHour: v.IptablesNoisePerHost})
		}
	}
	dev := func(kind int, perHour float64) {
		if perHour > 0 {
			s.acts = append(s.acts, activity{kind: kind, group: -1, perHour: perHour})
		}
	}
	dev(actInternetNoise, v.InternetNoise)
	if len(o.hostsWith(RoleLinux, "")) > 0 {
		dev(actInboundWeb, v.InboundWeb)
	}
	if s.topo.dns != nil {
		dev(actDNS, v.DNSSessions)
	}
}

// topology caches the hosts the renderers need; built once in New.
type topology struct {
	proxies      []*Host
	firewall     map[string]*Host
	linux        []*Host
	linuxByZone  map[string][]*Host
	screen, file *Host
	mail         *Host
	dns          *Host
	lgMail       netip.Addr
	groupIdx     map[string]int
}

func (s *Simulator) buildTopology() {
	o := s.org
	t := &s.topo
	t.proxies = o.hostsWith(RoleProxy, "")
	t.firewall = map[string]*Host{}
	for _, z := range o.Zones {
		if fw := o.firewallFor(z.Name); fw != nil {
			t.firewall[z.Name] = fw
		}
	}
	t.linux = o.hostsWith(RoleLinux, "")
	t.linuxByZone = map[string][]*Host{}
	for _, h := range t.linux {
		t.linuxByZone[h.Zone] = append(t.linuxByZone[h.Zone], h)
	}
	t.screen = o.hostsWith(RoleGateway, "screen-transfer")[0]
	t.file = o.hostsWith(RoleGateway, "file-sanitizer")[0]
	t.mail = o.hostsWith(RoleGateway, "mail-sanitizer")[0]
	t.lgMail = t.mail.addr
	if ms := o.hostsWith(RoleServer, "mail"); len(ms) > 0 {
		t.lgMail = ms[0].addr
	}
	if ds := o.hostsWith(RoleServer, "dns"); len(ds) > 0 {
		t.dns = ds[0]
	}
	t.groupIdx = map[string]int{}
	for i, g := range o.Groups {
		t.groupIdx[g.Name] = i
	}
}

// rate returns the activity's lines-per-second rate during minute m.
func (a *activity) rate(g *generator, m time.Time) float64 {
	if a.group >= 0 {
		if !g.ms.onDuty[a.group] {
			return 0
		}
		return a.perHour / 3600 * float64(len(a.users)) * rhythm(a.calKind, m)
	}
	r := a.perHour / 3600
	if a.kind == actInboundWeb {
		// Visitors of the public site follow the day loosely.
		h := m.In(tokyo()).Hour()
		if h < 7 || h >= 22 {
			r *= 0.3
		}
	}
	return r
}

// Helpers to draw values.

func (g *generator) chance(p float64) bool { return g.rng.Float64() < p }

// bytesLogNormal draws a transfer size with median e^mu.
func (g *generator) bytesLogNormal(mu, sigma float64, max int64) int64 {
	v := int64(math.Exp(mu + sigma*g.rng.NormFloat64()))
	if v < 64 {
		v = 64
	}
	if v > max {
		v = max
	}
	return v
}

func (g *generator) ephemeralPort() int { return 49152 + g.rng.IntN(16383) }

func (g *generator) publicAddr() netip.Addr {
	p := g.org.publicNet[g.rng.IntN(len(g.org.publicNet))]
	return hostInPrefix(p, g.rng.IntN(1<<16))
}

func (g *generator) pickSite() *Site {
	x := g.rng.IntN(g.webCum[len(g.webCum)-1])
	for i, c := range g.webCum {
		if x < c {
			return g.webSite[i]
		}
	}
	return g.webSite[len(g.webSite)-1]
}

func (g *generator) pickUser(a *activity) *User {
	return &g.org.users[a.users[g.rng.IntN(len(a.users))]]
}

// render generates the lines of one background event of activity a at t.
func (g *generator) render(ctx context.Context, a *activity, t time.Time) error {
	g.setStamp(t)
	switch a.kind {
	case actWeb:
		return g.renderWeb(ctx, t, g.pickUser(a), g.pickSite(), "")
	case actLGWAN:
		return g.renderLGWAN(ctx, t, g.pickUser(a))
	case actScreen:
		return g.renderScreen(ctx, t, g.pickUser(a))
	case actFile:
		return g.renderFile(ctx, t, g.pickUser(a))
	case actMailIn, actMailOut:
		return g.renderMail(ctx, t, g.pickUser(a), a.kind == actMailIn)
	case actSSH:
		return g.renderSSHLogin(ctx, t, g.pickUser(a))
	case actIptables:
		return g.renderIptablesNoise(ctx, t, a.host)
	case actInternetNoise:
		return g.renderInternetNoise(ctx, t)
	case actInboundWeb:
		return g.renderInboundWeb(ctx, t)
	case actDNS:
		return g.renderDNS(ctx, t)
	case actMynumberApproved:
		return g.renderMynumberApproved(ctx, t, g.pickUser(a))
	}
	return nil
}

// clientOf is the address a proxy sees for u: the virtual browser behind the
// screen-transfer gateway, or the user's own internet-zone terminal.
func (g *generator) clientOf(u *User) netip.Addr {
	if g.org.ZoneOf(u.Terminal) == "internet" {
		return u.Terminal
	}
	return g.s.topo.screen.peer
}

var userAgents = [...]string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
}

var webPaths = [...]string{"/", "/index.html", "/news/", "/top.html", "/search?q=fire", "/img/logo.png", "/css/main.css", "/js/app.js", "/docs/notice.pdf", "/api/v1/items"}

// renderWeb emits one proxy request by u to site, through a proxy chosen at
// random, and sometimes the proxy's upstream session on the firewall.
// upload > 0 makes it a POST of that many bytes (an incident).
func (g *generator) renderWeb(ctx context.Context, t time.Time, u *User, site *Site, incident string) error {
	g.setStamp(t)
	proxies := g.s.topo.proxies
	px := proxies[g.rng.IntN(len(proxies))]
	client := g.clientOf(u)
	https := g.chance(0.85)
	blocked := site.Blocked
	elapsed := 20 + int(g.bytesLogNormal(5, 1, 30000))
	size := g.bytesLogNormal(8.5, 1.6, 50<<20)
	method := "GET"
	u8 := g.url[:0]
	if https {
		method = "CONNECT"
		u8 = append(u8, site.Host...)
		u8 = append(u8, ":443"...)
	} else {
		u8 = append(u8, "http://"...)
		u8 = append(u8, site.Host...)
		u8 = append(u8, webPaths[g.rng.IntN(len(webPaths))]...)
	}
	g.url = u8
	url := u8
	g.buf = g.buf[:0]
	switch px.Format {
	case FormatSquid:
		r := squidRecord{elapsedMS: elapsed, client: client, bytes: size, method: method, url: url, user: u.Name, hier: "HIER_DIRECT", server: site.addr}
		switch {
		case blocked:
			r.code, r.bytes, r.hier, r.server, r.mime = "TCP_DENIED/403", 3950, "HIER_NONE", netip.Addr{}, "text/html"
		case https:
			r.code = "TCP_TUNNEL/200"
		default:
			r.code, r.mime = "TCP_MISS/200", "text/html"
			if g.chance(0.2) {
				r.code, r.hier, r.server = "TCP_MEM_HIT/200", "HIER_NONE", netip.Addr{}
			}
		}
		if px.Transport == TransportFile {
			g.buf = appendSquid(g.buf, t, &r)
		} else {
			g.buf = append3164Header(g.buf, priSquidInfo, g.st, px.Name, "squid", pidOf(px.Name))
			g.buf = appendSquid(g.buf, t, &r)
		}
		if err := g.emitMaybeIncident(ctx, t, px.Name, FormatSquid, px.Transport, incident); err != nil {
			return err
		}
	case FormatIFilter:
		r := ifilterRecord{elapsedMS: elapsed, client: client, user: u.Name, status: 200, respBytes: size, reqBytes: 300 + int64(g.rng.IntN(900)), action: "pass", category: CategoryCode(site.Category), method: method, url: url, agent: userAgents[g.rng.IntN(len(userAgents))]}
		if blocked {
			r.status, r.respBytes, r.action = 403, 2048, "block"
		}
		g.buf = appendIFilter(g.buf, g.st, &r)
		if err := g.emitMaybeIncident(ctx, t, px.Name, FormatIFilter, TransportFile, incident); err != nil {
			return err
		}
	}
	if blocked || !g.chance(0.25) {
		return nil
	}
	port := 443
	svc := "HTTPS"
	if !https {
		port, svc = 80, "HTTP"
	}
	return g.renderFortiSession(ctx, t.Add(time.Duration(elapsed)*time.Millisecond), px.Zone, px.addr, site.addr, 6, port, svc, "close", 21, size/20+400, size, incident)
}

func (g *generator) emitMaybeIncident(ctx context.Context, t time.Time, device, format, transport, incident string) error {
	if incident != "" {
		g.inc = append(g.inc, scheduledLine{t: t, device: device, format: format, transport: transport, incident: incident, wire: append([]byte(nil), g.buf...)})
		return nil
	}
	return g.emit(ctx, t, device, format, transport)
}

// renderFortiSession emits a FortiGate traffic line on the firewall of zone.
func (g *generator) renderFortiSession(ctx context.Context, t time.Time, zone string, src, dst netip.Addr, proto, dport int, service, action string, policy int, sent, rcvd int64, incident string) error {
	fw := g.s.topo.firewall[zone]
	g.setStamp(t)
	r := fgRecord{devname: fw.Name, devid: fw.DevID, srcip: src, dstip: dst, srcport: g.ephemeralPort(), dstport: dport,
		srcintf: "lan", dstintf: "wan1", proto: proto, action: action, service: service, policyid: policy,
		sessionid: int64(g.rng.Uint32() >> 4)}
	if z := g.org.ZoneOf(src); z == "public" || z == "lgwan-network" {
		r.srcintf, r.dstintf = "wan1", "lan"
	}
	if action != "deny" {
		r.sentbyte, r.rcvdbyte = sent, rcvd
		r.duration = 1 + int(rcvd/200000) + g.rng.IntN(30)
	}
	g.buf = appendFortiGate(g.buf[:0], g.st, t, &r)
	return g.emitMaybeIncident(ctx, t, fw.Name, FormatFortiGate, TransportSyslog5424, incident)
}

// lgwanServices are the LGWAN-ASP destinations of lgwan terminals.
var lgwanServices = [...]struct {
	port    int
	service string
}{{443, "HTTPS"}, {443, "HTTPS"}, {443, "HTTPS"}, {80, "HTTP"}, {8443, "tcp/8443"}}

func (g *generator) renderLGWAN(ctx context.Context, t time.Time, u *User) error {
	g.setStamp(t)
	s := lgwanServices[g.rng.IntN(len(lgwanServices))]
	dst := hostInPrefix(g.org.lgwanNet, 0x0800+g.rng.IntN(64)) // a few dozen LGWAN-ASP servers
	rcvd := g.bytesLogNormal(9, 1.4, 20<<20)
	return g.renderFortiSession(ctx, t, "lgwan", u.Terminal, dst, 6, s.port, s.service, "close", 12, rcvd/15+300, rcvd, "")
}

func (g *generator) renderDNS(ctx context.Context, t time.Time) error {
	dns := g.s.topo.dns
	return g.renderFortiSession(ctx, t, dns.Zone, dns.addr, hostInPrefix(g.org.lgwanNet, 53), 17, 53, "DNS", "accept", 10, 74, 90+int64(g.rng.IntN(200)), "")
}

func (g *generator) renderMynumberApproved(ctx context.Context, t time.Time, u *User) error {
	ap := g.org.Approved[g.rng.IntN(len(g.org.Approved))]
	p := netip.MustParsePrefix(ap.To) // validated by the org
	proto := 6
	if ap.Port == 123 || ap.Port == 53 {
		proto = 17
	}
	return g.renderFortiSession(ctx, t, "mynumber", u.Terminal, p.Addr(), proto, ap.Port, ap.Service, "close", 5, 400, g.bytesLogNormal(8, 2, 200<<20), "")
}

// noisePorts are what internet background scanners knock on.
var noisePorts = [...]int{22, 23, 80, 443, 445, 1433, 3389, 5060, 8080, 8443, 3306, 25, 2323, 5900}

func (g *generator) renderInternetNoise(ctx context.Context, t time.Time) error {
	fw := g.s.topo.firewall["internet"]
	return g.renderFortiSession(ctx, t, "internet", g.publicAddr(), fw.addr, 6, noisePorts[g.rng.IntN(len(noisePorts))], "tcp", "deny", 0, 0, 0, "")
}

func (g *generator) renderInboundWeb(ctx context.Context, t time.Time) error {
	web := g.linuxIn("internet", 1)
	rcvd := g.bytesLogNormal(10, 1.2, 10<<20)
	return g.renderFortiSession(ctx, t, "internet", g.publicAddr(), web.addr, 6, 443, "HTTPS", "close", 3, 900, rcvd, "")
}

// linuxIn returns the n-th (wrapping) Linux host of zone.
func (g *generator) linuxIn(zone string, n int) *Host {
	hs := g.s.topo.linuxByZone[zone]
	return hs[n%len(hs)]
}

func (g *generator) renderScreen(ctx context.Context, t time.Time, u *User) error {
	return g.renderScreenFor(ctx, t, u, "")
}

func (g *generator) renderScreenFor(ctx context.Context, t time.Time, u *User, incident string) error {
	gw := g.s.topo.screen
	g.sess++
	r := gwRecord{host: gw.Name, gw: gw.Kind, action: gwScreenSession, user: u.Name, src: u.Terminal, dst: gw.peer, session: g.sess, pid: pidOf(gw.Name)}
	g.setStamp(t)
	g.buf = appendGateway(g.buf[:0], g.st, t, &r)
	return g.emitMaybeIncident(ctx, t, gw.Name, FormatGateway, TransportSyslog5424, incident)
}

var fileExts = [...]string{"pdf", "pdf", "xlsx", "docx", "zip", "jpg", "csv"}

func (g *generator) renderFile(ctx context.Context, t time.Time, u *User) error {
	g.setStamp(t)
	gw := g.s.topo.file
	r := gwRecord{host: gw.Name, gw: gw.Kind, action: gwFileSanitized, dir: "in", user: u.Name, src: gw.peer, dst: u.Terminal, size: g.bytesLogNormal(12, 1.5, 200<<20), pid: pidOf(gw.Name)}
	var fb [40]byte
	f := append(fb[:0], "doc-"...)
	f = appendInt(f, int64(1000+g.rng.IntN(9000)))
	f = append(f, '.')
	if g.chance(0.03) {
		r.action = gwFileRejected
		f = append(f, "docm"...)
	} else {
		f = append(f, fileExts[g.rng.IntN(len(fileExts))]...)
	}
	if g.chance(0.2) {
		r.dir, r.src, r.dst = "out", u.Terminal, gw.peer
	}
	r.file = string(f)
	g.buf = appendGateway(g.buf[:0], g.st, t, &r)
	return g.emit(ctx, t, gw.Name, FormatGateway, TransportSyslog5424)
}

var mailPeers = [...]string{"info@example.com", "news@example.co.jp", "support@example.net", "kikaku@city.example.lg.jp", "bousai@pref.example.lg.jp"}

func (g *generator) renderMail(ctx context.Context, t time.Time, u *User, in bool) error {
	g.setStamp(t)
	gw := g.s.topo.mail
	inMail := g.linuxIn("internet", 0)
	lgMail := g.s.topo.lgMail
	var ab [96]byte
	own := append(append(append(ab[:0], u.Name...), '@'), g.org.MailDomain...)
	peer := mailPeers[g.rng.IntN(len(mailPeers))]
	r := gwRecord{host: gw.Name, gw: gw.Kind, action: gwMailConverted, dir: "in", from: peer, to: string(own), src: inMail.addr, dst: lgMail,
		size: g.bytesLogNormal(9.5, 1.3, 20<<20), attachments: g.rng.IntN(3) / 2, pid: pidOf(gw.Name)}
	if !in {
		r.dir, r.from, r.to, r.src, r.dst = "out", string(own), peer, lgMail, inMail.addr
	}
	g.buf = appendGateway(g.buf[:0], g.st, t, &r)
	if err := g.emit(ctx, t, gw.Name, FormatGateway, TransportSyslog5424); err != nil {
		return err
	}
	// The internet mail server's SMTP session on the internet firewall: an
	// inbound mail was received just before, and is logged when it closes.
	if in {
		return g.renderFortiSession(ctx, t.Add(time.Duration(10+g.rng.IntN(300))*time.Millisecond), "internet", g.publicAddr(), inMail.addr, 6, 25, "SMTP", "close", 4, 300, r.size+1200, "")
	}
	return g.renderFortiSession(ctx, t.Add(time.Duration(200+g.rng.IntN(2000))*time.Millisecond), "internet", inMail.addr, g.publicAddr(), 6, 25, "SMTP", "close", 6, r.size+1200, 300, "")
}

// sshTarget picks a Linux host for an ssh login and the source address: the
// user's terminal within its own zone, or the zone's maintenance terminal
// (.0.200) elsewhere, so that no background ssh crosses a boundary.
func (g *generator) sshTarget(u *User) (*Host, netip.Addr) {
	hosts := g.s.topo.linux
	h := hosts[g.rng.IntN(len(hosts))]
	if g.org.ZoneOf(u.Terminal) == h.Zone {
		return h, u.Terminal
	}
	a := h.addr.As4()
	return h, netip.AddrFrom4([4]byte{a[0], a[1], 0, 200})
}

func (g *generator) renderSSHLogin(ctx context.Context, t time.Time, u *User) error {
	h, from := g.sshTarget(u)
	g.setStamp(t.Add(h.skew))
	grp := g.org.Groups[g.s.topo.groupIdx[u.Group]]
	r := sshRecord{host: h.Name, pid: 1000 + g.rng.IntN(60000), user: u.Name, from: from, port: g.ephemeralPort()}
	if grp.SSH == "password" {
		if g.chance(0.1) { // a typo first
			r.kind = sshFailedPassword
			g.buf = appendSSHD(g.buf[:0], g.st, &r)
			if err := g.emit(ctx, t, h.Name, FormatSSHD, TransportSyslog3164); err != nil {
				return err
			}
			t = t.Add(time.Duration(2000+g.rng.IntN(4000)) * time.Millisecond)
			g.setStamp(t.Add(h.skew))
		}
		r.kind = sshAcceptedPassword
	} else {
		r.kind = sshAcceptedPublickey
		r.key = fingerprint(u.Name)
	}
	g.buf = appendSSHD(g.buf[:0], g.st, &r)
	if err := g.emit(ctx, t, h.Name, FormatSSHD, TransportSyslog3164); err != nil {
		return err
	}
	t = t.Add(3 * time.Millisecond)
	g.setStamp(t.Add(h.skew))
	r.kind = sshSessionOpened
	g.buf = appendSSHD(g.buf[:0], g.st, &r)
	return g.emit(ctx, t, h.Name, FormatSSHD, TransportSyslog3164)
}

// iptables noise: Windows/NetBIOS/SSDP/mDNS broadcasts and stray neighbours.
var iptNoise = [...]struct {
	proto     string
	port      int
	broadcast bool
	length    int
}{{"UDP", 137, true, 78}, {"UDP", 138, true, 229}, {"UDP", 1900, false, 200}, {"UDP", 5353, false, 120}, {"UDP", 137, true, 78}, {"TCP", 445, false, 52}, {"TCP", 3389, false, 52}}

func (g *generator) renderIptablesNoise(ctx context.Context, t time.Time, h *Host) error {
	n := iptNoise[g.rng.IntN(len(iptNoise))]
	a := h.addr.As4()
	src := netip.AddrFrom4([4]byte{a[0], a[1], a[2], byte(2 + g.rng.IntN(250))})
	if src == h.addr {
		src = netip.AddrFrom4([4]byte{a[0], a[1], a[2], 254})
	}
	dst := h.addr
	switch {
	case n.broadcast:
		dst = netip.AddrFrom4([4]byte{a[0], a[1], a[2], 255})
	case n.port == 1900:
		dst = netip.AddrFrom4([4]byte{239, 255, 255, 250})
	case n.port == 5353:
		dst = netip.AddrFrom4([4]byte{224, 0, 0, 251})
	}
	spt := n.port
	if n.proto == "TCP" {
		spt = g.ephemeralPort()
	}
	return g.emitIptables(ctx, t, h, src, dst, n.proto, spt, n.port, n.length, "")
}

func (g *generator) emitIptables(ctx context.Context, t time.Time, h *Host, src, dst netip.Addr, proto string, spt, dpt, length int, incident string) error {
	g.setStamp(t.Add(h.skew))
	r := ipRecord{host: h.Name, uptime: g.uptime(h, t), in: "eth0", mac: macOf(h.Name, src), src: src, dst: dst, proto: proto, spt: spt, dpt: dpt, length: length, ttl: 64, id: g.rng.IntN(65536)}
	if proto == "TCP" {
		r.ttl = 128
	}
	g.buf = appendIptables(g.buf[:0], g.st, &r)
	return g.emitMaybeIncident(ctx, t, h.Name, FormatIptables, TransportSyslog3164, incident)
}

// uptime is the host's kernel clock: booted a stable number of days before
// the simulated period.
func (g *generator) uptime(h *Host, t time.Time) time.Duration {
	boot := g.s.opts.From.Add(-time.Duration(3+pidOf(h.Name)%40) * 24 * time.Hour)
	return t.Sub(boot)
}

// pidOf derives a stable pid from a name.
func pidOf(name string) int {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return 300 + int(h%30000)
}

// macOf is "dst MAC:src MAC:ethertype" as netfilter prints it.
func macOf(host string, src netip.Addr) string {
	const hexd = "0123456789abcdef"
	d := uint32(pidOf(host))
	s := src.As4()
	b := []byte("00:16:3e:00:00:00:00:16:3e:00:00:00:08:00")
	put := func(i int, v byte) { b[i], b[i+1] = hexd[v>>4], hexd[v&15] }
	put(9, byte(d>>16))
	put(12, byte(d>>8))
	put(15, byte(d))
	put(27, s[1])
	put(30, s[2])
	put(33, s[3])
	return string(b)
}

// fingerprint is a stable fake SHA256 key fingerprint for a user.
func fingerprint(user string) string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	h := uint64(14695981039346656037)
	out := make([]byte, 43)
	for i := range out {
		for j := 0; j < len(user); j++ {
			h ^= uint64(user[j])
			h *= 1099511628211
		}
		h ^= uint64(i)
		h *= 1099511628211
		out[i] = b64[h>>58]
	}
	return string(out)
}
