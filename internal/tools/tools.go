//go:build tools

// Package tools pins modules that later packages will use, so go mod tidy keeps them. Remove an import once real code uses it.
package tools

import (
	_ "github.com/ClickHouse/clickhouse-go/v2"
	_ "github.com/ebitengine/purego"
	_ "github.com/expr-lang/expr"
	_ "github.com/fsnotify/fsnotify"
	_ "github.com/go-pdf/fpdf"
	_ "github.com/goccy/go-yaml"
	_ "github.com/grafana/grafana-plugin-sdk-go/backend"
	_ "github.com/influxdata/go-syslog/v3"
	_ "github.com/nats-io/nats-server/v2/server"
	_ "github.com/nats-io/nats.go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/spf13/cobra"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/net/publicsuffix"
	_ "golang.org/x/text/encoding/japanese"
)
