package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Email TLS modes.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS, which the server must offer (default)
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
	TLSNone     = "none"     // no TLS: only for a relay on loopback
)

// Email sends each message as a plain-text mail over SMTP, UTF-8, the subject as RFC 2047 encoded
// words and the body quoted-printable, so that Japanese arrives intact through any relay.
type Email struct {
	// Addr is the SMTP server, host:port.
	Addr string
	From string
	To   []string
	// Username and Password, when set, authenticate with AUTH PLAIN (only over TLS, or to loopback).
	Username, Password string
	// TLS is TLSStartTLS (default), TLSImplicit or TLSNone.
	TLS string
	// TLSConfig verifies the server (RootCAs for a private CA); ServerName defaults to Addr's host.
	TLSConfig *tls.Config
	// Timeout bounds one attempt, connection to QUIT; default 30s.
	Timeout time.Duration
	// Retries after a failed attempt (network error or a 4xx reply); default 3, -1 for none.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next one; default 2s.
	Backoff time.Duration
	// Location is the zone of the times in the body; default Asia/Tokyo.
	Location *time.Location
	// Hostname is the name given in EHLO; default "zonewatch".
	Hostname string
	// Now is the clock of the Date header; default time.Now.
	Now func() time.Time
}

// Send implements Sender.
func (e *Email) Send(ctx context.Context, m *Message) error {
	msg, err := e.Compose(m)
	if err != nil {
		return err
	}
	retries, backoff := e.Retries, e.Backoff
	if retries == 0 {
		retries = 3
	}
	if backoff <= 0 {
		backoff = 2 * time.Second
	}
	for attempt := 0; ; attempt++ {
		err := e.send(ctx, msg)
		if err == nil {
			return nil
		}
		if !temporary(err) || attempt >= retries {
			return fmt.Errorf("mail to %v via %s: %w (after %d attempts)", e.To, e.Addr, err, attempt+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// temporary: network errors and 4xx replies may pass later; 5xx replies and set-up errors will not.
func temporary(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

func (e *Email) send(ctx context.Context, msg []byte) error {
	host, _, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: want host:port", e.Addr)
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsCfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if e.TLSConfig != nil {
		tlsCfg = e.TLSConfig.Clone()
		if tlsCfg.ServerName == "" {
			tlsCfg.ServerName = host
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var conn net.Conn
	if e.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{Config: tlsCfg}).DialContext(ctx, "tcp", e.Addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", e.Addr)
	}
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	hostname := e.Hostname
	if hostname == "" {
		hostname = "zonewatch"
	}
	if err := c.Hello(hostname); err != nil {
		return err
	}
	if e.TLS == "" || e.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fmt.Errorf("the server does not offer STARTTLS; use tls: tls for port 465, or tls: none only for a relay on loopback")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if e.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.Username, e.Password, host)); err != nil {
			return fmt.Errorf("AUTH as %s: %w", e.Username, err)
		}
	}
	if err := c.Mail(e.From); err != nil {
		return fmt.Errorf("MAIL FROM %s: %w", e.From, err)
	}
	for _, to := range e.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// Compose builds the mail: headers, then the quoted-printable UTF-8 body.
func (e *Email) Compose(m *Message) ([]byte, error) {
	if e.From == "" || len(e.To) == 0 {
		return nil, fmt.Errorf("mail via %s: from and to are required", e.Addr)
	}
	loc := e.Location
	if loc == nil {
		var err error
		if loc, err = time.LoadLocation("Asia/Tokyo"); err != nil {
			loc = time.UTC
		}
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", e.From)
	header("To", strings.Join(e.To, ", "))
	header("Subject", encodeHeader(m.Subject()))
	header("Date", now().In(loc).Format(time.RFC1123Z))
	id := m.alertID()
	if id == "" {
		id = fmt.Sprintf("digest-%d", now().UnixNano())
	}
	header("Message-ID", "<"+id+"."+m.Receiver+"@zonewatch>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("X-Zonewatch-Kind", m.Kind)
	if m.Alert != nil {
		header("X-Zonewatch-Rule", m.Alert.RuleID)
		header("X-Zonewatch-Severity", m.Alert.Severity)
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Text(loc), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeHeader encodes a header value as RFC 2047 encoded words (base64, UTF-8) when it is not ASCII:
// short words on folded lines, so that no line passes 78 characters and no character is split.
func encodeHeader(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	const maxBytes = 42 // 56 base64 characters: with "=?UTF-8?B?", "?=" and "Subject: ", 77
	var words []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxBytes {
				break
			}
			n += size
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	// White space between adjacent encoded words is not part of the text (RFC 2047 §6.2).
	return strings.Join(words, "\r\n ")
}
