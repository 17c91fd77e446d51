package parse

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/event"
)

func TestGateway(t *testing.T) {
	gw := func(action, outcome, user, src, dst string, size uint64, labels map[string]string) event.Event {
		return event.Event{
			Meta:        event.Meta{Module: "gateway", Category: "sanitization", Action: action, Outcome: outcome},
			Source:      event.Endpoint{IP: ip(src), Bytes: size},
			Destination: event.Endpoint{IP: ip(dst)},
			User:        event.User{Name: user},
			Labels:      labels,
		}
	}
	runParse(t, []parseCase{
		{name: "mail converted", app: "mail-sanitizer", format: "gateway",
			body: "gw=mail-sanitizer action=mail_text_converted dir=in from=info@example.com to=sato.k@fd.example.lg.jp src=10.30.0.25 dst=10.20.0.25 size=48211 attachments=1",
			want: gw("mail_text_converted", "success", "", "10.30.0.25", "10.20.0.25", 48211, map[string]string{
				"gw": "mail-sanitizer", "dir": "in", "from": "info@example.com", "to": "sato.k@fd.example.lg.jp", "attachments": "1"})},
		{name: "file sanitised", app: "file-sanitizer", format: "gateway",
			body: "gw=file-sanitizer action=file_sanitized dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=report-0412.pdf size=834211 method=cdr",
			want: gw("file_sanitized", "success", "sato.k", "10.30.0.31", "10.20.1.15", 834211, map[string]string{
				"gw": "file-sanitizer", "dir": "in", "file": "report-0412.pdf", "method": "cdr"})},
		{name: "file rejected, found by content", format: "gateway",
			body: "gw=file-sanitizer action=file_rejected dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=invoice-0098.docm size=51200 method=cdr reason=macro",
			want: gw("file_rejected", "failure", "sato.k", "10.30.0.31", "10.20.1.15", 51200, map[string]string{
				"gw": "file-sanitizer", "dir": "in", "file": "invoice-0098.docm", "method": "cdr", "reason": "macro"})},
		{name: "screen session", app: "screen-transfer", format: "gateway",
			body: "gw=screen-transfer action=screen_session_start user=sato.k src=10.20.1.15 dst=10.30.0.30 session=ST-00001234",
			want: gw("screen_session_start", "success", "sato.k", "10.20.1.15", "10.30.0.30", 0, map[string]string{
				"gw": "screen-transfer", "session": "ST-00001234"})},
		{name: "result says failure", app: "gateway", format: "gateway",
			body: `gw=gw1 action=screen_transfer_session src=10.20.1.15 dst=10.30.0.30 result=error`,
			want: gw("screen_transfer_session", "failure", "", "10.20.1.15", "10.30.0.30", 0, map[string]string{"gw": "gw1", "result": "error"})},
		{name: "bad src", app: "gateway", format: "gateway", body: "gw=g action=file_sanitized src=10.30.0 dst=10.20.1.15", errField: "src"},
		{name: "bad size", app: "gateway", format: "gateway", body: "gw=g action=file_sanitized src=10.30.0.1 size=big", errField: "size"},
	})
}
