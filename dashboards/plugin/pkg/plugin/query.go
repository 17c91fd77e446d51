package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
)

// request is one query target, resolved: the model, the time range, the caller and the bucket.
type request struct {
	refID    string
	m        Model
	from, to time.Time
	interval time.Duration
	id       Identity
}

// QueryData answers each query of the request with its frames, or with an error response that
// says what is wrong (the other queries still run).
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	if d.broken != nil {
		for _, q := range req.Queries {
			resp.Responses[q.RefID] = backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, d.broken.Error())
		}
		return resp, nil
	}
	id, idErr := d.settings.Identify(req.PluginContext.User)
	for _, q := range req.Queries {
		if idErr != nil {
			resp.Responses[q.RefID] = backend.ErrDataResponse(backend.StatusForbidden, idErr.Error())
			continue
		}
		resp.Responses[q.RefID] = d.query(ctx, q, id)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery, id Identity) backend.DataResponse {
	m, err := ParseModel(q.JSON, q.QueryType)
	if err != nil {
		return backend.ErrDataResponse(backend.StatusBadRequest, "query "+q.RefID+": "+err.Error())
	}
	r := &request{refID: q.RefID, m: m, from: q.TimeRange.From, to: q.TimeRange.To, interval: q.Interval, id: id}
	frames, err := d.run(ctx, r)
	if err != nil {
		return errResponse(q.RefID, m.QueryType, err)
	}
	for _, f := range frames {
		f.RefID = q.RefID
	}
	return backend.DataResponse{Frames: frames}
}

func (d *Datasource) run(ctx context.Context, r *request) (data.Frames, error) {
	switch r.m.QueryType {
	case TypeEvents:
		return d.events(ctx, r)
	case TypeTimeSeries:
		return d.timeSeries(ctx, r)
	case TypeTopN:
		return d.topN(ctx, r)
	case TypeZonePairs:
		return d.zonePairs(ctx, r)
	case TypeOffHours:
		return d.offHours(ctx, r)
	case TypeAlerts:
		return d.alerts(ctx, r)
	case TypeHealth:
		return d.health(ctx, r)
	case TypeVariable:
		vals, err := d.variable(ctx, r)
		if err != nil {
			return nil, err
		}
		return data.Frames{data.NewFrame("values", data.NewField("value", nil, vals))}, nil
	}
	return nil, fmt.Errorf("queryType %q is not handled", r.m.QueryType)
}

// baseQuery is the engine query of r: time range, filter with ad hoc filters, scope. A filter
// naming a zone outside the scope is refused.
func (d *Datasource) baseQuery(r *request) (query.Query, error) {
	f, err := r.m.FullFilter()
	if err != nil {
		return query.Query{}, &query.Error{Kind: query.ErrBadQuery, Msg: err.Error()}
	}
	if f != "" {
		c, err := d.engine.Compile(f)
		if err != nil {
			return query.Query{}, err
		}
		if err := checkZones(c.Zones, r.id); err != nil {
			return query.Query{}, err
		}
	}
	return query.Query{From: r.from, To: r.to, Filter: f, Scope: r.id.Scope()}, nil
}

// errResponse turns an error into a data response with the status the query API would give.
func errResponse(refID, queryType string, err error) backend.DataResponse {
	status := backend.StatusInternal
	src := backend.ErrorSourcePlugin
	var qe *query.Error
	if errors.As(err, &qe) {
		switch qe.Kind {
		case query.ErrBadQuery, query.ErrUnpushable:
			status, src = backend.StatusBadRequest, backend.ErrorSourceDownstream
		case query.ErrTooLarge:
			status, src = backend.Status(http.StatusRequestEntityTooLarge), backend.ErrorSourceDownstream
		case query.ErrForbidden:
			status, src = backend.StatusForbidden, backend.ErrorSourceDownstream
		case query.ErrTimeout:
			status, src = backend.StatusTimeout, backend.ErrorSourceDownstream
		case query.ErrInternal:
			src = backend.ErrorSourceDownstream // ClickHouse failed
		}
	}
	return backend.ErrDataResponseWithSource(status, src, fmt.Sprintf("query %s (%s): %v", refID, queryType, err))
}

// bucket is the time bucket of a time series: Grafana's interval in whole seconds, widened when
// the range would need more buckets than the engine allows.
func (d *Datasource) bucket(r *request) time.Duration {
	b := max(r.interval.Round(time.Second), time.Second)
	maxB := d.engine.Limits().MaxBuckets
	if span := r.to.Sub(r.from); span/b > time.Duration(maxB) {
		b = (span/time.Duration(maxB) + time.Second).Truncate(time.Second)
	}
	return b
}

func (r *request) limit(def, maxN int) int {
	if r.m.Limit <= 0 {
		return def
	}
	return min(r.m.Limit, maxN)
}

// needs refuses a query type the identity's role may not run.
func needs(r *request, min api.Role) error { return require(r.id, min, r.m.QueryType+" queries") }
