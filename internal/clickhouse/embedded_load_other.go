//go:build !unix

package clickhouse

import (
	"fmt"
	"runtime"
)

// loadQueryCmdline: libchdb is published for Linux and macOS only; on other systems point
// zonewatch at a ClickHouse server instead.
func loadQueryCmdline(lib string) (queryCmdlineFunc, resultErrorFunc, error) {
	return nil, nil, fmt.Errorf("the embedded ClickHouse is not available on %s: configure a ClickHouse server address instead", runtime.GOOS)
}
