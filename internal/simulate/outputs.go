package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/calendar"
)

// Outputs say where a run's lines go, one field per flag of the simulate
// command. Syslog lines go to TCP and/or UDP; file lines (Squid, i-FILTER)
// to OutDir. With neither TCP nor UDP, OutDir also keeps a capture of the
// syslog lines (syslog/<device>.log). With no output at all, every line is
// written to Stdout (or discarded when Stdout is nil).
type Outputs struct {
	TCP     string // host:port of a syslog receiver over TCP
	UDP     string // host:port of a syslog receiver over UDP
	Framing string // TCP framing: octet (default) or newline
	// Reconnect keeps the TCP sender going when the receiver restarts
	// (lines buffered at that moment are lost, as with a real device).
	Reconnect bool
	OutDir    string // directory for file logs
	MaxBytes  int64  // rotation size of file logs; 0 = 64 MiB
	Keep      int    // rotated files kept; 0 = 5
	Truth     string // path of the ground-truth JSON Lines file
	Stdout    io.Writer
}

// OpenOutputs opens the sinks described by o. incidents are the
// simulator's (Simulator.Incidents) for the ground truth. Close the returned
// sink after Run: it flushes everything and writes the ground truth.
func OpenOutputs(ctx context.Context, o Outputs, incidents []Incident) (Sink, error) {
	var sinks MultiSink
	fail := func(err error) (Sink, error) {
		return nil, errors.Join(err, sinks.Close())
	}
	if o.TCP != "" {
		s, err := DialTCP(ctx, TCPOptions{Addr: o.TCP, Framing: o.Framing, Reconnect: o.Reconnect})
		if err != nil {
			return fail(err)
		}
		sinks = append(sinks, s)
	} else if o.Framing != "" && o.Framing != FramingOctet && o.Framing != FramingNewline {
		return fail(fmt.Errorf("framing %q: want octet or newline", o.Framing))
	}
	if o.UDP != "" {
		s, err := DialUDP(ctx, o.UDP)
		if err != nil {
			return fail(err)
		}
		sinks = append(sinks, s)
	}
	if o.OutDir != "" {
		s, err := NewFileSink(FileOptions{Dir: o.OutDir, MaxBytes: o.MaxBytes, Keep: o.Keep, Syslog: o.TCP == "" && o.UDP == ""})
		if err != nil {
			return fail(err)
		}
		sinks = append(sinks, s)
	}
	if len(sinks) == 0 {
		if o.Stdout != nil {
			sinks = append(sinks, NewWriterSink(o.Stdout))
		} else {
			sinks = append(sinks, &DiscardSink{})
		}
	}
	if o.Truth != "" {
		f, err := os.Create(o.Truth)
		if err != nil {
			return fail(fmt.Errorf("truth file: %w", err))
		}
		sinks = append(sinks, &fileTruth{TruthWriter: NewTruthWriter(f, incidents), f: f})
	}
	return sinks, nil
}

// fileTruth closes its file after writing the records.
type fileTruth struct {
	*TruthWriter
	f *os.File
}

func (t *fileTruth) Close() error {
	return errors.Join(t.TruthWriter.Close(), t.f.Close())
}

// ParseTime reads a --from/--to value: 2026-11-02, 2026-11-02T09:00,
// 2026-11-02 09:00, 2026-11-02T09:00:00 (all Asia/Tokyo) or RFC 3339 with
// an offset.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(calendar.Tokyo()), nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, calendar.Tokyo()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want 2026-11-02, 2026-11-02T09:00 (Asia/Tokyo) or RFC 3339", s)
}
