package filter_test

import (
	"regexp"
	"testing"

	"github.com/zonewatch/zonewatch/query/filter"
)

// sqlShape is everything a WHERE may consist of: the field table's columns, fixed function
// names, operators, placeholders and the engine's own literals; never user text.
var sqlShape = regexp.MustCompile(`^(?:[a-zA-Z_][a-zA-Z0-9_]*|\{f[0-9]+:[A-Za-z0-9()]+\}|toIPv6\('::'\)|'\.'|[0-9]+|[ (),=!<>\-\[\]]|->)*$`)

// FuzzCompile checks that Compile never panics and that whatever it accepts becomes SQL made only
// of identifiers, operators and parameters.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`source.zone == "mynumber" && destination.zone != "mynumber"`,
		`user.name == "'; DROP TABLE events; --"`,
		`inCIDR(source.ip, "10.0.0.0/8") or labels["a'b"] == "c"`,
		`not (destination.port in [22, 3389] or url.domain endsWith ".example")`,
		`lower(user.name) matches "^adm" and len(message) > 3`,
		`offHours("office", timestamp) and event.cross_zone`,
		`in_list(destination.ip, "approved")`,
		`((((((`, `"\u0000"`, `1e999`, `-9223372036854775808 < source.port`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		c, err := filter.Compile(src, filter.Options{Lists: testLists})
		if err != nil {
			return
		}
		if !sqlShape.MatchString(c.Where) {
			t.Fatalf("filter %q compiled to SQL with foreign text: %s", src, c.Where)
		}
	})
}
