package rules

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestLoaderWatch(t *testing.T) {
	rule := func(id string) string {
		return "lists:\n  - {name: admins, file: lists/admins.txt}\nrules:\n  - id: " + id + "\n    " + title + "    condition: in_list(user.name, \"admins\")\n"
	}
	dir := writeRules(t, map[string]string{"r.yaml": rule("ONE"), "lists/admins.txt": "root\n"})
	sig := make(chan os.Signal, 1)
	var mu sync.Mutex
	var refused []error
	l := NewLoader(LoaderOptions{Reload: sig, Debounce: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler), OnError: func(err error) {
		mu.Lock()
		refused = append(refused, err)
		mu.Unlock()
	}})
	sets := make(chan *RuleSet, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- l.Watch(ctx, dir, func(rs *RuleSet) { sets <- rs }) }()
	next := func(what string) *RuleSet {
		t.Helper()
		select {
		case rs := <-sets:
			return rs
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no new rule set", what)
			return nil
		}
	}
	if rs := next("initial load"); rs.Rules[0].ID != "ONE" {
		t.Fatalf("initial rules %v", rs.Rules[0].ID)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("r.yaml", rule("TWO"))
	if rs := next("rule change"); rs.Rules[0].ID != "TWO" {
		t.Errorf("after change: %s", rs.Rules[0].ID)
	}
	write("lists/admins.txt", "root\nadmin\n")
	if rs := next("list change"); !rs.Lists["admins"].Contains("admin") {
		t.Errorf("list file change not picked up")
	}
	// A broken rule set is refused; the previous one stays current.
	write("r.yaml", "rules:\n  - id: THREE\n    "+title+"    condition: user.nme == \"x\"\n")
	time.Sleep(400 * time.Millisecond)
	select {
	case rs := <-sets:
		t.Fatalf("a broken rule set was delivered: %v", rs.Rules[0].ID)
	default:
	}
	if l.Current().Rules[0].ID != "TWO" || l.LastError() == nil {
		t.Errorf("current %s, last error %v", l.Current().Rules[0].ID, l.LastError())
	}
	mu.Lock()
	var ds Diagnostics
	if len(refused) == 0 || !errors.As(refused[0], &ds) {
		t.Errorf("refusal not reported with diagnostics: %v", refused)
	}
	mu.Unlock()
	// Fixed, and reloaded by the signal without waiting for the file event.
	write("r.yaml", rule("FOUR"))
	sig <- syscall.SIGHUP
	if rs := next("signal"); rs.Rules[0].ID != "FOUR" {
		t.Errorf("after SIGHUP: %s", rs.Rules[0].ID)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Watch returned %v", err)
	}
}

func TestLoaderFirstLoadFails(t *testing.T) {
	dir := writeRules(t, map[string]string{"r.yaml": "rules:\n  - id: X\n"})
	err := NewLoader(LoaderOptions{}).Watch(context.Background(), dir, func(*RuleSet) { t.Error("onChange called") })
	if err == nil {
		t.Fatal("Watch accepted a broken first rule set")
	}
}
