package simulate

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// scheduleIncidents places one incident of every kind (and one benign
// shift-night login) in every started week of the period, renders their
// lines and sorts them by time. In Live mode without To, the first 24 hours
// get them.
func (s *Simulator) scheduleIncidents() error {
	from, to := s.opts.From, s.opts.To
	if to.IsZero() {
		to = from.Add(24 * time.Hour)
	}
	g := newGenerator(s, nil, streamIncidents)
	week := 7 * 24 * time.Hour
	reps := int((to.Sub(from) + week - 1) / week)
	span := to.Sub(from) / time.Duration(reps)
	nInc, nBen := 0, 0
	// Ids are handed out before an incident is built and only consumed when
	// it could be placed, so they stay dense.
	nextInc := func() string { return fmt.Sprintf("INC-%04d", nInc+1) }
	nextBen := func() string { return fmt.Sprintf("BEN-%04d", nBen+1) }
	add := func(in Incident, ok bool) {
		if !ok {
			return
		}
		if in.Benign {
			nBen++
		} else {
			nInc++
		}
		s.incidents = append(s.incidents, in)
	}
	for r := range reps {
		wf := from.Add(time.Duration(r) * span)
		wt := wf.Add(span)
		if r == reps-1 {
			wt = to
		}
		add(g.incMynumberCrossZone(nextInc(), wf, wt))
		add(g.incLGWANInternetDirect(nextInc(), wf, wt))
		add(g.incProxyBypass(nextInc(), wf, wt))
		off, ben, ok := g.incOffHoursLogin(nextInc(), nextBen(), wf, wt)
		add(off, ok)
		add(ben, ok)
		add(g.incPortScan(nextInc(), wf, wt))
		add(g.incSSHBruteForce(nextInc(), wf, wt))
		add(g.incMalwareDomain(nextInc(), wf, wt))
		add(g.incLargeUpload(nextInc(), wf, wt))
		add(s.incSourceSilent(g, nextInc(), wf, wt))
	}
	slices.SortStableFunc(g.inc, func(a, b scheduledLine) int { return a.t.Compare(b.t) })
	s.scheduled = g.inc
	// Start and End of line-carrying incidents are their first and last line.
	for i := range s.incidents {
		in := &s.incidents[i]
		if in.Kind == KindSourceSilent {
			continue
		}
		first := true
		for _, l := range s.scheduled {
			if l.incident != in.ID {
				continue
			}
			if first || l.t.Before(in.Start) {
				in.Start = l.t
			}
			if first || l.t.After(in.End) {
				in.End = l.t
			}
			first = false
		}
	}
	return nil
}

// pickTime draws a time in [from, to-margin) for which ok holds, trying
// random moments first and then scanning minute by minute.
func (g *generator) pickTime(from, to time.Time, margin time.Duration, ok func(time.Time) bool) (time.Time, bool) {
	end := to.Add(-margin)
	if !end.After(from) {
		return time.Time{}, false
	}
	span := int64(end.Sub(from) / time.Millisecond)
	for range 500 {
		t := from.Add(time.Duration(g.rng.Int64N(span)) * time.Millisecond)
		if ok == nil || ok(t) {
			return t, true
		}
	}
	for t := from.Truncate(time.Minute).Add(time.Minute); t.Before(end); t = t.Add(time.Minute) {
		if ok == nil || ok(t) {
			return t.Add(time.Duration(g.rng.IntN(30000)) * time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// onDutyFor returns a predicate: u's calendar is on duty from t to t+d.
func (g *generator) onDutyFor(u *User, d time.Duration) func(time.Time) bool {
	c, _ := g.org.cals.Get(u.Calendar)
	return func(t time.Time) bool { return c.OnDuty(t) && c.OnDuty(t.Add(d)) }
}

// userWhere picks a user of a group matching pred, deterministically.
func (g *generator) userWhere(pred func(grp Group, u *User) bool) *User {
	var cand []int
	for i := range g.org.users {
		u := &g.org.users[i]
		if pred(g.org.Groups[g.s.topo.groupIdx[u.Group]], u) {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return nil
	}
	return &g.org.users[cand[g.rng.IntN(len(cand))]]
}

func (g *generator) calKind(u *User) string {
	c, _ := g.org.cals.Get(u.Calendar)
	return c.Kind()
}

func (g *generator) officeUser() *User {
	return g.userWhere(func(grp Group, u *User) bool {
		return grp.Browse == "screen" && grp.SSH == "" && g.calKind(u) == calendar.KindOffice && g.org.ZoneOf(u.Terminal) == "lgwan"
	})
}

func (g *generator) directUser() *User {
	return g.userWhere(func(grp Group, u *User) bool {
		return grp.Browse == "direct" && g.org.ZoneOf(u.Terminal) == "internet"
	})
}

func jitter(g *generator, t time.Time, maxMS int) time.Time {
	return t.Add(time.Duration(1+g.rng.IntN(maxMS)) * time.Millisecond)
}

// A mynumber terminal tries to reach another zone; the firewall denies it.
func (g *generator) incMynumberCrossZone(id string, from, to time.Time) (Incident, bool) {
	u := g.userWhere(func(_ Group, u *User) bool { return g.org.ZoneOf(u.Terminal) == "mynumber" })
	if u == nil {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 5*time.Minute, g.onDutyFor(u, 2*time.Minute))
	if !ok {
		return Incident{}, false
	}
	targets := []struct {
		addr    netip.Addr
		port    int
		service string
	}{
		{g.linuxIn("internet", 1).addr, 443, "HTTPS"},
		{g.webSite[0].addr, 443, "HTTPS"},
		{g.linuxIn("lgwan", 0).addr, 445, "SMB"},
	}
	tg := targets[g.rng.IntN(len(targets))]
	n := 3 + g.rng.IntN(6)
	for range n {
		g.renderFortiSession(context.Background(), t, "mynumber", u.Terminal, tg.addr, 6, tg.port, tg.service, "deny", 0, 0, 0, id)
		t = jitter(g, t.Add(3*time.Second), 15000)
	}
	return Incident{ID: id, Kind: KindMynumberCrossZone, SourceIP: u.Terminal.String(), Target: netip.AddrPortFrom(tg.addr, uint16(tg.port)).String(), User: u.Name,
		Device: g.s.topo.firewall["mynumber"].Name, Detail: fmt.Sprintf("mynumber terminal %s tried %s %d times, denied", u.Terminal, tg.service, n)}, true
}

// An lgwan terminal connects straight to the internet zone or the internet,
// bypassing the sanitisation gateways: denied attempts, then one session a
// mistaken policy let through.
func (g *generator) incLGWANInternetDirect(id string, from, to time.Time) (Incident, bool) {
	u := g.officeUser()
	if u == nil {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 5*time.Minute, g.onDutyFor(u, 2*time.Minute))
	if !ok {
		return Incident{}, false
	}
	dst, port, svc := g.linuxIn("internet", 1).addr, 3389, "RDP"
	if g.chance(0.5) {
		dst, port, svc = g.webSite[g.rng.IntN(len(g.webSite))].addr, 443, "HTTPS"
	}
	n := 2 + g.rng.IntN(3)
	for range n {
		g.renderFortiSession(context.Background(), t, "lgwan", u.Terminal, dst, 6, port, svc, "deny", 0, 0, 0, id)
		t = jitter(g, t.Add(2*time.Second), 8000)
	}
	g.renderFortiSession(context.Background(), t, "lgwan", u.Terminal, dst, 6, port, svc, "close", 99, 48000, 1250000, id)
	return Incident{ID: id, Kind: KindLGWANInternetDirect, SourceIP: u.Terminal.String(), Target: netip.AddrPortFrom(dst, uint16(port)).String(), User: u.Name,
		Device: g.s.topo.firewall["lgwan"].Name, Detail: fmt.Sprintf("lgwan terminal %s reached %s directly (%d denied, 1 accepted by policy 99)", u.Terminal, svc, n)}, true
}

// An internet-zone PC goes out without the proxy.
func (g *generator) incProxyBypass(id string, from, to time.Time) (Incident, bool) {
	u := g.directUser()
	if u == nil {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 5*time.Minute, g.onDutyFor(u, 3*time.Minute))
	if !ok {
		return Incident{}, false
	}
	dst := g.webSite[g.rng.IntN(len(g.webSite))].addr
	n := 3 + g.rng.IntN(6)
	for range n {
		rcvd := g.bytesLogNormal(10, 1, 5<<20)
		g.renderFortiSession(context.Background(), t, "internet", u.Terminal, dst, 6, 443, "HTTPS", "close", 31, rcvd/10+500, rcvd, id)
		t = jitter(g, t.Add(5*time.Second), 20000)
	}
	return Incident{ID: id, Kind: KindProxyBypass, SourceIP: u.Terminal.String(), Target: netip.AddrPortFrom(dst, 443).String(), User: u.Name,
		Device: g.s.topo.firewall["internet"].Name, Detail: fmt.Sprintf("internet-zone host %s made %d HTTPS sessions without the proxy", u.Terminal, n)}, true
}

// An office account logs in at 03:00 on a Sunday (incident) and a shift-crew
// account on duty that night does the same (benign).
func (g *generator) incOffHoursLogin(id, benignID string, from, to time.Time) (Incident, Incident, bool) {
	u := g.officeUser()
	crew := g.userWhere(func(grp Group, u *User) bool {
		return grp.Browse == "screen" && g.calKind(u) == calendar.KindShift
	})
	if u == nil || crew == nil {
		return Incident{}, Incident{}, false
	}
	office, _ := g.org.cals.Get(u.Calendar)
	const length = 12 * time.Minute
	var t time.Time
	// The first Sunday 03:00 in the window, else any off-hours night.
	for d := calendar.DateOf(from); !d.Time(0, 0).After(to); d = d.AddDays(1) {
		c := d.Time(3, 0).Add(time.Duration(g.rng.IntN(30)) * time.Minute)
		if d.Weekday() == time.Sunday && !c.Before(from) && c.Add(2*length).Before(to) && office.OffHours(c) && office.OffHours(c.Add(length)) {
			t = c
			break
		}
	}
	if t.IsZero() {
		var ok bool
		t, ok = g.pickTime(from, to, 2*length, func(t time.Time) bool {
			h := t.In(tokyo()).Hour()
			return h >= 1 && h < 5 && office.OffHours(t) && office.OffHours(t.Add(length))
		})
		if !ok {
			if t, ok = g.pickTime(from, to, 2*length, func(t time.Time) bool { return office.OffHours(t) && office.OffHours(t.Add(length)) }); !ok {
				return Incident{}, Incident{}, false
			}
		}
	}
	// The crew member must be on duty through the whole benign session.
	crewCal, _ := g.org.cals.Get(crew.Calendar)
	bt := t.Add(time.Duration(2+g.rng.IntN(5)) * time.Minute)
	if !crewCal.OnDuty(bt) || !crewCal.OnDuty(bt.Add(length)) {
		crew = g.userWhere(func(grp Group, c *User) bool {
			cc, _ := g.org.cals.Get(c.Calendar)
			return grp.Browse == "screen" && cc.Kind() == calendar.KindShift && cc.OnDuty(bt) && cc.OnDuty(bt.Add(length))
		})
		if crew == nil {
			return Incident{}, Incident{}, false
		}
	}
	// A login: a screen-transfer session, then some browsing, all within length.
	session := func(u *User, t time.Time, id string) {
		g.renderScreenFor(context.Background(), t, u, id)
		n := 4 + g.rng.IntN(8)
		step := length / time.Duration(n+1)
		for range n {
			t = t.Add(step/2 + time.Duration(g.rng.Int64N(int64(step/2))))
			g.renderWeb(context.Background(), t, u, g.pickSite(), id)
		}
	}
	session(u, t, id)
	session(crew, bt, benignID)
	inc := Incident{ID: id, Kind: KindOffHoursLogin, SourceIP: u.Terminal.String(), User: u.Name, Device: g.s.topo.screen.Name,
		Detail: fmt.Sprintf("office account %s (%s) logged in at %s: %s", u.Name, u.Group, t.In(tokyo()).Format("Mon 2006-01-02 15:04"), office.Explain(t))}
	ben := Incident{ID: benignID, Kind: KindShiftNightLogin, Benign: true, SourceIP: crew.Terminal.String(), User: crew.Name, Device: g.s.topo.screen.Name,
		Detail: fmt.Sprintf("shift-crew account %s (%s) logged in at %s: %s", crew.Name, crew.Group, bt.In(tokyo()).Format("Mon 2006-01-02 15:04"), crewCal.Explain(bt))}
	return inc, ben, true
}

// A port scan: one internet-zone PC knocks on >20 ports of a server within
// a minute; the server's netfilter drops and logs every SYN.
func (g *generator) incPortScan(id string, from, to time.Time) (Incident, bool) {
	u := g.directUser()
	target := g.linuxIn("internet", 0)
	if u == nil || target == nil {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 3*time.Minute, nil)
	if !ok {
		return Incident{}, false
	}
	n := 25 + g.rng.IntN(36)
	ports := g.rng.Perm(1024)[:n]
	spt := g.ephemeralPort()
	for _, p := range ports {
		g.emitIptables(context.Background(), t, target, u.Terminal, target.addr, "TCP", spt, p+1, 44, id)
		t = jitter(g, t, 700)
	}
	return Incident{ID: id, Kind: KindPortScan, SourceIP: u.Terminal.String(), Target: target.addr.String(), Device: target.Name,
		Detail: fmt.Sprintf("%d distinct TCP ports of %s probed from %s", n, target.Name, u.Terminal)}, true
}

var bruteUsers = [...]string{"root", "admin", "test", "oracle", "user", "ubuntu", "postgres", "guest"}

// SSH brute force from the internet against the public web server.
func (g *generator) incSSHBruteForce(id string, from, to time.Time) (Incident, bool) {
	target := g.linuxIn("internet", 1)
	src := g.publicAddr()
	t, ok := g.pickTime(from, to, 8*time.Minute, nil)
	if !ok {
		return Incident{}, false
	}
	n := 25 + g.rng.IntN(26)
	for range n {
		r := sshRecord{host: target.Name, pid: 1000 + g.rng.IntN(60000), from: src, port: g.ephemeralPort(), user: bruteUsers[g.rng.IntN(len(bruteUsers))]}
		emit := func(kind int) {
			g.setStamp(t.Add(target.skew))
			r.kind = kind
			g.buf = appendSSHD(g.buf[:0], g.st, &r)
			g.emitMaybeIncident(context.Background(), t, target.Name, FormatSSHD, TransportSyslog3164, id)
			t = jitter(g, t, 400)
		}
		if r.user == "root" {
			emit(sshPamAuthFailure)
			emit(sshFailedPassword)
		} else {
			emit(sshInvalidUser)
			u := r.user
			r.user = ""
			emit(sshPamAuthFailure)
			r.user = u
			emit(sshFailedInvalidUser)
		}
		t = jitter(g, t.Add(2*time.Second), 6000)
	}
	return Incident{ID: id, Kind: KindSSHBruteForce, SourceIP: src.String(), Target: target.addr.String(), Device: target.Name,
		Detail: fmt.Sprintf("%d failed ssh logins to %s from %s", n, target.Name, src)}, true
}

// A user's browser reaches for a malware-category domain; the proxies block it.
func (g *generator) incMalwareDomain(id string, from, to time.Time) (Incident, bool) {
	u := g.officeUser()
	sites := g.org.sitesIn("malware")
	if u == nil || len(sites) == 0 {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 5*time.Minute, g.onDutyFor(u, 3*time.Minute))
	if !ok {
		return Incident{}, false
	}
	site := sites[0]
	n := 2 + g.rng.IntN(4)
	for range n {
		g.setStamp(t)
		g.renderWeb(context.Background(), t, u, site, id)
		t = jitter(g, t.Add(5*time.Second), 30000)
	}
	return Incident{ID: id, Kind: KindMalwareDomain, SourceIP: g.clientOf(u).String(), Target: site.Host, User: u.Name,
		Detail: fmt.Sprintf("%d requests by %s to malware-category %s, blocked", n, u.Name, site.Host)}, true
}

// An unusually large upload through i-FILTER (or a Squid tunnel).
func (g *generator) incLargeUpload(id string, from, to time.Time) (Incident, bool) {
	u := g.directUser()
	if u == nil {
		u = g.officeUser()
	}
	if u == nil {
		return Incident{}, false
	}
	t, ok := g.pickTime(from, to, 20*time.Minute, g.onDutyFor(u, 15*time.Minute))
	if !ok {
		return Incident{}, false
	}
	site := g.webSite[0]
	if b := g.org.sitesIn("business"); len(b) > 0 {
		site = b[0]
	}
	size := int64(300+g.rng.IntN(600)) << 20
	elapsed := int(size / (2 << 20) * 1000) // ~2 MB/s
	var px *Host
	for _, p := range g.s.topo.proxies {
		if p.Format == FormatIFilter {
			px = p
			break
		}
	}
	g.setStamp(t)
	url := append([]byte("https://"), site.Host...)
	url = append(url, "/upload/files"...)
	if px != nil {
		r := ifilterRecord{elapsedMS: elapsed, client: g.clientOf(u), user: u.Name, status: 200, respBytes: 612, reqBytes: size, action: "pass",
			category: CategoryCode(site.Category), method: "POST", url: url, agent: userAgents[0]}
		g.buf = appendIFilter(g.buf[:0], g.st, &r)
		g.emitMaybeIncident(context.Background(), t, px.Name, FormatIFilter, TransportFile, id)
	} else {
		px = g.s.topo.proxies[0]
		r := squidRecord{elapsedMS: elapsed, client: g.clientOf(u), code: "TCP_TUNNEL/200", bytes: 7200, method: "CONNECT",
			url: append([]byte(site.Host), ":443"...), user: u.Name, hier: "HIER_DIRECT", server: site.addr}
		g.buf = appendSquid(g.buf[:0], t, &r)
		g.emitMaybeIncident(context.Background(), t, px.Name, FormatSquid, px.Transport, id)
	}
	end := t.Add(time.Duration(elapsed) * time.Millisecond)
	g.renderFortiSession(context.Background(), end, px.Zone, px.addr, site.addr, 6, 443, "HTTPS", "close", 21, size+size/50, 64000, id)
	return Incident{ID: id, Kind: KindLargeUpload, SourceIP: g.clientOf(u).String(), Target: site.Host, User: u.Name,
		Detail: fmt.Sprintf("%s uploaded %d MiB to %s", u.Name, size>>20, site.Host)}, true
}

// A log source falls silent for an hour.
func (s *Simulator) incSourceSilent(g *generator, id string, from, to time.Time) (Incident, bool) {
	lg := s.topo.linuxByZone["lgwan"]
	if len(lg) == 0 {
		return Incident{}, false
	}
	dev := lg[len(lg)-1]
	t, ok := g.pickTime(from, to, 70*time.Minute, nil)
	if !ok {
		return Incident{}, false
	}
	t = t.Truncate(time.Minute)
	s.silences = append(s.silences, silence{device: dev.Name, from: t, to: t.Add(time.Hour)})
	return Incident{ID: id, Kind: KindSourceSilent, Device: dev.Name, SourceIP: dev.addr.String(), Start: t, End: t.Add(time.Hour),
		Detail: "no log lines from " + dev.Name + " for one hour"}, true
}
