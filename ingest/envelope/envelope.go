// Package envelope reads the syslog envelope of a message with go-syslog v3: RFC 5424, and RFC 3164 in its
// real-world variants (no year, no hostname, RFC 3339 timestamps, local time of Asia/Tokyo). Bodies that
// are not UTF-8 (Shift_JIS or EUC-JP from older Japanese devices) are transcoded instead of lost.
package envelope

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"

	syslog "github.com/influxdata/go-syslog/v3"
	"github.com/influxdata/go-syslog/v3/rfc3164"
	"github.com/influxdata/go-syslog/v3/rfc5424"
	"golang.org/x/text/encoding/japanese"
)

// Envelope is what the syslog header says.
type Envelope struct {
	Format    string // rfc5424 or rfc3164
	Timestamp time.Time
	Hostname  string
	AppName   string
	ProcID    string
	MsgID     string
	Facility  uint8
	Severity  uint8
	Body      string
	// Charset is the charset the message was transcoded from, or "" for UTF-8.
	Charset string
}

// Options configure a Parser.
type Options struct {
	// Location is the time zone of RFC 3164 timestamps, which carry none.
	Location *time.Location
	// Now gives the current time, used to choose the year of RFC 3164 timestamps.
	Now func() time.Time
}

// Parser parses envelopes. It is not safe for concurrent use: give each goroutine its own.
type Parser struct {
	loc   *time.Location
	now   func() time.Time
	p5424 syslog.Machine
	p3164 syslog.Machine
	year  *yearOf
}

// yearOf gives go-syslog the year to put on an RFC 3164 timestamp.
type yearOf struct{ year int }

func (y *yearOf) Apply() int { return y.year }

// New makes a Parser.
func New(opts Options) *Parser {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// go-syslog's WithYear is read once when the parser is made and WithTimezone only changes how the
	// time is shown, not which instant it is, so the year and zone of RFC 3164 stamps are applied here.
	return &Parser{
		loc:   opts.Location,
		now:   opts.Now,
		p5424: rfc5424.NewParser(rfc5424.WithBestEffort()),
		p3164: rfc3164.NewParser(rfc3164.WithBestEffort(), rfc3164.WithRFC3339()),
	}
}

// Parse reads one message. A message whose header cannot be read returns an error that says why; the
// caller keeps the raw line.
func (p *Parser) Parse(msg []byte) (Envelope, error) { return p.ParseAt(msg, time.Time{}) }

// ParseAt is Parse for a message received at now (the zero time means Options.Now): a caller that has
// read the clock already saves reading it again for the year of an RFC 3164 stamp.
func (p *Parser) ParseAt(msg []byte, now time.Time) (Envelope, error) {
	var env Envelope
	if !utf8.Valid(msg) {
		msg, env.Charset = transcode(msg)
	}
	if len(msg) < 4 || msg[0] != '<' {
		return env, fmt.Errorf("no syslog PRI at the start (want <N>): %q", clip(msg))
	}
	close := bytes.IndexByte(msg[:min(len(msg), 5)], '>')
	if close > 0 && close+2 < len(msg) && msg[close+1] >= '1' && msg[close+1] <= '9' && msg[close+2] == ' ' {
		return p.parse5424(msg, env)
	}
	return p.parse3164(msg, env, now)
}

func (p *Parser) parse5424(msg []byte, env Envelope) (Envelope, error) {
	m, err := p.p5424.Parse(msg)
	if m == nil {
		return env, fmt.Errorf("RFC 5424 header: %w", err)
	}
	sm := m.(*rfc5424.SyslogMessage)
	env.Format = "rfc5424"
	fill(&env, &sm.Base)
	if err != nil && sm.Message == nil {
		return env, fmt.Errorf("RFC 5424 header: %w", err)
	}
	return env, nil
}

func (p *Parser) parse3164(msg []byte, env Envelope, now time.Time) (Envelope, error) {
	msg = insertMissingHostname(msg)
	m, err := p.p3164.Parse(msg)
	if m == nil {
		return env, fmt.Errorf("RFC 3164 header: %w", err)
	}
	sm := m.(*rfc3164.SyslogMessage)
	env.Format = "rfc3164"
	fill(&env, &sm.Base)
	if err != nil && sm.Message == nil {
		return env, fmt.Errorf("RFC 3164 header: %w", err)
	}
	if sm.Timestamp != nil && sm.Timestamp.Year() == 0 {
		env.Timestamp = p.placeStamp(*sm.Timestamp, now)
	}
	if env.Hostname == "-" {
		env.Hostname = ""
	}
	return env, nil
}

// placeStamp gives a "Nov 25 09:15:01" stamp (parsed as year 0, UTC) its year and the devices' zone. No
// year on the wire: a December line read in January belongs to last year, not eleven months ahead.
func (p *Parser) placeStamp(ts, now time.Time) time.Time {
	if now.IsZero() {
		now = p.now()
	}
	now = now.In(p.loc)
	t := time.Date(now.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond(), p.loc)
	if t.After(now.Add(48 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t.UTC()
}

func fill(env *Envelope, b *syslog.Base) {
	if b.Facility != nil {
		env.Facility = *b.Facility
	}
	if b.Severity != nil {
		env.Severity = *b.Severity
	}
	if b.Timestamp != nil {
		env.Timestamp = b.Timestamp.UTC()
	}
	env.Hostname = deref(b.Hostname)
	env.AppName = deref(b.Appname)
	env.ProcID = deref(b.ProcID)
	env.MsgID = deref(b.MsgID)
	env.Body = deref(b.Message)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// insertMissingHostname turns "<13>Nov 25 09:15:01 sshd[42]: msg" (a device that sends no hostname) into
// "<13>Nov 25 09:15:01 - sshd[42]: msg", so that go-syslog does not take the tag for the hostname.
func insertMissingHostname(msg []byte) []byte {
	end := bytes.IndexByte(msg, '>')
	if end < 0 {
		return msg
	}
	rest := msg[end+1:]
	var tsLen int
	switch {
	case len(rest) >= 16 && rest[3] == ' ' && rest[6] == ' ' && rest[9] == ':' && rest[15] == ' ':
		tsLen = 15 // "Nov 25 09:15:01"
	case len(rest) > 20 && rest[4] == '-' && rest[10] == 'T':
		tsLen = bytes.IndexByte(rest, ' ')
		if tsLen < 0 {
			return msg
		}
	default:
		return msg
	}
	next := rest[tsLen+1:]
	sp := bytes.IndexByte(next, ' ')
	if sp <= 0 {
		return msg
	}
	word := next[:sp]
	if word[len(word)-1] != ':' && bytes.IndexByte(word, '[') < 0 {
		return msg
	}
	out := make([]byte, 0, len(msg)+2)
	out = append(out, msg[:end+1+tsLen+1]...)
	out = append(out, '-', ' ')
	return append(out, next...)
}

// transcode decodes a message that is not UTF-8 as Shift_JIS or EUC-JP, whichever decodes with fewer
// errors; the bytes that fit neither become U+FFFD, and the raw line keeps the original.
func transcode(msg []byte) ([]byte, string) {
	sjis, errS := japanese.ShiftJIS.NewDecoder().Bytes(msg)
	euc, errE := japanese.EUCJP.NewDecoder().Bytes(msg)
	bs, be := bad(sjis, errS), bad(euc, errE)
	if be < bs {
		return euc, "EUC-JP"
	}
	if errS != nil {
		return bytes.ToValidUTF8(msg, []byte("\uFFFD")), "unknown"
	}
	return sjis, "Shift_JIS"
}

func bad(b []byte, err error) int {
	if err != nil {
		return 1 << 30
	}
	return bytes.Count(b, []byte("\uFFFD"))
}

func clip(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}
