//go:build unix

package clickhouse

import (
	"fmt"

	"github.com/ebitengine/purego"
)

// loadQueryCmdline binds the two functions the child needs from libchdb.so.
func loadQueryCmdline(lib string) (queryCmdlineFunc, resultErrorFunc, error) {
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, nil, fmt.Errorf("load %s: %w (run ./deploy/setup.sh to fetch it again)", lib, err)
	}
	var query queryCmdlineFunc
	var resultError resultErrorFunc
	for name, fn := range map[string]any{"chdb_query_cmdline": &query, "chdb_result_error": &resultError} {
		sym, err := purego.Dlsym(h, name)
		if err != nil {
			return nil, nil, fmt.Errorf("%s has no %s: %w (expected chDB %s)", lib, name, err, ChdbVersion)
		}
		purego.RegisterFunc(fn, sym)
	}
	return query, resultError, nil
}
