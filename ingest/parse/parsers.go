package parse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Format names: what Parse returns and what Meta.Module is set to. FormatSquidCombined is a file format
// only: its events, like Squid native ones, have module "squid".
const (
	FormatFortiGate     = "fortigate"
	FormatIPTables      = "iptables"
	FormatSSHD          = "sshd"
	FormatSquid         = "squid"
	FormatSquidCombined = "squid-combined"
	FormatIFilter       = "ifilter"
	FormatInterSafe     = "intersafe"
	FormatGateway       = "gateway"
	FormatJSON          = "json"
	FormatKV            = "kv"
	FormatSyslog        = "syslog"
)

// Input is one message body plus what the envelope told us. No current format needs Hostname or Received
// (every body time read here carries its year); they are part of the contract for formats that will.
type Input struct {
	AppName, Hostname string
	Body              string
	Received          time.Time
	Loc               *time.Location // zone of times that carry none; nil means Asia/Tokyo
}

// Options configure the parsers. The zero value is usable.
type Options struct {
	// IFilterLayout and InterSafeLayout name the columns of those access logs, in order (see layout.go for
	// the names understood). Empty means the built-in defaults, told apart by their column counts:
	// DefaultIFilterLayout, IFilterSyslogLayout and IFilterCompactLayout; InterSafeVendorLayout and
	// DefaultInterSafeLayout.
	IFilterLayout, InterSafeLayout []string
	// IFilterCategories maps i-FILTER category codes to names ("9001": "malware"); url.category gets the
	// name when the code is in it, else the code. nil means no names.
	IFilterCategories map[string]string
	// AppNames maps extra syslog app names (compared without case) to a format, e.g. "fgt-hq": "fortigate",
	// "mailgw01": "gateway". They are added to, and override, the built-in names (see appFormats).
	AppNames map[string]string
	// MaxLabels bounds the labels one event may get from a body (generic JSON and key=value bodies can
	// carry any number of keys). 0 means 32.
	MaxLabels int
}

// Parsers holds the configured parsers. It is immutable after New and safe for concurrent use.
type Parsers struct {
	tokyo     *time.Location
	apps      map[string]string // lower-case app name → format
	ifilter   []*layout         // tried in order; the column count picks one
	intersafe []*layout
	maxLabels int
}

// New checks the options and builds the parsers.
func New(opts Options) (*Parsers, error) {
	p := &Parsers{tokyo: tokyo(), apps: appFormats(), maxLabels: opts.MaxLabels}
	if p.maxLabels <= 0 {
		p.maxLabels = 32
	}
	for name, f := range opts.AppNames {
		switch f {
		case FormatFortiGate, FormatIPTables, FormatSSHD, FormatSquid, FormatIFilter, FormatInterSafe, FormatGateway, FormatJSON, FormatKV:
		default:
			return nil, fmt.Errorf("parse: app name %q maps to unknown format %q", name, f)
		}
		p.apps[strings.ToLower(name)] = f
	}
	ifl := [][]string{opts.IFilterLayout}
	if len(opts.IFilterLayout) == 0 {
		ifl = [][]string{DefaultIFilterLayout(), IFilterSyslogLayout(), IFilterCompactLayout()} // widest first
	}
	for _, names := range ifl {
		l, err := newLayout(FormatIFilter, names)
		if err != nil {
			return nil, err
		}
		l.categories = opts.IFilterCategories
		p.ifilter = append(p.ifilter, l)
	}
	isl := [][]string{opts.InterSafeLayout}
	if len(opts.InterSafeLayout) == 0 {
		isl = [][]string{InterSafeVendorLayout(), DefaultInterSafeLayout()} // widest first
	}
	for _, names := range isl {
		l, err := newLayout(FormatInterSafe, names)
		if err != nil {
			return nil, err
		}
		p.intersafe = append(p.intersafe, l)
	}
	return p, nil
}

// tokyo loads Asia/Tokyo, falling back to a fixed +09:00 zone when the system has no tzdata: Japan has had
// no daylight saving time since 1951, so the two agree on every date zonewatch sees.
func tokyo() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("Asia/Tokyo", 9*60*60)
}

// Parse fills e from one message body and returns the format name. It sets Meta.Module (the format),
// Meta.Category/Action/Outcome, Source/Destination IP, port and bytes, Network, User, URL, HTTP, Labels,
// and e.Timestamp (UTC) when the body carries its own time; it leaves every other field as the caller set
// it. When no parser understands the body it returns FormatSyslog and an *Unparsed saying why; when a
// parser recognises the body but a field is broken it returns that format and an *Unparsed naming the field.
// Either way e may be partly filled and the caller keeps the raw text.
func (p *Parsers) Parse(in Input, e *event.Event) (format string, err error) {
	loc := in.Loc
	if loc == nil {
		loc = p.tokyo
	}
	body := strings.TrimSpace(in.Body)
	if body == "" {
		e.Meta.Module = FormatSyslog
		return FormatSyslog, &Unparsed{Format: FormatSyslog, Reason: "empty body"}
	}
	tried := ""
	if f := p.appFormat(in.AppName); f != "" {
		if ok, err := p.parseAs(f, body, loc, e); ok {
			return module(f), err
		}
		tried = f
	}
	if f := sniff(body); f != "" && f != tried {
		if ok, err := p.parseAs(f, body, loc, e); ok {
			return module(f), err
		}
	}
	if body[0] == '{' && tried != FormatJSON {
		if ok, err := p.parseJSON(body, loc, e); ok {
			return FormatJSON, err
		}
	}
	if tried != FormatKV {
		if ok, err := p.parseKV(body, loc, e); ok {
			return FormatKV, err
		}
	}
	e.Meta.Module = FormatSyslog
	u := &Unparsed{Format: FormatSyslog, Reason: "no parser recognised the body"}
	if tried != "" {
		u.Reason = "app name " + cutQuote(in.AppName) + " says " + tried + " but the body is not a " + tried + " line I know"
	}
	return FormatSyslog, u
}

func cutQuote(s string) string { return strconv.Quote(cut(s, maxErrValue)) }

// module is the Meta.Module of a format.
func module(f string) string {
	if f == FormatSquidCombined {
		return FormatSquid
	}
	return f
}

// parseAs runs the parser of format f; ok is false when the body is not of that format at all.
func (p *Parsers) parseAs(f, body string, loc *time.Location, e *event.Event) (ok bool, err error) {
	switch f {
	case FormatFortiGate:
		return p.parseFortiGate(body, loc, e)
	case FormatIPTables:
		return parseIPTables(body, e, p.maxLabels)
	case FormatSSHD:
		return parseSSHD(body, e, p.maxLabels)
	case FormatSquid:
		if isEpoch(firstWord(body)) {
			return parseSquid(body, e, p.maxLabels)
		}
		return parseSquidCombined(body, loc, e, p.maxLabels)
	case FormatSquidCombined:
		return parseSquidCombined(body, loc, e, p.maxLabels)
	case FormatIFilter:
		return parseLayouts(p.ifilter, body, loc, e, p.maxLabels)
	case FormatInterSafe:
		return parseLayouts(p.intersafe, body, loc, e, p.maxLabels)
	case FormatGateway:
		return p.parseGateway(body, loc, e)
	case FormatJSON:
		return p.parseJSON(body, loc, e)
	case FormatKV:
		return p.parseKV(body, loc, e)
	}
	return false, nil
}

// ParseFile parses one line of a proxy log file of a named format: squid, squid-combined, ifilter or
// intersafe. loc is the zone of times that carry none (nil means Asia/Tokyo). A line that is not of the
// format, or has a broken field, gives an *Unparsed; an unknown format name gives a plain error.
func (p *Parsers) ParseFile(format, line string, loc *time.Location, e *event.Event) error {
	if loc == nil {
		loc = p.tokyo
	}
	line = strings.TrimRight(line, "\r\n")
	var ok bool
	var err error
	switch format {
	case FormatSquid:
		ok, err = parseSquid(line, e, p.maxLabels)
	case FormatSquidCombined:
		ok, err = parseSquidCombined(line, loc, e, p.maxLabels)
	case FormatIFilter:
		ok, err = parseLayouts(p.ifilter, line, loc, e, p.maxLabels)
	case FormatInterSafe:
		ok, err = parseLayouts(p.intersafe, line, loc, e, p.maxLabels)
	default:
		return fmt.Errorf("parse: unknown file format %q (want squid, squid-combined, ifilter or intersafe)", format)
	}
	if !ok && err == nil {
		e.Meta.Module = module(format)
		return &Unparsed{Format: format, Reason: "line is not a " + format + " access-log line"}
	}
	return err
}

func firstWord(s string) string {
	w, _ := nextWord(s)
	return w
}
