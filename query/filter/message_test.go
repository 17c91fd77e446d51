package filter_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

// Filters on message see the message as it was, although the events table stores it with the values
// of typed columns cut out (migration 0013): those that read the template instead of the ALIAS too,
// whether the text they look for is in the template, in a cut-out URL or user name, or at either end.
func TestMessageFiltersSeeThroughReferences(t *testing.T) {
	conn, db := testdb.New(t)
	evs := testdb.Generate(rand.New(rand.NewPCG(11, 11)), 3000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	// Messages with control bytes of their own are stored verbatim: their \x01 refers to nothing.
	for i, m := range []string{"\x01 verbatim", "\x02 verbatim", "verbatim \x01"} {
		e := *evs[i]
		e.ID, e.Message, e.Meta.Original = "verbatim-"+string(rune('a'+i)), m, m
		e.URL.Original, e.User.Name = "https://www.example.jp/path?q=1", "o'brien"
		evs = append(evs, &e)
	}
	if err := testdb.Insert(t.Context(), conn, db, evs); err != nil {
		t.Fatal(err)
	}
	var urls, users uint64
	if err := conn.QueryRow(t.Context(), `SELECT countIf(position(message_template, '\x01') > 0), countIf(position(message_template, '\x02') > 0)
		FROM events WHERE NOT verbatim`).Scan(&urls, &users); err != nil {
		t.Fatal(err)
	}
	if urls == 0 || users == 0 {
		t.Fatalf("%d stored messages refer to their URL and %d to their user: the test needs both", urls, users)
	}
	opts := append([]expr.Option{expr.Env(event.Event{}), expr.AsBool()}, goFunctions(propLists)...)
	for _, tc := range []struct {
		filter   string
		template bool // read from the template, not the ALIAS
	}{
		{`message contains "https"`, true},       // only in URLs
		{`message contains "path?q="`, true},     // inside a URL
		{`message contains "o'brien"`, true},     // a user name
		{`message contains "denied"`, true},      // the template's own text
		{`message startsWith "user"`, true},      // the template's start
		{`message endsWith "denied"`, true},      // and its end
		{`message matches "https?"`, true},       //
		{`message matches "(?i)EXAMPLE"`, true},  // in URLs, folded
		{`message matches "denied$"`, true},      //
		{`message matches "^[ァ-ヶー一-龥]+$"`, true}, // a whole message of letters
		{`message matches "^user [a-z]"`, false}, // a space: may reach past a cut-out value
		{`message contains "sent 1"`, false},     // digits: may be a cut-out number
		{`message contains "10."`, false},        //
		{`message matches "\\bhttps"`, false},    // word boundaries differ around references
		{`message matches "d.nied"`, false},      // . matches digits
		{`not (message contains "https") and message contains "user"`, true},
	} {
		c, err := filter.Compile(tc.filter, filter.Options{Lists: propLists, Strict: true})
		if err != nil {
			t.Fatalf("%s: %v", tc.filter, err)
		}
		if got := strings.Contains(c.Where, "message_template"); got != tc.template {
			t.Errorf("%s reads the template: %v, want %v\nWHERE %s", tc.filter, got, tc.template, c.Where)
		}
		prog, err := expr.Compile(tc.filter, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if !sameEvents(t, conn, evs, tc.filter, c, prog, "") && tc.template {
			t.Errorf("%s selects all or none of the events: it tests nothing", tc.filter)
		}
	}
}
