package testdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// GenerateInServer inserts n events into db.events with INSERT … SELECT FROM numbers(…) of a million
// rows each: the
// same value pools as Generate (picked by cityHash64 of the row number, so the data are the same on
// every run), produced inside ClickHouse. Ten million events take seconds this way instead of the
// minutes that generating and sending them from Go takes; benchmarks use it. The pools are
// server-side parameters, so their awkward values (quotes, line breaks) need no escaping.
func GenerateInServer(ctx context.Context, conn driver.Conn, db string, n int, from time.Time, span time.Duration) error {
	var args []any
	k := 0
	// pick returns an expression choosing one element of pool by a hash of the row number; each
	// call hashes with its own seed so columns vary independently.
	pick := func(typ string, pool any, size int) string {
		k++
		name := fmt.Sprintf("p%d", k)
		args = append(args, clickhouse.Named(name, pool))
		return fmt.Sprintf("{%s:Array(%s)}[1 + cityHash64(number, %d) %% %d]", name, typ, k, size)
	}
	str := func(pool []string) string { return pick("String", pool, len(pool)) }
	u16 := func(pool []uint16) string { return pick("UInt16", pool, len(pool)) }
	hash := func() string { k++; return fmt.Sprintf("cityHash64(number, %d)", k) }
	// addr: one in eight absent (::), else an address of one of Prefixes' networks, as Generate makes.
	// IPv4 addresses are computed as numbers (strings cost seconds per million rows).
	addr := func() string {
		h := hash()
		v4 := func(a, b int) string {
			return fmt.Sprintf("toIPv6(toIPv4(toUInt32(%d + intDiv(%s, 8) %% 4 * 256 + intDiv(%s, 64) %% 256)))", a<<24|b<<16, h, h)
		}
		return fmt.Sprintf(`if(%[1]s %% 8 = 0, toIPv6('::'), multiIf(%[1]s %% 5 = 0, %[2]s, %[1]s %% 5 = 1, %[3]s, %[1]s %% 5 = 2, %[4]s,
			%[1]s %% 5 = 3, toIPv6(toIPv4(toUInt32(%[5]d + intDiv(%[1]s, 64) %% 256))),
			toIPv6(concat('2001:db8::', hex(toUInt8(intDiv(%[1]s, 64) %% 256))))))`, h, v4(10, 10), v4(10, 20), v4(10, 30), 203<<24|113<<8)
	}
	spanMs := span.Milliseconds()
	cols := []string{
		"concat('ev-', leftPad(toString(number), 9, '0'))",                                                       // id
		fmt.Sprintf("fromUnixTimestamp64Milli(toInt64(%d + %s %% %d), 'UTC')", from.UnixMilli(), hash(), spanMs), // timestamp
		"", // ingested: timestamp plus a delay, filled below
		str([]string{"fw1", "proxy1", "ssh-gw", ""}), addr(), str(Zones), "'udp514'",
		str(Modules), str([]string{"ok", "envelope"}), "''",
		"''", str(Actions), str(Outcomes), fmt.Sprintf("toUInt8(%s %% 8)", hash()), fmt.Sprintf("toUInt8(%s %% 24)", hash()),
		addr(), u16(Ports), str(Zones), "''",
		addr(), u16(Ports), str(Zones), "''",
		"",                                                                                     // cross_zone, computed from the zones below
		str(Transport), str([]string{"https", "ssh", "dns", ""}), str(Users), str(Domains), "", // url_original below
		str(Methods), u16(Statuses), str([]string{"malware", "news", ""}), "''",
		fmt.Sprintf("%s %% 1048576", hash()), fmt.Sprintf("%s %% 65536", hash()), str([]string{"sshd", "squid", ""}), str(Messages), // message_template
		// raw_head, raw_whole, verbatim: raw is the head and the message. Not verbatim, as the writer stores
		// these messages (they hold no control bytes): reading `message` then costs what it costs in production.
		"concat('<134>raw line ', toString(number), ' ')", "false", "false",
		"", // labels below
	}
	cols[2] = fmt.Sprintf("timestamp + toIntervalMillisecond(%s %% 5000)", hash())
	cols[23] = "source_zone NOT IN ('', 'unknown') AND destination_zone NOT IN ('', 'unknown') AND source_zone != destination_zone"
	cols[28] = "if(url_domain = '', '', concat('https://', url_domain, '/path?q=1'))"
	lh := hash()
	cols[40] = fmt.Sprintf("multiIf(%[1]s %% 3 = 0, map('policyid', %[2]s), %[1]s %% 3 = 1, map('devname', %[3]s, 'policyid', %[2]s), map())",
		lh, str(Policies), str([]string{"fg-a", ""}))
	names := strings.Fields(strings.ReplaceAll(columns, ",", " "))
	if len(names) != len(cols) {
		return fmt.Errorf("testdb: %d generated columns for %d names", len(cols), len(names))
	}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = c + " AS " + names[i]
	}
	sql := "INSERT INTO " + db + ".events (" + columns + ") SELECT " + strings.Join(sel, ",\n") + " FROM numbers({first:UInt64}, {count:UInt64})"
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_execution_time": 0}))
	// In chunks, so that no single statement runs into the client's read timeout on a busy machine.
	const chunk = 1_000_000
	for first := 0; first < n; first += chunk {
		a := append(slices.Clone(args), clickhouse.Named("first", uint64(first)), clickhouse.Named("count", uint64(min(chunk, n-first))))
		if err := conn.Exec(ctx, sql, a...); err != nil {
			return fmt.Errorf("testdb: generate events %d to %d of %d in %s: %w", first, min(first+chunk, n), n, db, err)
		}
	}
	return nil
}
