package rules

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// LoaderOptions configure a Loader.
type LoaderOptions struct {
	// Load is passed to every load.
	Load LoadOptions
	// Logger reports reloads and refused rule sets; default slog.Default().
	Logger *slog.Logger
	// Reload triggers a reload when it receives, e.g. SIGHUP:
	//
	//	ch := make(chan os.Signal, 1)
	//	signal.Notify(ch, syscall.SIGHUP)
	Reload <-chan os.Signal
	// Debounce is how long file changes must settle before a reload (editors write in steps);
	// default 300ms.
	Debounce time.Duration
	// OnError, when set, is called with the diagnostics of a refused rule set (besides the log).
	OnError func(error)
}

// Loader loads a rules directory and reloads it when its files change or on a signal. A rule set that
// does not load is refused: the previous one keeps running and the error is reported.
type Loader struct {
	opts    LoaderOptions
	mu      sync.Mutex
	current *RuleSet
	lastErr error
}

// NewLoader makes a Loader.
func NewLoader(opts LoaderOptions) *Loader {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 300 * time.Millisecond
	}
	return &Loader{opts: opts}
}

// Current returns the rule set in force (nil before the first successful load).
func (l *Loader) Current() *RuleSet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.current
}

// LastError returns the error of the last load, nil when it succeeded.
func (l *Loader) LastError() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastErr
}

// Load loads dir; on success the result becomes Current, on failure Current is unchanged.
func (l *Loader) Load(ctx context.Context, dir string) (*RuleSet, error) {
	rs, err := Load(ctx, dir, l.opts.Load)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr = err
	if err != nil {
		return nil, err
	}
	l.current = rs
	return rs, nil
}

// Watch loads dir, calls onChange with the rule set, then watches the directory (and the directories
// of list files) and reloads on changes and on the Reload channel, calling onChange with each new rule
// set. A rule set that does not load is refused and reported; the previous one stays in force. Watch
// returns when ctx is done (nil), or at once when the first load fails and no earlier Load succeeded.
func (l *Loader) Watch(ctx context.Context, dir string, onChange func(*RuleSet)) error {
	// Watch first, so that a change made while the first set loads is not missed.
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching %s for rule changes: %w (reload with SIGHUP instead)", dir, err)
	}
	defer w.Close()
	watched := map[string]bool{}
	watch := func(rs *RuleSet) {
		dirs := []string{dir}
		if rs != nil {
			for _, li := range rs.Lists {
				for _, f := range li.Files {
					dirs = append(dirs, filepath.Dir(f))
				}
			}
		}
		for _, d := range dirs {
			d = filepath.Clean(d)
			if watched[d] {
				continue
			}
			if err := w.Add(d); err != nil {
				l.opts.Logger.Warn("cannot watch a rules directory; reload with SIGHUP after changing it", "dir", d, "error", err)
				continue
			}
			watched[d] = true
		}
	}
	watch(nil)
	var timer *time.Timer
	var fire <-chan time.Time
	reload := func(why string) {
		next, err := l.Load(ctx, dir)
		if err != nil {
			l.opts.Logger.Error("rule set refused; the previous rules keep running", "dir", dir, "trigger", why, "error", err.Error())
			if l.opts.OnError != nil {
				l.opts.OnError(err)
			}
			return
		}
		l.opts.Logger.Info("rules reloaded", "dir", dir, "trigger", why, "rules", len(next.Rules), "warnings", len(next.Warnings))
		watch(next)
		onChange(next)
	}
	if l.Current() == nil {
		rs, err := l.Load(ctx, dir)
		if err != nil {
			return fmt.Errorf("rules in %s do not load; nothing to run:\n%w", dir, err)
		}
		watch(rs)
		onChange(rs)
	} else {
		// Loaded before (Load): a set broken since then is refused like any reload, and the one in
		// force keeps running until the files are fixed.
		watch(l.Current())
		reload("start of watch")
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !relevant(ev.Name) {
				continue
			}
			if timer == nil {
				timer = time.NewTimer(l.opts.Debounce)
			} else {
				timer.Reset(l.opts.Debounce)
			}
			fire = timer.C
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			l.opts.Logger.Warn("watching rules", "dir", dir, "error", err)
		case <-fire:
			fire = nil
			reload("file change")
		case sig := <-l.opts.Reload:
			reload(fmt.Sprint("signal ", sig))
		}
	}
}

// relevant skips editor droppings (swap files, backups, hidden files).
func relevant(path string) bool {
	base := filepath.Base(path)
	if strings.HasPrefix(base, ".") || strings.HasSuffix(base, "~") || strings.HasSuffix(base, ".swp") || strings.HasSuffix(base, ".tmp") {
		return false
	}
	return slices.Contains([]string{".yaml", ".yml", ".txt", ".list", ".csv"}, filepath.Ext(base)) || filepath.Ext(base) == ""
}
