package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written as "1s", "5m" or "168h". A bad value does not fail the YAML decoder
// (which would lose the key's name); Validate reports it with its key instead.
type Duration struct {
	time.Duration
	bad string
}

// D makes a Duration.
func D(d time.Duration) Duration { return Duration{Duration: d} }

// UnmarshalText records the value, or remembers that it was bad.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		d.bad = string(b)
		return nil
	}
	*d = Duration{Duration: v}
	return nil
}

// MarshalText writes the duration back in Go's form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Duration) check(key string) error {
	if d.bad != "" {
		return &Error{Key: key, Problem: fmt.Sprintf("%q is not a duration (want e.g. 500ms, 1s, 5m, 168h)", d.bad)}
	}
	return nil
}
