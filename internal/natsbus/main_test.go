package natsbus_test

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

// The cluster test writes into ClickHouse: one embedded server for the package.
func TestMain(m *testing.M) { chtest.Main(m) }
