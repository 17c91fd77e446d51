package notify_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonewatch/zonewatch/rules/notify"
)

// TestWebhook: the JSON body is the message, authenticated by a bearer token and signed with the
// secret; 5xx and 429 answers are retried with backoff, other 4xx answers are not.
func TestWebhook(t *testing.T) {
	now := func() time.Time { return t0 }
	a := alert("id-1", "ZW-ST-001", "high", "T1046")
	msg := &notify.Message{Kind: notify.KindAlert, Receiver: "soc", Alert: &a}
	for _, tc := range []struct {
		name     string
		statuses []int
		retries  int
		attempts int
		err      string
	}{
		{"delivered at once", nil, 3, 1, ""},
		{"retried through 503 and 429", []int{503, 429}, 3, 3, ""},
		{"gives up after its retries", []int{500, 500, 500}, 2, 3, "500 Internal Server Error"},
		{"a 401 is not retried", []int{401}, 3, 1, "not retried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHook(t, tc.statuses...)
			w := &notify.Webhook{URL: h.URL, BearerToken: "tok", Secret: "s3cret", Retries: tc.retries, Backoff: 10 * time.Millisecond, Now: now}
			err := w.Send(context.Background(), msg)
			if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("Send: %v, want error %q", err, tc.err)
			}
			got := h.got()
			if len(got) != tc.attempts {
				t.Fatalf("%d requests, want %d", len(got), tc.attempts)
			}
			r := got[len(got)-1]
			if auth := r.header.Get("Authorization"); auth != "Bearer tok" {
				t.Errorf("Authorization %q", auth)
			}
			ts := r.header.Get(notify.TimestampHeader)
			if ts != strconv.FormatInt(t0.Unix(), 10) {
				t.Errorf("timestamp %q", ts)
			}
			if sig := r.header.Get(notify.SignatureHeader); sig != notify.Sign("s3cret", ts, r.body) || !strings.HasPrefix(sig, "sha256=") {
				t.Errorf("signature %q does not sign the body", sig)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var back notify.Message
			if err := json.Unmarshal(r.body, &back); err != nil || back.Alert == nil || back.Alert.ID != "id-1" || back.Alert.Title.Ja != "ポートスキャン" || back.Alert.GroupKey != a.GroupKey {
				t.Errorf("body %s: %v", r.body, err)
			}
		})
	}
}

// TestWebhookTimeout: a receiver that does not answer within the timeout is a failed attempt.
func TestWebhookTimeout(t *testing.T) {
	release := make(chan struct{})
	h := newStuckHook(t, release)
	defer close(release)
	a := alert("id-1", "R", "high")
	w := &notify.Webhook{URL: h.URL, Timeout: 100 * time.Millisecond, Retries: -1}
	err := w.Send(context.Background(), &notify.Message{Kind: notify.KindAlert, Alert: &a})
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Send to a silent receiver: %v", err)
	}
}
