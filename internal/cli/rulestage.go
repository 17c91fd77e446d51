package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/notify"
	"github.com/zonewatch/zonewatch/rules/run"
)

// rulesProc is the rules stage with its notifiers and its SIGHUP.
type rulesProc struct {
	runner   *run.Runner
	notifier *notify.Dispatcher
	hup      chan os.Signal
}

// rulesStage loads the rules and makes the consumer that evaluates them, reloading on file changes and
// SIGHUP, with the configured notifiers; nil when no rules are configured.
func rulesStage(ctx context.Context, cfg *config.Config, js jetstream.JetStream, ch driver.Conn, reg prometheus.Registerer, log *slog.Logger) (*rulesProc, error) {
	if cfg.Rules.Dir == "" {
		return nil, nil
	}
	zones, err := cfg.ZoneMap()
	if err != nil {
		return nil, err
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state_dir: %w", err)
	}
	p := &rulesProc{hup: make(chan os.Signal, 1)}
	if p.notifier, err = notifier(cfg, reg, log); err != nil {
		return nil, err
	}
	part := rules.Partition{Index: cfg.Rules.Partition.Index, Count: cfg.Rules.Partition.Count}
	state := "rules-state.json"
	if part.Active() {
		state = "rules-state-" + part.String() + ".json" // a new count starts new windows, never another share's
	}
	o := run.Options{JS: js, CH: ch, Database: cfg.ClickHouse.Database, RulesDir: cfg.Rules.Dir,
		Load: rules.LoadOptions{Zones: zones, Hosts: hosts}, Reload: p.hup, Partition: part,
		StateFile: filepath.Join(cfg.StateDir, state), Logger: log, Registerer: reg}
	if p.notifier != nil {
		o.Notifier = p.notifier
	}
	signal.Notify(p.hup, syscall.SIGHUP)
	if p.runner, err = run.New(ctx, o); err != nil {
		signal.Stop(p.hup)
		return nil, fmt.Errorf("rules.dir %s: %w", cfg.Rules.Dir, err)
	}
	log.Info("rules loaded", "dir", cfg.Rules.Dir, "rules", len(p.runner.Engine().Rules().Rules), "partition", part.String(),
		"notify_receivers", len(cfg.Notify.Receivers))
	return p, nil
}

// Run evaluates until ctx ends.
func (p *rulesProc) Run(ctx context.Context) error {
	defer signal.Stop(p.hup)
	if p.notifier != nil {
		nctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = p.notifier.Run(nctx) }()
		defer func() { stop(); <-done }()
	}
	return p.runner.Run(ctx)
}

// notifier builds the configured receivers and routes; nil when there are none.
func notifier(cfg *config.Config, reg prometheus.Registerer, log *slog.Logger) (*notify.Dispatcher, error) {
	n := cfg.Notify
	if len(n.Receivers) == 0 {
		return nil, nil
	}
	loc, _ := time.LoadLocation(cfg.TimeZone)
	o := notify.Options{QueueSize: n.QueueSize, Logger: log, Registerer: reg}
	for _, r := range n.Receivers {
		rc := notify.Receiver{Name: r.Name, PerMinute: r.Rate.PerMinute, Burst: r.Rate.Burst,
			DigestAfter: r.Rate.DigestAfter.Duration, DigestEvery: r.Rate.DigestEvery.Duration}
		switch {
		case r.Webhook != nil:
			w := r.Webhook
			rc.Sender = &notify.Webhook{URL: w.URL, BearerToken: w.BearerToken, Secret: w.HMACSecret, Timeout: w.Timeout.Duration, Retries: w.Retries}
		case r.Email != nil:
			e := r.Email
			var tlsCfg *tls.Config
			if e.CA != "" {
				pem, err := os.ReadFile(e.CA)
				if err != nil {
					return nil, fmt.Errorf("notify receiver %s: email.ca: %w", r.Name, err)
				}
				pool := x509.NewCertPool()
				if !pool.AppendCertsFromPEM(pem) {
					return nil, fmt.Errorf("notify receiver %s: email.ca %s holds no PEM certificate", r.Name, e.CA)
				}
				tlsCfg = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
			}
			rc.Sender = &notify.Email{Addr: e.SMTP, From: e.From, To: e.To, Username: e.Username, Password: e.Password,
				TLS: e.TLS, TLSConfig: tlsCfg, Timeout: e.Timeout.Duration, Retries: e.Retries, Location: loc}
		}
		o.Receivers = append(o.Receivers, rc)
	}
	for _, rt := range n.Routes {
		o.Routes = append(o.Routes, notify.Route{MinSeverity: rt.Match.MinSeverity, Rules: rt.Match.Rules, Tags: rt.Match.Tags, Receivers: rt.Receivers})
	}
	return notify.New(o)
}
