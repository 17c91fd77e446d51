package natsbus

import (
	"context"
	"errors"
	"fmt"
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

// StreamOptions bound the streams.
type StreamOptions struct {
	MaxBytes int64
	MaxAge   time.Duration
	Replicas int
	// Duplicates is the window in which JetStream drops a message whose Nats-Msg-Id it has seen.
	Duplicates time.Duration
}

// EnsureStreams creates or updates zonewatch's streams; safe to call on every start from every process.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) error {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Duplicates == 0 {
		o.Duplicates = 2 * time.Minute
	}
	for _, cfg := range []jetstream.StreamConfig{
		{Name: StreamEvents, Subjects: []string{"zw.events.>"}, MaxBytes: o.MaxBytes, MaxAge: o.MaxAge},
		{Name: StreamAlerts, Subjects: []string{"zw.alerts.>"}, MaxAge: o.MaxAge},
		{Name: StreamDead, Subjects: []string{"zw.dead.>"}, MaxAge: o.MaxAge},
	} {
		cfg.Storage = jetstream.FileStorage
		cfg.Retention = jetstream.LimitsPolicy
		// Refuse new messages when full rather than silently dropping the oldest evidence.
		cfg.Discard = jetstream.DiscardNew
		cfg.Replicas = o.Replicas
		cfg.Duplicates = o.Duplicates
		if cfg.MaxBytes == 0 {
			cfg.MaxBytes = -1
		}
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
		}
	}
	return nil
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
