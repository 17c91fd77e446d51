// Command gpx_zonewatch is the backend of zonewatch's Grafana data source. Grafana starts it and
// talks to it over gRPC (hashicorp/go-plugin); it is not meant to be run by hand.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/zonewatch/zonewatch/dashboards/plugin/pkg/plugin"
)

func main() {
	if err := datasource.Manage(plugin.PluginID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("zonewatch data source stopped", "err", err)
		os.Exit(1)
	}
}
