package notify_test

import (
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/notify"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./rules/notify -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs (go test ./rules/notify -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var t0 = time.Date(2026, 4, 1, 1, 2, 3, 0, time.UTC)

// alert is a port-scan alert as the engine raises it.
func alert(id, rule, severity string, tags ...string) rules.Alert {
	return rules.Alert{ID: id, RuleID: rule, Title: rules.Title{Ja: "ポートスキャン", En: "Port scan"}, Severity: severity, Tags: tags,
		Kind: "match", GroupKey: "source.ip=10.20.4.4", Group: map[string]string{"source.ip": "10.20.4.4"}, Count: 21, Distinct: 21,
		EventIDs: []string{"e1", "e2"}, EventIDsOmitted: 19, Zones: []string{"lgwan"}, FirstSeen: t0, LastSeen: t0.Add(20 * time.Second), Created: t0.Add(21 * time.Second)}
}

// hook is a real HTTP server that records the webhook requests it gets and answers with the status
// codes given (200 once they run out).
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	statuses []int
	release  chan struct{} // when set, requests wait for it
	inFlight int           // requests received (counted before they wait for release)
}

type request struct {
	header http.Header
	body   []byte
	msg    notify.Message
}

func newHook(t *testing.T, statuses ...int) *hook { return newStuckHook(t, nil, statuses...) }

// newStuckHook's requests wait until release is closed.
func newStuckHook(t *testing.T, release chan struct{}, statuses ...int) *hook {
	h := &hook{statuses: statuses, release: release}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.inFlight++
		h.mu.Unlock()
		if h.release != nil {
			<-h.release
		}
		body, _ := io.ReadAll(r.Body)
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			t.Errorf("webhook body is not a message: %v: %s", err, body)
		}
		h.mu.Lock()
		h.requests = append(h.requests, request{header: r.Header.Clone(), body: body, msg: m})
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status, h.statuses = h.statuses[0], h.statuses[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hook) got() []request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]request(nil), h.requests...)
}

// waitFor polls until ok holds, or fails after 10s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("waited 10s for %s", what)
}

// counter reads a counter with the label receiver (and kind, when given) from reg.
func counter(t *testing.T, reg *prometheus.Registry, name, receiver string, kind ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if (l.GetName() == "receiver" && l.GetValue() != receiver) || (l.GetName() == "kind" && len(kind) > 0 && l.GetValue() != kind[0]) {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no %s{receiver=%q}", name, receiver)
	return 0
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
