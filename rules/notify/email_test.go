package notify_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/zonewatch/zonewatch/rules/notify"
)

// mailServer is a real SMTP server (emersion/go-smtp) on loopback, offering STARTTLS and AUTH PLAIN,
// that keeps what it is given.
type mailServer struct {
	addr  string
	roots *x509.CertPool
	mu    sync.Mutex
	mails []received
	auths []string
	fail  int // answer the next DATA commands with 451
}

type received struct {
	from string
	to   []string
	tls  bool
	data []byte
}

func startMailServer(t *testing.T) *mailServer {
	t.Helper()
	// httptest's certificate is valid for 127.0.0.1; borrow it and its root.
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	cert, roots := hs.TLS.Certificates[0], x509.NewCertPool()
	roots.AddCert(hs.Certificate())
	hs.Close()

	ms := &mailServer{roots: roots}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{ms: ms, tls: isTLS}, nil
	}))
	srv.Domain = "mail.test"
	srv.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes of TestEmailRefusals
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ms
}

func (ms *mailServer) got() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.mails...)
}

type session struct {
	ms   *mailServer
	tls  bool
	from string
	to   []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.ms.mu.Lock()
		s.ms.auths = append(s.ms.auths, user+":"+pass)
		s.ms.mu.Unlock()
		if user != "zonewatch" || pass != "pa55" {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	if s.ms.fail > 0 {
		s.ms.fail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	// The session saw STARTTLS if the connection is TLS now.
	s.ms.mails = append(s.ms.mails, received{from: s.from, to: s.to, data: b, tls: s.tls})
	return nil
}
func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// TestEmail: STARTTLS, AUTH PLAIN, the envelope, and a Japanese subject and body that decode back
// exactly (RFC 2047 encoded words, quoted-printable UTF-8); a 451 is retried.
func TestEmail(t *testing.T) {
	ms := startMailServer(t)
	ms.fail = 1
	a := alert("id-1", "ZW-ST-001", "high", "T1046")
	msg := &notify.Message{Kind: notify.KindAlert, Receiver: "soc-mail", Alert: &a}
	e := &notify.Email{Addr: ms.addr, From: "zonewatch@fire.example.jp", To: []string{"soc@fire.example.jp", "duty@fire.example.jp"},
		Username: "zonewatch", Password: "pa55", TLSConfig: &tls.Config{RootCAs: ms.roots}, Backoff: 10 * time.Millisecond,
		Now: func() time.Time { return t0 }}
	if err := e.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := ms.got()
	if len(got) != 1 {
		t.Fatalf("%d mails delivered, want 1", len(got))
	}
	m := got[0]
	if m.from != e.From || strings.Join(m.to, ",") != "soc@fire.example.jp,duty@fire.example.jp" {
		t.Errorf("envelope %s → %v", m.from, m.to)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(m.data))
	if err != nil {
		t.Fatalf("not a mail: %v\n%s", err, m.data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if subject != msg.Subject() || !strings.Contains(subject, "ポートスキャン") {
		t.Errorf("subject decodes to %q, want %q", subject, msg.Subject())
	}
	for _, line := range strings.Split(string(m.data), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line longer than 78 characters: %q", line)
		}
	}
	if ct := parsed.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if want := strings.ReplaceAll(msg.Text(tokyo), "\n", "\r\n"); string(body) != want {
		t.Errorf("body decodes to\n%s\nwant\n%s", body, want)
	}
	if !m.tls {
		t.Error("the mail was not sent over STARTTLS")
	}
	// Two attempts (the first got a 451), each authenticated.
	if strings.Join(ms.auths, " ") != "zonewatch:pa55 zonewatch:pa55" {
		t.Errorf("authentications %v", ms.auths)
	}
}

// TestEmailRefusals: no STARTTLS on offer is refused rather than sending in the clear; a wrong password
// is reported and not retried.
func TestEmailRefusals(t *testing.T) {
	ms := startMailServer(t)
	a := alert("id-1", "R", "high")
	msg := &notify.Message{Kind: notify.KindAlert, Receiver: "x", Alert: &a}
	base := notify.Email{Addr: ms.addr, From: "zw@example.jp", To: []string{"soc@example.jp"}, TLSConfig: &tls.Config{RootCAs: ms.roots}, Backoff: time.Millisecond}

	wrong := base
	wrong.Username, wrong.Password = "zonewatch", "nope"
	if err := wrong.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "AUTH as zonewatch") || !strings.Contains(err.Error(), "after 1 attempts") {
		t.Errorf("wrong password: %v", err)
	}
	untrusted := base
	untrusted.TLSConfig = nil // the test CA is not in the system roots
	if err := untrusted.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("untrusted certificate: %v", err)
	}
	if n := len(ms.got()); n != 0 {
		t.Errorf("%d mails delivered despite the refusals", n)
	}
}

// TestMessageText: what the SOC reads, alert and digest (golden files).
func TestMessageText(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	a := alert("id-1", "ZW-ST-001", "high", "T1046")
	a.Suppressed = 4
	alertMsg := &notify.Message{Kind: notify.KindAlert, Receiver: "soc", Alert: &a}
	golden(t, "alert.txt", alertMsg.Subject()+"\n\n"+alertMsg.Text(tokyo))
	digest := &notify.Message{Kind: notify.KindDigest, Receiver: "soc", Digest: &notify.Digest{Suppressed: 12,
		Rules: map[string]int{"ZW-ST-001": 9, "ZW-ST-002": 3}, First: t0, Last: t0.Add(3 * time.Minute)}}
	golden(t, "digest.txt", digest.Subject()+"\n\n"+digest.Text(tokyo))
}
