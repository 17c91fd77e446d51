package filter_test

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/query/internal/testdb"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var testLists = filter.MapLists{
	"approved": {Kind: filter.ListIP, Items: []string{"10.20.0.10", "10.20.8.0/24", "2001:db8::/48"}},
	"blocked":  {Kind: filter.ListDomain, Items: []string{"evil.example", "*.bad.example."}},
	"admins":   {Kind: filter.ListString, Items: []string{"root", "admin"}},
	"groups":   {Kind: filter.ListMap, Items: []string{"tanaka = office", "sato shift-a"}},
}

func readFilters(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "filters.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.ReplaceAll(line, `\n`, "\n"))
	}
	return out
}

func render(src string, c *filter.Compiled, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "filter: %s\n", src)
	if err != nil {
		fmt.Fprintf(&b, "error:  %v\n\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "where:  %s\n", c.Where)
	for _, p := range c.Params {
		fmt.Fprintf(&b, "param:  %s %s = %q\n", p.Name, p.Type, fmt.Sprint(p.Value))
	}
	fmt.Fprintf(&b, "columns: %s\n", strings.Join(c.Columns, " "))
	if len(c.Zones) > 0 {
		fmt.Fprintf(&b, "zones:  %s\n", strings.Join(c.Zones, " "))
	}
	for _, r := range c.Residuals {
		fmt.Fprintf(&b, "residual: %s at %s: %s\n", r.Expr, r.Pos, r.Reason)
	}
	b.WriteString("\n")
	return b.String()
}

// TestCompileGolden compiles testdata/filters.txt and compares with testdata/filters.golden
// (go test ./query/filter -run Golden -update rewrites it).
func TestCompileGolden(t *testing.T) {
	var got strings.Builder
	for _, src := range append(readFilters(t), listFilters...) {
		c, err := filter.Compile(src, filter.Options{Lists: testLists})
		got.WriteString(render(src, c, err))
	}
	golden := filepath.Join("testdata", "filters.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got.String() != string(want) {
		t.Errorf("compiled filters differ from %s (run with -update after checking the change):\n%s", golden, got.String())
	}
}

var listFilters = []string{
	`in_list(destination.ip, "approved")`,
	`not in_list(url.domain, "blocked")`,
	`in_list(user.name, "admins") or in_list(user.name, "groups")`,
	`in_list(labels.srcip, "approved")`,
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		src    string
		opts   filter.Options
		want   string // substring of the message
		column int
	}{
		{`source.zon == "x"`, filter.Options{}, `unknown field "source.zon"`, 1},
		{`source.zon == "x"`, filter.Options{}, `did you mean source.zone?`, 1},
		{`user.name == "a" and frobnicate(user.name)`, filter.Options{}, `unknown function "frobnicate"`, 22},
		{`source == "x"`, filter.Options{}, `"source" is a group of fields`, 1},
		{`user.name`, filter.Options{}, `not a condition`, 1},
		{`user.name == 3`, filter.Options{}, `cannot compare user.name (string) with 3 (integer)`, 1},
		{`destination.port == "22"`, filter.Options{}, `cannot compare`, 1},
		{`source.ip == "not-an-ip"`, filter.Options{}, `is compared with an address but is not one`, 14},
		{`source.ip > "10.0.0.1"`, filter.Options{}, `addresses can only be compared with == and !=`, 11},
		{`inCIDR(source.ip, "10.0.0.0/33")`, filter.Options{}, `is not a CIDR range`, 19},
		{`user.name matches "(["`, filter.Options{}, `does not compile`, 19},
		{`user.name == nil`, filter.Options{}, `nil: only an address field compared with == or != nil`, 14},
		{`source.ip > nil`, filter.Options{}, `nil: only an address field`, 13},
		{`user.name ==`, filter.Options{}, `does not parse`, 0},
		{`let x = 1; x == 1`, filter.Options{}, `let and ; are not supported`, 0},
		{`in_list(source.ip, "nope")`, filter.Options{Lists: testLists}, `no list named "nope"`, 20},
		{`user.name == "a" and\n  offHours("office", timestamp)`, filter.Options{Strict: true}, `offHours("office", timestamp) cannot be evaluated in ClickHouse`, 3},
		{`destination.port == 99999999999999999999999`, filter.Options{}, `out of range`, 0},
		{strings.Repeat(`user.name == "a" or `, 10) + "true", filter.Options{MaxLength: 100}, `more than the limit of 100`, 1},
		{deepAndOr(40), filter.Options{MaxDepth: 30}, `nested more than 30 levels`, 0},
		{"user.name == \"a\"" + strings.Repeat(" or user.name == \"a\"", 200), filter.Options{MaxDepth: 30, MaxParams: 1000}, ``, -1},
		{strings.Repeat("not ", 40) + "true", filter.Options{MaxDepth: 30}, `nested more than 30 levels`, 0},
		{`destination.port in [1,2,3,4,5]`, filter.Options{MaxParams: 3}, `more than 3 query parameters`, 0},
	} {
		src := strings.ReplaceAll(tc.src, `\n`, "\n")
		_, err := filter.Compile(src, tc.opts)
		if tc.column < 0 {
			if err != nil {
				t.Errorf("Compile(%.60q…) = %v, want no error", src, err)
			}
			continue
		}
		var fe *filter.Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q) = %v, want a *filter.Error", src, err)
			continue
		}
		if !strings.Contains(fe.Msg, tc.want) {
			t.Errorf("Compile(%q) = %q, want it to contain %q", src, fe.Msg, tc.want)
		}
		if tc.column > 0 && fe.Pos.Column != tc.column {
			t.Errorf("Compile(%q): error at column %d, want %d (%v)", src, fe.Pos.Column, tc.column, err)
		}
	}
}

func TestResidual(t *testing.T) {
	src := `source.zone == "lgwan" and not offHours("office", timestamp)`
	c, err := filter.Compile(src, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Exact() || len(c.Residuals) != 1 {
		t.Fatalf("residuals = %+v, want one", c.Residuals)
	}
	r := c.Residuals[0]
	if r.Expr != `offHours("office", timestamp)` || r.Pos.Column != 32 || r.Pos.Offset != 31 {
		t.Errorf("residual = %+v", r)
	}
	// Under a NOT, the unpushable part must widen the result too: NOT false.
	if c.Where != "source_zone = {f1:String}" {
		t.Errorf("where = %s", c.Where)
	}
}

// TestCompiledRunsInClickHouse runs every compiled filter of the golden set against a real
// events table, so that the SQL is not only as expected but also valid ClickHouse.
func TestCompiledRunsInClickHouse(t *testing.T) {
	conn, _ := testdb.New(t)
	for _, src := range append(readFilters(t), listFilters...) {
		c, err := filter.Compile(src, filter.Options{Lists: testLists})
		if err != nil {
			continue
		}
		var n uint64
		if err := conn.QueryRow(t.Context(), "SELECT count() FROM events WHERE "+c.Where, c.Args()...).Scan(&n); err != nil {
			t.Errorf("filter %q: WHERE %s: %v", src, c.Where, err)
		}
	}
}

// deepAndOr nests alternating and/or n levels deep: a or (a and (a or …)).
func deepAndOr(n int) string {
	s := "true"
	for i := range n {
		op := " or "
		if i%2 == 1 {
			op = " and "
		}
		s = `user.name == "a"` + op + "(" + s + ")"
	}
	return s
}

func TestMacros(t *testing.T) {
	macros := map[string]string{
		"from_mynumber": `source.zone == "mynumber"`,
		"outward":       `from_mynumber and destination.zone != "mynumber"`,
		"off":           `offHours("office", timestamp)`,
		"loop1":         `loop2`,
		"loop2":         `loop1 and true`,
		"broken":        `source.zone ==`,
		"typo":          `source.zon == "x"`,
	}
	c, err := filter.Compile(`outward or not off`, filter.Options{Macros: macros})
	if err != nil {
		t.Fatal(err)
	}
	// "not off" widens to true, so the whole disjunction is a superset: true.
	if c.Where != "true" {
		t.Errorf("where = %s, want true", c.Where)
	}
	if len(c.Residuals) != 1 || c.Residuals[0].Expr != "off" || c.Residuals[0].Pos.Column != 16 {
		t.Errorf("residuals = %+v, want off at column 16", c.Residuals)
	}
	c, err = filter.Compile(`outward and event.action == "deny"`, filter.Options{Macros: macros})
	if err != nil || c.Where != "(source_zone = {f1:String}) AND (destination_zone != {f2:String}) AND (action = {f3:String})" || len(c.Zones) != 1 {
		t.Errorf("outward and …: %v %+v", err, c)
	}
	for src, want := range map[string]string{
		`loop1`:                      `refers to itself (loop1 → loop2 → loop1)`,
		`user.name == "a" or broken`: `macro "broken" does not parse`,
		`typo`:                       `unknown field "source.zon"`,
	} {
		_, err := filter.Compile(src, filter.Options{Macros: macros})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Compile(%q) = %v, want %q", src, err, want)
		}
	}
}

// TestFieldColumnsMatchTheEventsTable checks the field table (internal/event's, through Fields)
// against the events table the migrations make: every column exists with a type of the field's kind.
func TestFieldColumnsMatchTheEventsTable(t *testing.T) {
	conn, db := testdb.New(t)
	rows, err := conn.Query(t.Context(), "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = 'events'", clickhouse.Named("db", db))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[filter.Kind]*regexp.Regexp{
		filter.KindString: regexp.MustCompile(`^(LowCardinality\()?String\)?$`),
		filter.KindInt:    regexp.MustCompile(`^UInt(8|16|32|64)$`),
		filter.KindBool:   regexp.MustCompile(`^Bool$`),
		filter.KindIP:     regexp.MustCompile(`^IPv6$`),
		filter.KindTime:   regexp.MustCompile(`^DateTime64\(3, 'UTC'\)$`),
		filter.KindMap:    regexp.MustCompile(`^Map\(`),
	}
	for _, f := range filter.Fields() {
		typ, ok := types[f.Column]
		if !ok {
			t.Errorf("%s: column %s is not in the events table", f.Path, f.Column)
			continue
		}
		if re := want[f.Kind]; re == nil || !re.MatchString(typ) {
			t.Errorf("%s: column %s is %s, not a %s", f.Path, f.Column, typ, f.Kind)
		}
	}
}
