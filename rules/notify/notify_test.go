package notify_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/notify"
)

func TestRouteMatches(t *testing.T) {
	high := alert("a", "ZW-ST-001", "high", "T1046")
	low := alert("b", "ZW-PH-001", "low", "T1562.006")
	for _, tc := range []struct {
		name  string
		route notify.Route
		a     rules.Alert
		want  bool
	}{
		{"empty matches all", notify.Route{}, low, true},
		{"severity at the minimum", notify.Route{MinSeverity: "high"}, high, true},
		{"severity above", notify.Route{MinSeverity: "medium"}, high, true},
		{"severity below", notify.Route{MinSeverity: "medium"}, low, false},
		{"rule id", notify.Route{Rules: []string{"ZW-ST-001"}}, high, true},
		{"rule pattern", notify.Route{Rules: []string{"ZW-PH-*"}}, low, true},
		{"rule pattern misses", notify.Route{Rules: []string{"ZW-PH-*"}}, high, false},
		{"any tag", notify.Route{Tags: []string{"T1110", "T1046"}}, high, true},
		{"no tag", notify.Route{Tags: []string{"T1110"}}, high, false},
		{"all conditions", notify.Route{MinSeverity: "high", Rules: []string{"ZW-*"}, Tags: []string{"T1046"}}, high, true},
		{"one condition fails", notify.Route{MinSeverity: "critical", Rules: []string{"ZW-*"}, Tags: []string{"T1046"}}, high, false},
	} {
		if got := tc.route.Matches(&tc.a); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNewRefusesBadRoutes(t *testing.T) {
	recv := []notify.Receiver{{Name: "soc", Sender: &notify.Webhook{URL: "http://127.0.0.1:1/"}}}
	for _, tc := range []struct {
		routes []notify.Route
		want   string
	}{
		{[]notify.Route{{Receivers: []string{"nobody"}}}, `receiver "nobody", which is not defined`},
		{[]notify.Route{{MinSeverity: "urgent", Receivers: []string{"soc"}}}, `min_severity "urgent"`},
		{[]notify.Route{{Rules: []string{"ZW-["}, Receivers: []string{"soc"}}}, `"ZW-[" is not a rule id or pattern`},
		{[]notify.Route{{}}, "no receivers"},
	} {
		_, err := notify.New(notify.Options{Receivers: recv, Routes: tc.routes})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.routes, err, tc.want)
		}
	}
}

// TestRoutingAndRateLimit: alerts reach the receivers their routes name; a storm is cut at the
// receiver's burst, and the alerts held back arrive as one digest once the storm is over.
func TestRoutingAndRateLimit(t *testing.T) {
	soc, infra := newHook(t), newHook(t)
	reg := prometheus.NewRegistry()
	d, err := notify.New(notify.Options{
		Receivers: []notify.Receiver{
			{Name: "soc", Sender: &notify.Webhook{URL: soc.URL}, PerMinute: 0.001, Burst: 3, DigestAfter: 300 * time.Millisecond},
			{Name: "infra", Sender: &notify.Webhook{URL: infra.URL}},
		},
		Routes: []notify.Route{
			{MinSeverity: "high", Receivers: []string{"soc"}},
			{Rules: []string{"ZW-PH-*"}, Receivers: []string{"infra"}},
			{Tags: []string{"T1046"}, Receivers: []string{"soc"}}, // soc twice for a high scan: still once
		},
		Tick: 20 * time.Millisecond, Logger: quiet(), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	var storm []rules.Alert
	for i := range 10 {
		storm = append(storm, alert(fmt.Sprintf("scan-%d", i), "ZW-ST-001", "high", "T1046"))
	}
	storm = append(storm, alert("silent-1", "ZW-PH-001", "high"), alert("quiet-1", "ZW-ST-009", "low"))
	d.Notify(storm)

	// soc: the first 3 alerts, then one digest of the other 8 (7 scans and the silent source).
	waitFor(t, "the digest", func() bool { return len(soc.got()) == 4 })
	got := soc.got()
	for i, r := range got[:3] {
		if r.msg.Kind != notify.KindAlert || r.msg.Alert.ID != fmt.Sprintf("scan-%d", i) {
			t.Errorf("soc message %d: %s %+v", i, r.msg.Kind, r.msg.Alert)
		}
	}
	dg := got[3].msg
	if dg.Kind != notify.KindDigest || dg.Digest.Suppressed != 8 || dg.Digest.Rules["ZW-ST-001"] != 7 || dg.Digest.Rules["ZW-PH-001"] != 1 {
		t.Errorf("digest: %s %+v", dg.Kind, dg.Digest)
	}
	// infra: only the pipeline-health alert, not rate-limited; the low alert went nowhere.
	waitFor(t, "infra's alert", func() bool { return len(infra.got()) == 1 })
	if m := infra.got()[0].msg; m.Alert == nil || m.Alert.ID != "silent-1" {
		t.Errorf("infra got %+v", m)
	}
	if v := counter(t, reg, "zonewatch_notify_suppressed_total", "soc"); v != 8 {
		t.Errorf("suppressed soc = %v, want 8", v)
	}
	if v := counter(t, reg, "zonewatch_notify_sent_total", "soc", "alert"); v != 3 {
		t.Errorf("sent soc alerts = %v, want 3", v)
	}
	if v := counter(t, reg, "zonewatch_notify_sent_total", "soc", "digest"); v != 1 {
		t.Errorf("sent soc digests = %v, want 1", v)
	}
	// No second digest when nothing more was held back.
	time.Sleep(400 * time.Millisecond)
	if n := len(soc.got()); n != 4 {
		t.Errorf("soc got %d messages after the storm, want 4", n)
	}
}

// TestQueueFullDropsWithoutBlocking: with the receiver stuck, Notify still returns at once; what does
// not fit in the queue is dropped and counted, the rest is delivered once the receiver answers again.
func TestQueueFullDropsWithoutBlocking(t *testing.T) {
	release := make(chan struct{})
	h := newStuckHook(t, release)
	reg := prometheus.NewRegistry()
	d, err := notify.New(notify.Options{
		Receivers: []notify.Receiver{{Name: "soc", Sender: &notify.Webhook{URL: h.URL, Timeout: time.Minute}, Burst: 100}},
		Routes:    []notify.Route{{Receivers: []string{"soc"}}},
		QueueSize: 2, Logger: quiet(), Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()

	d.Notify([]rules.Alert{alert("first", "R", "high")})
	waitFor(t, "the first request to be in flight", func() bool { return queueTaken(h) })
	var more []rules.Alert
	for i := range 9 {
		more = append(more, alert(fmt.Sprintf("a%d", i), "R", "high"))
	}
	returned := make(chan struct{})
	go func() { d.Notify(more); close(returned) }()
	select {
	case <-returned:
	case <-time.After(5 * time.Second):
		t.Fatal("Notify blocked on a stuck receiver")
	}
	if v := counter(t, reg, "zonewatch_notify_dropped_total", "soc"); v != 7 {
		t.Errorf("dropped = %v, want 7 (9 alerts, a queue of 2)", v)
	}
	close(release)
	waitFor(t, "the queued alerts", func() bool { return len(h.got()) == 3 })
	if v := counter(t, reg, "zonewatch_notify_sent_total", "soc", "alert"); v != 3 {
		t.Errorf("sent = %v, want 3", v)
	}
}

// queueTaken reports whether the worker has taken the first message (its request reached the server).
func queueTaken(h *hook) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.inFlight > 0
}
