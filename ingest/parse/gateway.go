package parse

import (
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Sanitisation gateways between lgwan and internet (無害化通信: mail text conversion, file sanitisation,
// screen transfer): zonewatch's own key=value layout, as internal/simulate writes it; src is always the
// sending side, dst the receiving side. Example:
//
//	gw=file-sanitizer action=file_sanitized dir=in user=sato.k src=10.30.0.31 dst=10.20.1.15 file=report-0412.pdf size=834211 method=cdr
//
// Actions seen: mail_text_converted, file_sanitized, file_rejected, screen_session_start (and
// screen_transfer_session). Fields: category sanitization, event.action as logged, outcome (failure for
// rejected, blocked, failed or error actions or results), source.ip (src), destination.ip (dst),
// source.bytes (size), user.name, time (when a time= or ts= key is present); labels gw and every other key
// (dir, from, to, file, method, reason, session, attachments, result …).
func (p *Parsers) parseGateway(body string, loc *time.Location, e *event.Event) (bool, error) {
	const f = FormatGateway
	if !hasKey(body, "gw") || !hasKey(body, "action") {
		return false, nil
	}
	action, outcome := "", ""
	var err error
	keep := func(er error) {
		if err == nil {
			err = er
		}
	}
	sc := kvScanner{s: body}
	for {
		k, v, quoted, _, ok := sc.next()
		if !ok {
			break
		}
		if k == "" {
			continue
		}
		if quoted {
			v = unquote(v)
		}
		switch k {
		case "gw":
			setLabel(e, p.maxLabels, "gw", v)
		case "action":
			action = v
		case "src":
			keep(setIP(&e.Source.IP, f, k, v))
		case "dst":
			keep(setIP(&e.Destination.IP, f, k, v))
		case "size":
			keep(setBytes(&e.Source.Bytes, f, k, v))
		case "user":
			if !absent(v) {
				e.User.Name = v
			}
		case "result":
			setLabel(e, p.maxLabels, k, v)
			outcome = gatewayOutcome(v)
		case "time", "ts":
			if t, ok := anyTime(v, loc); ok {
				e.Timestamp = t
			} else {
				keep(fieldErr(f, k, v, "not a time"))
			}
		default:
			if isKey(k) {
				setLabel(e, p.maxLabels, k, v)
			}
		}
	}
	e.Meta.Module = f
	e.Meta.Category = "sanitization"
	if action == "" {
		keep(fieldErr(f, "action", "", "empty: a gateway line says what the gateway did"))
	}
	e.Meta.Action = action
	if outcome == "" || outcome == event.OutcomeUnknown {
		outcome = gatewayOutcome(action)
		if outcome == event.OutcomeUnknown {
			outcome = event.OutcomeSuccess // a gateway logs what it converted, sanitised or opened
		}
	}
	e.Meta.Outcome = outcome
	return true, err
}

// gatewayOutcome reads failure from words such as rejected, blocked, failed, error; success from ok,
// success, done; unknown otherwise.
func gatewayOutcome(v string) string {
	switch {
	case containsFold(v, "REJECT"), containsFold(v, "BLOCK"), containsFold(v, "FAIL"), containsFold(v, "ERROR"),
		containsFold(v, "DENIED"), containsFold(v, "QUARANTIN"), strings.EqualFold(v, "ng"):
		return event.OutcomeFailure
	case strings.EqualFold(v, "ok"), strings.EqualFold(v, "success"), strings.EqualFold(v, "done"):
		return event.OutcomeSuccess
	}
	return event.OutcomeUnknown
}
