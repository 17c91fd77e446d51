package simulate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// Options configure a Simulator. All fields are plain values so a command
// line can fill them directly.
type Options struct {
	// Org is the organisation model; nil means DefaultOrg().
	Org *Org
	// Seed makes a run reproducible: same Seed and Options, same bytes.
	Seed int64
	// From and To bound the simulated period [From, To). In accelerated mode
	// (Live false) both are required and the period is generated as fast as
	// the sink takes it. In Live mode From defaults to now and a zero To runs
	// until the context ends.
	From, To time.Time
	// Live paces output in real time.
	Live bool
	// Rate is the total volume in lines per simulated second; 0 keeps the
	// realistic volume of the model (a few lines/s for ~300 staff, following
	// office hours and shift rotations). With Rate > 0 the mix of sources
	// still follows the model, and the total is held at Rate.
	Rate float64
	// Incidents injects labelled incidents (and benign look-alikes).
	Incidents bool
	// Now is the clock of Live mode; nil means time.Now. For tests.
	Now func() time.Time
}

// Line is one log line as a device puts it on the wire.
type Line struct {
	// Seq is the line's id: 1, 2, 3 … in emission order, stable for a seed.
	Seq  uint64
	Time time.Time
	// Device is the host name of the sender.
	Device string
	// Format: fortigate, iptables, sshd, squid, ifilter, gateway.
	Format string
	// Transport: syslog5424, syslog3164 or file.
	Transport string
	// Wire is the syslog frame payload ("<PRI>1 …" or "<PRI>Nov 25 …") or
	// the file line, without framing or trailing newline. It is only valid
	// during Sink.Send; a sink that keeps it must copy it.
	Wire []byte
	// Incident is the id of the incident or benign record the line belongs
	// to, or "".
	Incident string
}

// Incident kinds.
const (
	KindMynumberCrossZone   = "mynumber_cross_zone"
	KindLGWANInternetDirect = "lgwan_internet_direct"
	KindProxyBypass         = "proxy_bypass"
	KindOffHoursLogin       = "off_hours_login"
	KindShiftNightLogin     = "shift_night_login" // benign
	KindPortScan            = "port_scan"
	KindSSHBruteForce       = "ssh_bruteforce"
	KindMalwareDomain       = "malware_domain"
	KindLargeUpload         = "large_upload"
	KindSourceSilent        = "source_silent"
)

// Incident is the ground truth of one injected incident or benign record.
type Incident struct {
	ID     string `json:"incident"`
	Kind   string `json:"kind"`
	Benign bool   `json:"benign"`
	// Lines are the ids (Line.Seq) of the lines that belong to it; filled by
	// TruthWriter during a run.
	Lines    []uint64  `json:"lines"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	SourceIP string    `json:"source_ip,omitempty"`
	Target   string    `json:"target,omitempty"`
	User     string    `json:"user,omitempty"`
	Device   string    `json:"device,omitempty"`
	Detail   string    `json:"detail"`
}

// Simulator generates the traffic of an Org. It is immutable after New;
// every Run starts from the seed again.
type Simulator struct {
	opts      Options
	org       *Org
	acts      []activity
	incidents []Incident
	scheduled []scheduledLine
	silences  []silence
	userIdx   map[string][]int // group name → indices into org.users
	topo      topology
}

type scheduledLine struct {
	t         time.Time
	device    string
	format    string
	transport string
	incident  string
	wire      []byte
}

type silence struct {
	device   string
	from, to time.Time
}

// New validates opts and prepares a simulator, scheduling the incidents.
func New(opts Options) (*Simulator, error) {
	if opts.Org == nil {
		opts.Org = DefaultOrg()
	}
	if opts.Rate < 0 || math.IsNaN(opts.Rate) || math.IsInf(opts.Rate, 0) {
		return nil, fmt.Errorf("simulate: rate %v: want 0 (realistic) or a positive lines/s", opts.Rate)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Live {
		if opts.From.IsZero() {
			opts.From = opts.Now().Truncate(time.Second)
		}
	} else if opts.From.IsZero() || opts.To.IsZero() {
		return nil, errors.New("simulate: accelerated mode needs both From and To")
	}
	if !opts.To.IsZero() && !opts.To.After(opts.From) {
		return nil, fmt.Errorf("simulate: To %s is not after From %s", opts.To.Format(time.RFC3339), opts.From.Format(time.RFC3339))
	}
	opts.From = opts.From.In(tokyo())
	if !opts.To.IsZero() {
		opts.To = opts.To.In(tokyo())
	}
	s := &Simulator{opts: opts, org: opts.Org, userIdx: map[string][]int{}}
	for i, u := range s.org.users {
		s.userIdx[u.Group] = append(s.userIdx[u.Group], i)
	}
	s.buildTopology()
	s.buildActivities()
	if opts.Incidents {
		if err := s.scheduleIncidents(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Incidents returns the scheduled incidents and benign records, in id order,
// with Lines empty (TruthWriter fills them during a run).
func (s *Simulator) Incidents() []Incident {
	out := make([]Incident, len(s.incidents))
	copy(out, s.incidents)
	return out
}

// Org returns the organisation model in use.
func (s *Simulator) Org() *Org { return s.org }

// Options returns the options with defaults filled in.
func (s *Simulator) Options() Options { return s.opts }

// Sink receives the generated lines in order.
type Sink interface {
	// Send delivers one line. l.Wire is only valid during the call.
	Send(ctx context.Context, l *Line) error
	// Close flushes and releases the sink.
	Close() error
}

// Flusher is implemented by sinks that buffer; Run flushes them before it
// sleeps in Live mode and when it returns.
type Flusher interface {
	Flush() error
}

// Run generates the period into sink. It does not close the sink. It returns
// ctx.Err() when cancelled (in Live mode with no To, that is how it ends).
func (s *Simulator) Run(ctx context.Context, sink Sink) error {
	g := newGenerator(s, sink, streamBackground)
	err := g.run(ctx)
	if f, ok := sink.(Flusher); ok {
		if ferr := f.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("simulate: flush sink: %w", ferr)
		}
	}
	return err
}

// PCG streams: background and incidents draw from independent sequences, so
// turning incidents on does not change the background.
const (
	streamBackground = 0x5a57_0001
	streamIncidents  = 0x5a57_0002
)

// minuteState is the per-minute rate table of a run.
type minuteState struct {
	minute int64     // unix minute the table is for
	cum    []float64 // cumulative per-second rates by activity
	total  float64
	onDuty []bool // by group index
}

type generator struct {
	s    *Simulator
	org  *Org
	sink Sink
	rng  *rand.Rand
	st   *stamp // the stamp of the line being rendered, see setStamp
	// stamps cache four seconds, so that follow-up lines a second later do
	// not make the current second's strings be formatted again.
	stamps [4]stamp
	buf    []byte
	line   Line
	seq    uint64
	ms     minuteState
	offs   []float64
	next   int // next scheduled incident line
	sess   int64
	// per-run copies of activity user lists filtered by duty are not needed:
	// groups are all-or-nothing on duty.
	webCum  []int // cumulative weights of browsable sites
	webSite []*Site
	url     []byte
	// inc collects incident lines instead of sending them (scheduling).
	inc []scheduledLine
	// now is the time of the event being generated; later holds follow-up
	// lines due after it.
	now   time.Time
	later deferredHeap
	order uint64
}

func newGenerator(s *Simulator, sink Sink, stream uint64) *generator {
	g := &generator{
		s: s, org: s.org, sink: sink,
		rng: rand.New(rand.NewPCG(uint64(s.opts.Seed), stream)),
		buf: make([]byte, 0, 1024),
	}
	g.ms.minute = math.MinInt64
	g.ms.cum = make([]float64, len(s.acts))
	g.ms.onDuty = make([]bool, len(s.org.Groups))
	total := 0
	for i := range s.org.Sites {
		site := &s.org.Sites[i]
		if site.Weight > 0 {
			total += site.Weight
			g.webCum = append(g.webCum, total)
			g.webSite = append(g.webSite, site)
		}
	}
	return g
}

func (g *generator) run(ctx context.Context) error {
	opts := g.s.opts
	t := opts.From.Truncate(time.Second)
	if t.Before(opts.From) {
		t = t.Add(time.Second)
	}
	for {
		if !opts.To.IsZero() && !t.Before(opts.To) {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := g.second(ctx, t); err != nil {
			return err
		}
		t = t.Add(time.Second)
	}
	// Lines due after the last whole second but before To; later ones
	// (follow-ups of the last events) fall outside the period and are dropped.
	return g.flushUntil(ctx, opts.To, false)
}

// second generates one simulated second starting at t.
func (g *generator) second(ctx context.Context, t time.Time) error {
	if m := t.Unix() / 60; m != g.ms.minute {
		g.updateMinute(t.Truncate(time.Minute))
	}
	n := g.poisson(g.ms.total)
	offs := g.sortedOffsets(n)
	to := g.s.opts.To
	for i := 0; i < n; i++ {
		at := t.Add(time.Duration(offs[i] * 1e9))
		if !to.IsZero() && !at.Before(to) {
			break
		}
		if err := g.flushUntil(ctx, at, true); err != nil {
			return err
		}
		g.now = at
		x := g.rng.Float64() * g.ms.total
		a := searchCum(g.ms.cum, x)
		if err := g.render(ctx, &g.s.acts[a], at); err != nil {
			return err
		}
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return g.flushUntil(ctx, t.Add(time.Second), false)
}

func searchCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// flushUntil sends, in time order, the scheduled incident lines and the
// deferred follow-up lines due before 'until' (or at it, when inclusive).
func (g *generator) flushUntil(ctx context.Context, until time.Time, inclusive bool) error {
	due := func(t time.Time) bool {
		if until.IsZero() {
			return true
		}
		return t.Before(until) || (inclusive && t.Equal(until))
	}
	sched := g.s.scheduled
	for {
		var st time.Time
		hasS := g.next < len(sched) && due(sched[g.next].t)
		if hasS {
			st = sched[g.next].t
		}
		hasD := g.later.len() > 0 && due(g.later.peek())
		switch {
		case hasD && (!hasS || g.later.peek().Before(st)):
			d := g.later.pop()
			if err := g.send(ctx, d.t, d.device, d.format, d.transport, "", d.wire); err != nil {
				return err
			}
		case hasS:
			l := &sched[g.next]
			g.next++
			if l.t.Before(g.s.opts.From) || (!g.s.opts.To.IsZero() && !l.t.Before(g.s.opts.To)) {
				continue
			}
			if err := g.send(ctx, l.t, l.device, l.format, l.transport, l.incident, l.wire); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (g *generator) waitUntil(ctx context.Context, at time.Time) error {
	// Lines up to 2ms early go out at once: sleeping for less is not
	// precise anyway, and high rates would otherwise arm a timer per line.
	d := at.Sub(g.s.opts.Now())
	if d <= 2*time.Millisecond {
		return nil
	}
	if f, ok := g.sink.(Flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("simulate: flush sink: %w", err)
		}
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// setStamp points g.st at the cached timestamp strings of t's second.
func (g *generator) setStamp(t time.Time) {
	g.st = &g.stamps[t.Unix()&3]
	g.st.set(t)
}

// emit sends g.buf as a background line at t, or defers it when t lies
// after the event being generated (a session logged when it closes).
func (g *generator) emit(ctx context.Context, t time.Time, device, format, transport string) error {
	if t.After(g.now) {
		g.order++
		g.later.push(t, g.order, device, format, transport, g.buf)
		return nil
	}
	return g.send(ctx, t, device, format, transport, "", g.buf)
}

// send numbers a line and hands it to the sink.
func (g *generator) send(ctx context.Context, t time.Time, device, format, transport, incident string, wire []byte) error {
	if incident == "" {
		for _, sl := range g.s.silences {
			if sl.device == device && !t.Before(sl.from) && t.Before(sl.to) {
				return nil
			}
		}
	}
	if g.s.opts.Live {
		if err := g.waitUntil(ctx, t); err != nil {
			return err
		}
	}
	g.seq++
	g.line = Line{Seq: g.seq, Time: t, Device: device, Format: format, Transport: transport, Wire: wire, Incident: incident}
	if err := g.sink.Send(ctx, &g.line); err != nil {
		return fmt.Errorf("simulate: send line %d (%s %s): %w", g.seq, device, format, err)
	}
	return nil
}

// deferred is a follow-up line waiting for its time. The heap orders small
// references (time, creation order, slot); the lines live in slots, whose
// buffers are reused.
type deferred struct {
	t                         time.Time
	device, format, transport string
	wire                      []byte
}

type deferredRef struct {
	at    int64 // unix nanoseconds
	order uint64
	slot  int32
}

type deferredHeap struct {
	refs  []deferredRef
	slots []deferred
	free  []int32
}

func (h *deferredHeap) len() int { return len(h.refs) }

func (h *deferredHeap) less(i, j int) bool {
	a, b := &h.refs[i], &h.refs[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.order < b.order
}

// peek returns the earliest line's time.
func (h *deferredHeap) peek() time.Time { return h.slots[h.refs[0].slot].t }

// push stores a copy of wire.
func (h *deferredHeap) push(t time.Time, order uint64, device, format, transport string, wire []byte) {
	var slot int32
	if n := len(h.free); n > 0 {
		slot, h.free = h.free[n-1], h.free[:n-1]
	} else {
		h.slots = append(h.slots, deferred{})
		slot = int32(len(h.slots) - 1)
	}
	d := &h.slots[slot]
	d.t, d.device, d.format, d.transport = t, device, format, transport
	d.wire = append(d.wire[:0], wire...)
	h.refs = append(h.refs, deferredRef{at: t.UnixNano(), order: order, slot: slot})
	for i := len(h.refs) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.refs[i], h.refs[p] = h.refs[p], h.refs[i]
		i = p
	}
}

// pop removes the earliest line; it stays valid until the next push.
func (h *deferredHeap) pop() *deferred {
	top := h.refs[0].slot
	n := len(h.refs) - 1
	h.refs[0] = h.refs[n]
	h.refs = h.refs[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h.less(l, m) {
			m = l
		}
		if r < n && h.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		h.refs[i], h.refs[m] = h.refs[m], h.refs[i]
		i = m
	}
	h.free = append(h.free, top)
	return &h.slots[top]
}

// poisson draws a Poisson variate with mean mu.
func (g *generator) poisson(mu float64) int {
	return poisson(g.rng, mu)
}

func poisson(r *rand.Rand, mu float64) int {
	switch {
	case mu <= 0:
		return 0
	case mu < 30:
		l := math.Exp(-mu)
		k, p := 0, 1.0
		for {
			p *= r.Float64()
			if p <= l {
				return k
			}
			k++
		}
	default:
		n := math.Round(mu + math.Sqrt(mu)*r.NormFloat64())
		if n < 0 {
			return 0
		}
		return int(n)
	}
}

// sortedOffsets returns n sorted uniform offsets in [0,1) without sorting,
// from normalised cumulative exponential spacings.
func (g *generator) sortedOffsets(n int) []float64 {
	if cap(g.offs) < n+1 {
		g.offs = make([]float64, n+1)
	}
	offs := g.offs[:n+1]
	sum := 0.0
	for i := range offs {
		sum += g.rng.ExpFloat64()
		offs[i] = sum
	}
	for i := 0; i < n; i++ {
		offs[i] /= sum
	}
	return offs[:n]
}

// updateMinute recomputes the rate table for the minute starting at m.
func (g *generator) updateMinute(m time.Time) {
	g.ms.minute = m.Unix() / 60
	cals := g.org.cals
	for i, grp := range g.org.Groups {
		c, _ := cals.Get(grp.Calendar)
		g.ms.onDuty[i] = c.OnDuty(m)
	}
	sum := 0.0
	for i := range g.s.acts {
		sum += g.s.acts[i].rate(g, m)
		g.ms.cum[i] = sum
	}
	g.ms.total = sum
	if r := g.s.opts.Rate; r > 0 && sum > 0 {
		k := r / sum
		for i := range g.ms.cum {
			g.ms.cum[i] *= k
		}
		g.ms.total = r
	}
}

// rhythm is the activity factor of a group's users at m, given they are on
// duty: office workers ramp up and slow down at lunch; shift crews are
// quiet at night.
func rhythm(kind string, m time.Time) float64 {
	lt := m.In(tokyo())
	hm := lt.Hour()*60 + lt.Minute()
	switch kind {
	case calendar.KindOffice:
		switch {
		case hm < 9*60:
			return 0.6
		case hm >= 12*60 && hm < 13*60:
			return 0.35
		case hm >= 17*60:
			return 0.5
		default:
			return 1
		}
	case calendar.KindShift:
		switch {
		case hm >= 8*60+30 && hm < 12*60:
			return 1
		case hm >= 12*60 && hm < 13*60:
			return 0.5
		case hm >= 13*60 && hm < 18*60:
			return 0.9
		case hm >= 18*60 && hm < 22*60:
			return 0.5
		case hm >= 22*60 || hm < 6*60:
			return 0.08
		default:
			return 0.4
		}
	}
	return 1
}
