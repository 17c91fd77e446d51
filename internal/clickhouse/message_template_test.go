package clickhouse_test

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Migration 0013 turns `message` into an ALIAS over message_template: every message stored before it
// must read back unchanged (they are verbatim: a control byte of their own is text, not a reference),
// and so must the raw lines, also after a rerun of the migration (after a failure half-way).
func TestMigrationKeepsStoredMessages(t *testing.T) {
	old := map[string][2]string{ // id → message, raw
		"syslog":            {"body 10.30.0.25 443", "<13>Nov 26 04:00:00 host app: body 10.30.0.25 443"},
		"control bytes":     {"a\x06b\x0fc\x01", "<13>Nov 26 04:00:00 host app: a\x06b\x0fc\x01"},
		"header with a ref": {"x", "<13>\x10 host app: x"},
		"transcoded":        {"日本", "<13>Nov 26 04:00:00 host app: \x93\xfa\x96\x7b"},
		"empty":             {"", ""},
	}
	upgradeKeeps(t, "0013_events_message_template", "message", old, func(ctx context.Context, conn driver.Conn, id string, v [2]string) error {
		// As the writer stored them then: the line split (0010), typed values that the texts repeat.
		return conn.Exec(ctx, `INSERT INTO events (id, timestamp, source_ip, source_port, user_name, message, raw_head, raw_whole)
			SELECT ?, now64(3), toIPv6('10.30.0.25'), 443, 'u', ?, if(endsWith(?, ?), substring(?, 1, length(?) - length(?)), ?), NOT endsWith(?, ?)`,
			id, v[0], v[1], v[0], v[1], v[1], v[0], v[1], v[1], v[0])
	})
}
