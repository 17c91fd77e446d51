package rules

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// writeRules writes files (name → YAML) into a temporary rules directory.
func writeRules(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t testing.TB, files map[string]string) *RuleSet {
	t.Helper()
	rs, err := Load(context.Background(), writeRules(t, files), LoadOptions{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return rs
}

func mustEngine(t testing.TB, rs *RuleSet) *Engine {
	t.Helper()
	e, err := NewEngine(Options{Rules: rs, Now: func() time.Time { return testEpoch }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

var t0 = time.Date(2026, 4, 1, 1, 0, 0, 0, time.UTC)

// ev builds an event for tests.
func ev(id string, at time.Duration, mod func(e *event.Event)) *event.Event {
	e := &event.Event{ID: id, Timestamp: t0.Add(at)}
	if mod != nil {
		mod(e)
	}
	return e
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

const title = "title: {ja: テスト, en: Test}\n    severity: high\n"
