package clickhouse_test

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

func TestMain(m *testing.M) {
	runParentIfRequested() // for TestEmbeddedChildDiesWithParent
	chtest.Main(m)
}
