package plugin

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/filter"
)

// Variables the variable query type and the variables resource know.
var variableNames = []string{"zones", "hosts", "users", "rules", "severities"}

// variable lists the values of a template variable over the request's range, within its scope.
func (d *Datasource) variable(ctx context.Context, r *request) ([]string, error) {
	top := func(field string) ([]string, error) {
		q, err := d.baseQuery(r)
		if err != nil {
			return nil, err
		}
		res, err := d.engine.TopN(ctx, q, field, r.limit(1000, 10000))
		if err != nil {
			return nil, err
		}
		var out []string
		for _, row := range res.Rows {
			if s := str(row[0]); s != "" {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out, nil
	}
	switch r.m.Variable {
	case "zones":
		out := []string{}
		for _, z := range guardedZones {
			if !slices.Contains(r.id.Hidden, z) {
				out = append(out, z)
			}
		}
		for _, f := range []string{"source.zone", "destination.zone"} {
			seen, err := top(f)
			if err != nil {
				return nil, err
			}
			for _, z := range seen {
				if !slices.Contains(out, z) {
					out = append(out, z)
				}
			}
		}
		return out, nil
	case "hosts":
		return top("observer.hostname")
	case "users":
		return top("user.name")
	case "rules":
		list, err := d.readAlerts(ctx, alertFilter{From: r.from, To: r.to, Hidden: r.id.Hidden, Limit: d.engine.Limits().MaxRows})
		if err != nil {
			return nil, err
		}
		out := []string{}
		for _, a := range list {
			out = append(out, a.RuleID)
		}
		slices.Sort(out)
		return slices.Compact(out), nil
	case "severities":
		return slices.Clone(severities), nil
	}
	return nil, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("variable %q: use one of zones, hosts, users, rules, severities", r.m.Variable)}
}

// Field is one entry of the fields resource.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ValidateResponse is the validate resource's answer.
type ValidateResponse struct {
	Valid   bool   `json:"valid"`
	Message string `json:"message,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	// Exact is false when parts of the filter cannot run in ClickHouse (Residuals): event searches
	// evaluate them afterwards, aggregations refuse them.
	Exact     bool              `json:"exact"`
	Residuals []filter.Residual `json:"residuals,omitempty"`
}

// CallResource serves the query editor: POST validate, GET fields, GET variables?name=.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	if d.broken != nil {
		return sendJSON(sender, http.StatusInternalServerError, map[string]string{"error": d.broken.Error()})
	}
	id, err := d.settings.Identify(req.PluginContext.User)
	if err != nil {
		return sendJSON(sender, http.StatusForbidden, map[string]string{"error": err.Error()})
	}
	switch {
	case req.Path == "validate" && req.Method == http.MethodPost:
		var body struct {
			Filter string `json:"filter"`
		}
		if err := json.Unmarshal(req.Body, &body); err != nil {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": `the body must be JSON {"filter": "…"}: ` + err.Error()})
		}
		return sendJSON(sender, http.StatusOK, d.validate(body.Filter, id))
	case req.Path == "fields" && req.Method == http.MethodGet:
		return sendJSON(sender, http.StatusOK, fieldList())
	case req.Path == "variables" && req.Method == http.MethodGet:
		u, _ := url.Parse(req.URL)
		qs := url.Values{}
		if u != nil {
			qs = u.Query()
		}
		r, err := d.resourceRequest(qs, id)
		if err != nil {
			return sendJSON(sender, http.StatusBadRequest, map[string]string{"error": err.Error()})
		}
		vals, err := d.variable(ctx, r)
		if err != nil {
			status := http.StatusInternalServerError
			if k := query.KindOf(err); k == query.ErrBadQuery || k == query.ErrForbidden {
				status = http.StatusBadRequest
			}
			return sendJSON(sender, status, map[string]string{"error": err.Error()})
		}
		return sendJSON(sender, http.StatusOK, vals)
	}
	return sendJSON(sender, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("%s %s: no such resource: use POST validate, GET fields or GET variables?name=zones|hosts|users|rules|severities", req.Method, req.Path)})
}

// resourceRequest reads name, from and to (Unix milliseconds; default the last 7 days).
func (d *Datasource) resourceRequest(qs url.Values, id Identity) (*request, error) {
	name := qs.Get("name")
	if !slices.Contains(variableNames, name) {
		return nil, fmt.Errorf("variables: name %q: use one of zones, hosts, users, rules, severities", name)
	}
	ms := func(k string, def time.Time) (time.Time, error) {
		v := qs.Get(k)
		if v == "" {
			return def, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("variables: %s=%q is not a time in Unix milliseconds", k, v)
		}
		return time.UnixMilli(n).UTC(), nil
	}
	to, err := ms("to", d.now())
	if err != nil {
		return nil, err
	}
	from, err := ms("from", to.Add(-7*24*time.Hour))
	if err != nil {
		return nil, err
	}
	return &request{m: Model{QueryType: TypeVariable, Variable: name}, from: from, to: to, id: id}, nil
}

// validate compiles a filter as queries would, and refuses zones outside the scope.
func (d *Datasource) validate(src string, id Identity) ValidateResponse {
	c, err := d.engine.Compile(src)
	if err != nil {
		resp := ValidateResponse{Message: err.Error()}
		var qe *query.Error
		if errors.As(err, &qe) && qe.Filter != nil {
			resp.Message, resp.Line, resp.Column = qe.Filter.Msg, qe.Filter.Pos.Line, qe.Filter.Pos.Column
		}
		return resp
	}
	if err := checkZones(c.Zones, id); err != nil {
		return ValidateResponse{Message: err.(*query.Error).Msg}
	}
	return ValidateResponse{Valid: true, Exact: c.Exact(), Residuals: c.Residuals}
}

// fieldList is the filterable fields with their types for the editor.
func fieldList() []Field {
	out := []Field{}
	for _, f := range filter.Fields() {
		t := map[filter.Kind]string{filter.KindString: "string", filter.KindInt: "number", filter.KindFloat: "number",
			filter.KindBool: "boolean", filter.KindIP: "ip", filter.KindTime: "time"}[f.Kind]
		if t == "" {
			continue
		}
		out = append(out, Field{Name: f.Path, Type: t})
	}
	return out
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  cmp.Or(status, http.StatusOK),
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    b,
	})
}
