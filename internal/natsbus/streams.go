package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Names that cross process boundaries (see README, "Names on the wire").
const (
	StreamEvents = "ZW_EVENTS"
	StreamAlerts = "ZW_ALERTS"
	StreamDead   = "ZW_DEAD"

	ConsumerWriter = "writer"
	ConsumerRules  = "rules"
)

// EventSubject is zw.events.<zone>.<source type>; consumers can subscribe narrowly.
func EventSubject(zone, sourceType string) string {
	return "zw.events." + token(zone) + "." + token(sourceType)
}

// AlertSubject is zw.alerts.<severity>.
func AlertSubject(severity string) string { return "zw.alerts." + token(severity) }

// DeadSubject is zw.dead.<listener>.
func DeadSubject(listener string) string { return "zw.dead." + token(listener) }

// token makes a value safe as one subject token: no dots, spaces or wildcards; empty becomes "unknown".
func token(s string) string {
	if s == "" {
		return "unknown"
	}
	if strings.ContainsAny(s, ". *>\t\r\n") {
		return strings.Map(func(r rune) rune {
			switch r {
			case '.', ' ', '*', '>', '\t', '\r', '\n':
				return '_'
			}
			return r
		}, s)
	}
	return s
}

// StreamOptions are the streams' settings, from the nats.stream section of the configuration.
type StreamOptions struct {
	// MaxBytes and MaxMsgs bound ZW_EVENTS (0: unbounded); a full stream refuses new messages.
	MaxBytes int64
	MaxMsgs  int64
	// MaxAge bounds all three streams (0: unbounded).
	MaxAge time.Duration
	// AlertsMaxBytes and DeadMaxBytes bound ZW_ALERTS and ZW_DEAD (0: unbounded).
	AlertsMaxBytes, DeadMaxBytes int64
	// Replicas is the number of copies of each stream in a JetStream cluster: 1 (default) or 3 (R3, one
	// node may fail), at most the number of nodes. Consumers take their stream's replica count.
	Replicas int
	// Duplicates is the window in which JetStream drops a message whose Nats-Msg-Id it has seen; a
	// publish retried after a node failure must come within it. Default 2m.
	Duplicates time.Duration
	// Retention is "limits" (default: messages stay until a limit removes them, whoever has read them) or
	// "interest" (a message goes once every consumer has acknowledged it; messages published while no
	// consumer exists are dropped, so start writer and rules before ingest). The server can switch an
	// existing stream between the two.
	Retention string
	// Wait is how long EnsureStreams keeps retrying while JetStream is not yet available (a cluster
	// electing its meta leader, a node still starting); default 60s. ctx may end it sooner.
	Wait   time.Duration
	Logger *slog.Logger
}

// StreamConfigs are the stream configurations EnsureStreams applies.
func StreamConfigs(o StreamOptions) ([]jetstream.StreamConfig, error) {
	retention := jetstream.LimitsPolicy
	switch o.Retention {
	case "", "limits":
	case "interest":
		retention = jetstream.InterestPolicy
	default:
		return nil, fmt.Errorf("stream retention %q is not one of limits, interest", o.Retention)
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Replicas < 0 || o.Replicas > 5 {
		return nil, fmt.Errorf("stream replicas %d: want 1 to 5 (3 for a three-node cluster)", o.Replicas)
	}
	if o.Duplicates == 0 {
		o.Duplicates = 2 * time.Minute
	}
	out := []jetstream.StreamConfig{
		{Name: StreamEvents, Subjects: []string{"zw.events.>"}, MaxBytes: o.MaxBytes, MaxMsgs: o.MaxMsgs},
		{Name: StreamAlerts, Subjects: []string{"zw.alerts.>"}, MaxBytes: o.AlertsMaxBytes},
		{Name: StreamDead, Subjects: []string{"zw.dead.>"}, MaxBytes: o.DeadMaxBytes},
	}
	for i := range out {
		cfg := &out[i]
		cfg.Storage = jetstream.FileStorage
		cfg.Retention = retention
		// Refuse new messages when full rather than silently dropping the oldest evidence.
		cfg.Discard = jetstream.DiscardNew
		cfg.Replicas = o.Replicas
		cfg.Duplicates = o.Duplicates
		cfg.MaxAge = o.MaxAge
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = -1
		}
		if cfg.MaxMsgs == 0 {
			cfg.MaxMsgs = -1
		}
	}
	return out, nil
}

// EnsureStreams creates or updates zonewatch's streams to match o; safe to call on every start from
// every process, concurrently. While JetStream is not available yet (a cluster still forming) it retries
// for up to o.Wait; a setting the server refuses (e.g. changing retention, R3 on a single server) fails
// at once.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	cfgs, err := StreamConfigs(o)
	if err != nil {
		return err
	}
	if o.Wait <= 0 {
		o.Wait = 60 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	for _, cfg := range cfgs {
		if err := ensureStream(ctx, js, cfg, o.Logger); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig, log *slog.Logger) error {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		before, _ := streamConfig(ctx, js, cfg.Name)
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := js.CreateOrUpdateStream(rctx, cfg)
		cancel()
		if err == nil {
			logChange(log, before, cfg)
			return nil
		}
		if !retryable(err) {
			return fmt.Errorf("create or update stream %s: %w%s", cfg.Name, err, hint(err))
		}
		if attempt%10 == 1 {
			log.Warn("JetStream not ready for the streams yet; retrying", "stream", cfg.Name, "err", err, "attempt", attempt)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create or update stream %s: JetStream not available in time (%v): last error: %w; is the NATS cluster up with JetStream enabled on a majority of its nodes?", cfg.Name, ctx.Err(), err)
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// streamConfig is the stream's current configuration, nil when it does not exist (or cannot be read).
func streamConfig(ctx context.Context, js jetstream.JetStream, name string) (*jetstream.StreamConfig, error) {
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := js.Stream(rctx, name)
	if err != nil {
		return nil, err
	}
	c := s.CachedInfo().Config
	return &c, nil
}

// logChange says what the start created or changed, so that an operator sees a configuration take effect.
func logChange(log *slog.Logger, before *jetstream.StreamConfig, cfg jetstream.StreamConfig) {
	if before == nil {
		log.Info("JetStream stream created", "stream", cfg.Name, "replicas", cfg.Replicas, "retention", cfg.Retention.String(),
			"max_bytes", cfg.MaxBytes, "max_msgs", cfg.MaxMsgs, "max_age", cfg.MaxAge)
		return
	}
	if before.Replicas != cfg.Replicas || before.MaxBytes != cfg.MaxBytes || before.MaxMsgs != cfg.MaxMsgs ||
		before.MaxAge != cfg.MaxAge || before.Duplicates != cfg.Duplicates || before.Retention != cfg.Retention {
		log.Info("JetStream stream updated", "stream", cfg.Name,
			"replicas", fmt.Sprintf("%d→%d", before.Replicas, cfg.Replicas),
			"max_bytes", fmt.Sprintf("%d→%d", before.MaxBytes, cfg.MaxBytes),
			"max_msgs", fmt.Sprintf("%d→%d", before.MaxMsgs, cfg.MaxMsgs),
			"max_age", fmt.Sprintf("%v→%v", before.MaxAge, cfg.MaxAge),
			"duplicates", fmt.Sprintf("%v→%v", before.Duplicates, cfg.Duplicates),
			"retention", fmt.Sprintf("%v→%v", before.Retention, cfg.Retention))
	}
}

// Server error codes (nats-server's errors.json) that mean "not now" rather than "never".
const (
	errClusterNoPeers        = 10005 // no suitable peers for placement: nodes still joining
	errClusterNotAvailable   = 10008 // JetStream system temporarily unavailable: no meta leader yet
	errInsufficientResources = 10023
	errStreamNameInUse       = 10058 // another process created it a moment ago with other settings
	errReplicasNotSupported  = 10074
	errStreamInvalidConfig   = 10052
	errStorageExceeded       = 10047
)

func retryable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case errClusterNoPeers, errClusterNotAvailable, errInsufficientResources, errStreamNameInUse:
			return true
		}
		return false
	}
	// Timeouts, no responders (JetStream not started yet), a connection still reconnecting.
	return true
}

func hint(err error) string {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return ""
	}
	switch apiErr.ErrorCode {
	case errReplicasNotSupported:
		return " (this NATS server is not clustered: set nats.stream.replicas to 1, or point nats.urls at a JetStream cluster)"
	case errStreamInvalidConfig:
		return " (the server cannot change this on an existing stream: keep the old setting, or drain the stream and delete it with `nats stream rm` first)"
	case errStorageExceeded:
		return " (the streams' max_bytes, times their replicas, are more than the NATS servers may store: lower nats.stream.max_bytes, alerts_max_bytes, dead_max_bytes, or raise the servers' jetstream max_file_store)"
	}
	return ""
}

// IsStreamFull reports whether a publish failed because a stream reached its limits.
func IsStreamFull(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 10077 is the server's "stream store failed" code, which it answers when a limit with DiscardNew bites.
		return apiErr.ErrorCode == 10077 || strings.Contains(apiErr.Description, "maximum")
	}
	return err != nil && strings.Contains(err.Error(), "maximum bytes exceeded")
}
