package cli

import (
	"encoding/json"
	"net"
	"os"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/internal/clickhouse"
)

// readyInfo is what --ready-file holds: where everything ended up listening.
type readyInfo struct {
	Listeners      map[string]string `json:"listeners"`
	API            string            `json:"api"`
	ClickHouseTCP  string            `json:"clickhouse_native,omitempty"`
	ClickHouseHTTP string            `json:"clickhouse_http,omitempty"`
	PID            int               `json:"pid"`
}

func writeReady(path string, ls []*listen.Listener, api net.Addr, emb *clickhouse.Embedded) error {
	info := readyInfo{Listeners: map[string]string{}, API: api.String(), PID: os.Getpid()}
	for _, l := range ls {
		info.Listeners[l.Name()+"/"+l.Addr().Network()] = l.Addr().String()
	}
	if emb != nil {
		info.ClickHouseTCP, info.ClickHouseHTTP = emb.NativeAddr(), emb.HTTPAddr()
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
