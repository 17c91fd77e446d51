package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// SignatureHeader carries "sha256=<hex HMAC-SHA256 of the timestamp, a dot and the body>" when the
// webhook has a secret; TimestampHeader the Unix time signed with it, so that a receiver can refuse
// replays.
const (
	SignatureHeader = "X-Zonewatch-Signature"
	TimestampHeader = "X-Zonewatch-Timestamp"
)

// Webhook POSTs each message as JSON.
type Webhook struct {
	URL string
	// BearerToken, when set, is sent as "Authorization: Bearer <token>".
	BearerToken string
	// Secret, when set, signs each request (SignatureHeader).
	Secret string
	// Timeout bounds one attempt; default 10s.
	Timeout time.Duration
	// Retries after a failed attempt (network error, 429 or 5xx); default 3, -1 for none. Other 4xx
	// answers are not retried: the request itself is wrong.
	Retries int
	// Backoff is the wait before the first retry, doubled for each next one; default 1s.
	Backoff time.Duration
	// Client defaults to http.DefaultClient's transport with Timeout.
	Client *http.Client
	// Now is the clock of the signature's timestamp; default time.Now.
	Now func() time.Time
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, m *Message) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("webhook %s: encode message: %w", w.URL, err)
	}
	retries, backoff := w.Retries, w.Backoff
	if retries == 0 {
		retries = 3
	}
	if backoff <= 0 {
		backoff = time.Second
	}
	for attempt := 0; ; attempt++ {
		retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		if !retry || attempt >= retries {
			return fmt.Errorf("webhook %s: %w (after %d attempts)", w.URL, err, attempt+1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// post makes one attempt; retry says whether another may succeed.
func (w *Webhook) post(ctx context.Context, body []byte) (retry bool, err error) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "zonewatch-notify")
	if w.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+w.BearerToken)
	}
	if w.Secret != "" {
		now := time.Now
		if w.Now != nil {
			now = w.Now
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		req.Header.Set(TimestampHeader, ts)
		req.Header.Set(SignatureHeader, Sign(w.Secret, ts, body))
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return true, err
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return false, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return true, fmt.Errorf("answered %s: %s", resp.Status, bytes.TrimSpace(snippet))
	}
	return false, fmt.Errorf("answered %s: %s (check the URL and the token; not retried)", resp.Status, bytes.TrimSpace(snippet))
}

// Sign is the SignatureHeader value for a timestamp and a body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
