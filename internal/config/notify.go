package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"
)

// Notify sends alerts to people. Every route whose match an alert meets delivers it to the route's
// receivers (each receiver once); an alert no route matches is stored but notified to nobody.
type Notify struct {
	Receivers []NotifyReceiver `yaml:"receivers"`
	Routes    []NotifyRoute    `yaml:"routes"`
	// QueueSize bounds each receiver's queue; a full queue drops (and counts) notifications. Default 1000.
	QueueSize int `yaml:"queue_size"`
}

// NotifyReceiver is a webhook or a mail destination with its rate limit. Secrets may come from the
// environment: ZONEWATCH_NOTIFY_<NAME>_TOKEN, _SECRET and _PASSWORD, NAME upper-cased with - as _.
type NotifyReceiver struct {
	Name    string         `yaml:"name"`
	Webhook *NotifyWebhook `yaml:"webhook"`
	Email   *NotifyEmail   `yaml:"email"`
	// Rate limits the alerts sent; what it holds back goes out as one digest when the storm is over.
	Rate NotifyRate `yaml:"rate"`
}

// NotifyWebhook POSTs each alert as JSON.
type NotifyWebhook struct {
	URL         string   `yaml:"url"`
	BearerToken string   `yaml:"bearer_token"`
	HMACSecret  string   `yaml:"hmac_secret"`
	Timeout     Duration `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
}

// NotifyEmail sends each alert as a mail over SMTP.
type NotifyEmail struct {
	SMTP     string   `yaml:"smtp"` // host:port
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	// TLS is starttls (default), tls (port 465) or none (a relay on loopback only).
	TLS string `yaml:"tls"`
	// CA verifies the server's certificate when a private CA signed it.
	CA      string   `yaml:"ca"`
	Timeout Duration `yaml:"timeout"`
	Retries int      `yaml:"retries"`
}

// NotifyRate is a token bucket: burst alerts at once, then per_minute.
type NotifyRate struct {
	PerMinute   float64  `yaml:"per_minute"` // 0: no limit
	Burst       int      `yaml:"burst"`      // default 10
	DigestAfter Duration `yaml:"digest_after"`
	DigestEvery Duration `yaml:"digest_every"`
}

// NotifyRoute matches alerts; every condition given must hold.
type NotifyRoute struct {
	Match     NotifyMatch `yaml:"match"`
	Receivers []string    `yaml:"receivers"`
}

// NotifyMatch: severity at least min_severity, rule id among rules (patterns such as ZW-CZ-*), any of
// tags. Empty matches everything.
type NotifyMatch struct {
	MinSeverity string   `yaml:"min_severity"`
	Rules       []string `yaml:"rules"`
	Tags        []string `yaml:"tags"`
}

var receiverName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// applyEnv takes receivers' secrets from the environment.
func (n *Notify) applyEnv(getenv func(string) string) {
	for i := range n.Receivers {
		r := &n.Receivers[i]
		prefix := "ZONEWATCH_NOTIFY_" + strings.ToUpper(strings.ReplaceAll(r.Name, "-", "_")) + "_"
		set := func(dst *string, name string) {
			if v := getenv(prefix + name); v != "" {
				*dst = v
			}
		}
		if r.Webhook != nil {
			set(&r.Webhook.BearerToken, "TOKEN")
			set(&r.Webhook.HMACSecret, "SECRET")
		}
		if r.Email != nil {
			set(&r.Email.Password, "PASSWORD")
		}
	}
}

func (c *Config) validateRulesAndNotify() error {
	p := c.Rules.Partition
	if p.Count < 0 || p.Index < 0 || (p.Count > 0 && p.Index >= p.Count) || (p.Count == 0 && p.Index != 0) {
		return &Error{Key: "rules.partition", Problem: fmt.Sprintf("index %d of count %d: want 0 ≤ index < count (index counts from 0)", p.Index, p.Count)}
	}
	names := map[string]bool{}
	for i, r := range c.Notify.Receivers {
		key := fmt.Sprintf("notify.receivers[%d]", i)
		if !receiverName.MatchString(r.Name) || names[r.Name] {
			return &Error{Key: key + ".name", Problem: fmt.Sprintf("%q: give each receiver a name of its own (letters, digits, - and _)", r.Name)}
		}
		names[r.Name] = true
		if (r.Webhook == nil) == (r.Email == nil) {
			return &Error{Key: key, Problem: "give exactly one of webhook: or email:"}
		}
		if err := r.validate(key); err != nil {
			return err
		}
	}
	for i, rt := range c.Notify.Routes {
		key := fmt.Sprintf("notify.routes[%d]", i)
		if len(rt.Receivers) == 0 {
			return &Error{Key: key + ".receivers", Problem: "missing: name at least one receiver"}
		}
		for j, name := range rt.Receivers {
			if !names[name] {
				return &Error{Key: fmt.Sprintf("%s.receivers[%d]", key, j), Problem: fmt.Sprintf("%q is not a receiver defined under notify.receivers", name)}
			}
		}
		if s := rt.Match.MinSeverity; s != "" && !slices.Contains([]string{"info", "low", "medium", "high", "critical"}, s) {
			return &Error{Key: key + ".match.min_severity", Problem: fmt.Sprintf("%q is not one of info, low, medium, high, critical", s)}
		}
		for j, pat := range rt.Match.Rules {
			if _, err := path.Match(pat, ""); err != nil {
				return &Error{Key: fmt.Sprintf("%s.match.rules[%d]", key, j), Problem: fmt.Sprintf("%q is not a rule id or pattern such as ZW-CZ-*", pat)}
			}
		}
	}
	if c.Notify.QueueSize < 0 {
		return &Error{Key: "notify.queue_size", Problem: fmt.Sprintf("%d: must be positive (or 0 for the default)", c.Notify.QueueSize)}
	}
	return nil
}

func (r *NotifyReceiver) validate(key string) error {
	if r.Rate.PerMinute < 0 || r.Rate.Burst < 0 {
		return &Error{Key: key + ".rate", Problem: "per_minute and burst must not be negative"}
	}
	for k, d := range map[string]Duration{".rate.digest_after": r.Rate.DigestAfter, ".rate.digest_every": r.Rate.DigestEvery} {
		if err := d.check(key + k); err != nil {
			return err
		}
	}
	if w := r.Webhook; w != nil {
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Key: key + ".webhook.url", Problem: fmt.Sprintf("%q is not an http(s) URL", w.URL)}
		}
		return w.Timeout.check(key + ".webhook.timeout")
	}
	e := r.Email
	if _, _, err := net.SplitHostPort(e.SMTP); err != nil {
		return &Error{Key: key + ".email.smtp", Problem: fmt.Sprintf("%q is not host:port of the SMTP server (e.g. mail.example.jp:587)", e.SMTP)}
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return &Error{Key: key + ".email.from", Problem: fmt.Sprintf("%q is not a mail address", e.From)}
	}
	if len(e.To) == 0 {
		return &Error{Key: key + ".email.to", Problem: "missing: at least one recipient"}
	}
	for i, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return &Error{Key: fmt.Sprintf("%s.email.to[%d]", key, i), Problem: fmt.Sprintf("%q is not a mail address", to)}
		}
	}
	switch e.TLS {
	case "", "starttls", "tls", "none":
	default:
		return &Error{Key: key + ".email.tls", Problem: fmt.Sprintf("%q is not one of starttls, tls, none", e.TLS)}
	}
	return e.Timeout.check(key + ".email.timeout")
}
