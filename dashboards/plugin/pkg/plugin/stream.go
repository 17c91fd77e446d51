package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/query"
)

// StreamPath is the one live channel path: new alerts.
const StreamPath = "alerts"

// SubscribeStream allows the alerts channel to any user with a zonewatch role.
func (d *Datasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if req.Path != StreamPath || d.broken != nil {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	if _, err := d.settings.Identify(req.PluginContext.User); err != nil {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusPermissionDenied}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream refuses: the channel is read-only.
func (d *Datasource) PublishStream(context.Context, *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream polls the alerts table every StreamInterval seconds and sends one frame per alert
// created since the last one it saw (from the newest at start). Grafana runs one stream per
// channel and shares it among all subscribers, whoever they are, so the stream carries what the
// least privileged user may see: alerts within ViewerZones, without their group (hosts, users).
func (d *Datasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	if d.broken != nil {
		return d.broken
	}
	if req.Path != StreamPath {
		return fmt.Errorf("stream path %q: only %q exists", req.Path, StreamPath)
	}
	hidden := query.HiddenFor(guardedZones, d.settings.ViewerZones)
	since, err := d.newestAlert(ctx)
	if err != nil {
		return err
	}
	// Alerts created in the same millisecond as since may arrive in a later poll: the query asks
	// for created >= since and skips the ids already sent at since.
	sentAtSince := map[string]bool{}
	if !since.IsZero() {
		old, err := d.readAlerts(ctx, alertFilter{Since: since, Hidden: hidden, Limit: 1000})
		if err != nil {
			return err
		}
		for _, a := range old {
			sentAtSince[a.ID] = true
		}
	}
	tick := time.NewTicker(time.Duration(d.settings.StreamInterval) * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		list, err := d.readAlerts(ctx, alertFilter{Since: since, Hidden: hidden, Limit: 1000})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.logger.Warn("alerts stream: poll failed; retrying at the next tick", "err", err)
			continue
		}
		for _, a := range list {
			if sentAtSince[a.ID] {
				continue
			}
			if err := sender.SendFrame(alertFrame("alerts", []Alert{a}, false), data.IncludeAll); err != nil {
				return fmt.Errorf("alerts stream: send alert %s: %w", a.ID, err)
			}
			if !a.Created.Equal(since) {
				since, sentAtSince = a.Created, map[string]bool{}
			}
			sentAtSince[a.ID] = true
		}
	}
}

// newestAlert is the creation time of the newest alert (zero when there is none).
func (d *Datasource) newestAlert(ctx context.Context) (time.Time, error) {
	var t time.Time
	if err := d.conn.QueryRow(ctx, "SELECT max(created) FROM "+d.settings.Database+".alerts").Scan(&t); err != nil {
		return t, fmt.Errorf("alerts stream: read the newest alert of %s.alerts: %w", d.settings.Database, err)
	}
	return t.UTC(), nil
}
