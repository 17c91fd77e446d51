package report_test

import (
	"testing"

	"github.com/zonewatch/zonewatch/internal/clickhouse/chtest"
)

func TestMain(m *testing.M) { chtest.Main(m) }
