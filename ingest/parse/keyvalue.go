package parse

import (
	"time"

	"github.com/zonewatch/zonewatch/internal/event"
)

// Generic key=value bodies: any line that is mostly key=value pairs (at least two, and no fewer pairs than
// bare words). Known keys (see setKnown) fill their fields, the rest become labels, up to
// Options.MaxLabels. Example:
//
//	vendor=acme act=blocked src=10.30.1.9 dst=10.20.1.1 dpt=445 user=admin
//
// Fields: whatever known keys are present; module kv.
func (p *Parsers) parseKV(body string, loc *time.Location, e *event.Event) (bool, error) {
	pairs, words := 0, 0
	sc := kvScanner{s: body}
	for {
		k, _, _, _, ok := sc.next()
		if !ok {
			break
		}
		if isKey(k) {
			pairs++
		} else {
			words++
		}
	}
	if pairs < 2 || words > pairs {
		return false, nil
	}
	e.Meta.Module = FormatKV
	sc = kvScanner{s: body}
	for {
		k, v, quoted, _, ok := sc.next()
		if !ok {
			break
		}
		if !isKey(k) {
			continue
		}
		if quoted {
			v = unquote(v)
		}
		if !setKnown(e, k, v, loc) {
			setLabel(e, p.maxLabels, k, v)
		}
	}
	return true, nil
}
