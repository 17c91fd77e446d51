// Package api is zonewatch's query HTTP API: JSON endpoints over query.Engine for the Grafana
// plugin, the CLI and scripts, with bearer-token authentication, roles, zone scopes and an audit
// record per query. NewHandler returns an http.Handler to mount at the server's root; the routes
// are under /api/v1 and described in openapi.yaml.
//
// Security model:
//   - Every route but /api/v1/health needs "Authorization: Bearer <token>". Token stores keep the
//     SHA-256 of each token only (StaticTokens from a token file, TableTokens from api_tokens).
//     A missing, unknown, expired or revoked token gets 401.
//   - Roles: viewer reads aggregates (aggregate, timeseries, topn, zonepairs), alerts and rules,
//     and validates filters; analyst, rule-author and admin also search events and act on alerts
//     (ack, resolve, reopen: who is the token's name). Too low a role gets 403.
//   - Zone scope: a token lists the guarded zones (Options.GuardedZones, default mynumber, lgwan,
//     internet) it may read, or *. The engine ANDs the others into every WHERE as hidden zones:
//     an event is read only when none of its source, destination and observer zones is hidden.
//     A filter that asks for a hidden zone by name (source.zone == "mynumber") gets 403. An alert
//     whose zones include a hidden one is not found (404), to read or to act on.
//   - Audit: every request to a query route, answered or refused, is recorded (who, when, the
//     filter and request, rows returned, status). A query whose record cannot be written is not
//     answered (503).
//   - Limits: request bodies over Options.MaxBodyBytes and queries over the engine's limits get
//     413; filters that cannot run where they must get 422; bad requests and filters get 400 with
//     the position in the filter.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/filter"
)

// Options configures NewHandler.
type Options struct {
	// Engine answers the queries; required.
	Engine *query.Engine
	// Auth resolves bearer tokens; required.
	Auth Authenticator
	// Audit records each query; required (use a MemoryAudit in tests).
	Audit Auditor
	// Logger receives request errors; default discards.
	Logger *slog.Logger
	// GuardedZones are the zones a token's scope grants or withholds; default mynumber, lgwan,
	// internet. Zones not listed (external, unknown …) are visible to every token.
	GuardedZones []string
	// MaxBodyBytes bounds a POST body; default 64 KiB.
	MaxBodyBytes int64
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Rules returns the loaded rules, for GET /api/v1/rules (their status, and rules that raised
	// no alert); nil lists only the rules the alerts name. A function, so that a reload shows.
	Rules func() []RuleInfo
}

// Route is one route of the API.
type Route struct {
	Method, Path string
	// Role is the least role that may call it; "" for public routes.
	Role Role
	// Audited routes leave an audit record per request.
	Audited bool
}

type endpoint struct {
	name string
	role Role
	run  func(h *handler, ctx context.Context, q query.Query, r *request) (any, int, error) // result, rows
}

var endpoints = []endpoint{
	{"search", Analyst, (*handler).search},
	{"aggregate", Viewer, (*handler).aggregate},
	{"timeseries", Viewer, (*handler).timeseries},
	{"topn", Viewer, (*handler).topn},
	{"zonepairs", Viewer, (*handler).zonepairs},
}

// Routes lists the routes NewHandler serves.
func Routes() []Route {
	var out []Route
	for _, e := range endpoints {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			out = append(out, Route{Method: m, Path: "/api/v1/" + e.name, Role: e.role, Audited: true})
		}
	}
	out = append(out, alertRoutes()...)
	out = append(out,
		Route{Method: http.MethodGet, Path: "/api/v1/validate", Role: Viewer},
		Route{Method: http.MethodPost, Path: "/api/v1/validate", Role: Viewer},
		Route{Method: http.MethodGet, Path: "/api/v1/health"},
	)
	return out
}

type handler struct {
	o Options
}

// NewHandler returns the API's handler.
func NewHandler(o Options) (http.Handler, error) {
	switch {
	case o.Engine == nil:
		return nil, errors.New("api: Options.Engine is nil")
	case o.Auth == nil:
		return nil, errors.New("api: Options.Auth is nil: give a token store (ReadTokenFile, TableTokens)")
	case o.Audit == nil:
		return nil, errors.New("api: Options.Audit is nil: queries must be audited (TableAudit)")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.GuardedZones == nil {
		o.GuardedZones = []string{"mynumber", "lgwan", "internet"}
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &handler{o: o}
	mux := http.NewServeMux()
	for _, e := range endpoints {
		mux.HandleFunc("GET /api/v1/"+e.name, h.query(e))
		mux.HandleFunc("POST /api/v1/"+e.name, h.query(e))
	}
	h.mountAlerts(mux)
	mux.HandleFunc("GET /api/v1/validate", h.validate)
	mux.HandleFunc("POST /api/v1/validate", h.validate)
	mux.HandleFunc("GET /api/v1/health", h.health)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, apiError{Kind: "not_found", Message: "no such route: see /api/v1 in openapi.yaml"})
	})
	return mux, nil
}

// request is the body of a POST, or the parameters of a GET.
type request struct {
	From    string        `json:"from,omitempty"` // RFC 3339, or milliseconds since the epoch
	To      string        `json:"to,omitempty"`
	Filter  string        `json:"filter,omitempty"`
	GroupBy []string      `json:"group_by,omitempty"`
	Aggs    []query.Agg   `json:"aggs,omitempty"`
	Bucket  string        `json:"bucket,omitempty"` // Go duration: 15m, 1h
	OrderBy []query.Order `json:"order_by,omitempty"`
	Limit   int           `json:"limit,omitempty"`
	Field   string        `json:"field,omitempty"` // topn
	N       int           `json:"n,omitempty"`     // topn
	After   string        `json:"after,omitempty"` // search: the next of a previous page
}

// apiError is the JSON error body.
type apiError struct {
	Kind      string            `json:"kind"`
	Message   string            `json:"message"`
	Position  *filter.Position  `json:"position,omitempty"`
	Residuals []filter.Residual `json:"residuals,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, e apiError) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="zonewatch"`)
	}
	writeJSON(w, status, map[string]apiError{"error": e})
}

func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// authenticate returns the caller's principal, or the status and error to answer.
func (h *handler) authenticate(r *http.Request, min Role) (*Principal, int, apiError) {
	auth := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return nil, http.StatusUnauthorized, apiError{Kind: "unauthenticated", Message: "send an API token as \"Authorization: Bearer <token>\""}
	}
	p, err := h.o.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return nil, http.StatusUnauthorized, apiError{Kind: "unauthenticated", Message: "the API token is not valid (unknown, expired or revoked): ask an administrator for a token"}
	case err != nil:
		h.o.Logger.Error("token store failed", "err", err)
		return nil, http.StatusServiceUnavailable, apiError{Kind: "unavailable", Message: "the token store is unavailable: try again later"}
	case !p.Role.AtLeast(min):
		return p, http.StatusForbidden, apiError{Kind: "forbidden", Message: fmt.Sprintf("role %s may not call this route: it needs %s or above", p.Role, min)}
	}
	return p, 0, apiError{}
}

// parse reads the request from a GET's parameters or a POST's JSON body.
func (h *handler) parse(w http.ResponseWriter, r *http.Request) (*request, int, error) {
	req := &request{}
	if r.Method == http.MethodPost {
		body := http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes)
		dec := json.NewDecoder(body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(req); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the request body is larger than %d bytes", h.o.MaxBodyBytes)
			}
			return nil, http.StatusBadRequest, fmt.Errorf("the request body is not a valid JSON query: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, http.StatusBadRequest, errors.New("the request body holds more than one JSON value")
		}
		return req, 0, nil
	}
	v := r.URL.Query()
	req.From, req.To, req.Filter, req.Bucket, req.Field, req.After = v.Get("from"), v.Get("to"), v.Get("filter"), v.Get("bucket"), v.Get("field"), v.Get("after")
	for _, g := range v["group_by"] {
		for _, x := range strings.Split(g, ",") {
			if x = strings.TrimSpace(x); x != "" {
				req.GroupBy = append(req.GroupBy, x)
			}
		}
	}
	for _, a := range v["agg"] {
		op, field, _ := strings.Cut(a, ":")
		req.Aggs = append(req.Aggs, query.Agg{Op: query.AggOp(op), Field: field})
	}
	for _, o := range v["order_by"] {
		desc := strings.HasPrefix(o, "-")
		req.OrderBy = append(req.OrderBy, query.Order{By: strings.TrimPrefix(o, "-"), Desc: desc})
	}
	for name, dst := range map[string]*int{"limit": &req.Limit, "n": &req.N} {
		if s := v.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return nil, http.StatusBadRequest, fmt.Errorf("%s=%q is not a whole number", name, s)
			}
			*dst = n
		}
	}
	return req, 0, nil
}

func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("%s=%q: write an RFC 3339 time (2026-11-01T00:00:00Z) or milliseconds since 1970", name, s)
	}
	return t, nil
}

// toQuery turns a request into a query scoped for p.
func (h *handler) toQuery(req *request, p *Principal) (query.Query, error) {
	from, err := parseTime("from", req.From)
	if err != nil {
		return query.Query{}, err
	}
	to, err := parseTime("to", req.To)
	if err != nil {
		return query.Query{}, err
	}
	var bucket time.Duration
	if req.Bucket != "" {
		if bucket, err = time.ParseDuration(req.Bucket); err != nil || bucket <= 0 {
			return query.Query{}, fmt.Errorf("bucket=%q: write a duration such as 15m, 1h or 24h", req.Bucket)
		}
	}
	return query.Query{
		From: from, To: to, Filter: req.Filter, GroupBy: req.GroupBy, Aggs: req.Aggs, Bucket: bucket,
		OrderBy: req.OrderBy, Limit: req.Limit, After: req.After,
		Scope: query.Scope{Hidden: query.HiddenFor(h.o.GuardedZones, p.Zones)},
	}, nil
}

// checkScope refuses a filter that names a zone the caller may not read.
func (h *handler) checkScope(q query.Query, p *Principal) (int, apiError) {
	f, err := h.o.Engine.Compile(q.Filter)
	if err != nil {
		return h.queryError(err, "")
	}
	for _, z := range f.Zones {
		if slices.Contains(q.Scope.Hidden, z) {
			return http.StatusForbidden, apiError{Kind: "forbidden", Message: fmt.Sprintf(
				"the filter asks for zone %q, which this token may not read (its zones: %s): ask an administrator for a token scoped to it",
				z, strings.Join(p.Zones, ", "))}
		}
	}
	return 0, apiError{}
}

// queryError maps an engine error to a status and body.
func (h *handler) queryError(err error, reqID string) (int, apiError) {
	var qe *query.Error
	if !errors.As(err, &qe) {
		h.o.Logger.Error("query failed", "request_id", reqID, "err", err)
		return http.StatusInternalServerError, apiError{Kind: "internal", Message: "internal error: see the server log for request " + reqID}
	}
	e := apiError{Kind: qe.Kind.String(), Message: strings.TrimPrefix(qe.Msg, "query: "), Residuals: qe.Residuals}
	if qe.Filter != nil {
		pos := qe.Filter.Pos
		e.Position = &pos
	}
	switch qe.Kind {
	case query.ErrBadQuery:
		return http.StatusBadRequest, e
	case query.ErrTooLarge:
		return http.StatusRequestEntityTooLarge, e
	case query.ErrUnpushable:
		return http.StatusUnprocessableEntity, e
	case query.ErrForbidden:
		return http.StatusForbidden, e
	case query.ErrTimeout:
		return http.StatusGatewayTimeout, e
	case query.ErrNotFound:
		return http.StatusNotFound, e
	case query.ErrConflict:
		return http.StatusConflict, e
	}
	h.o.Logger.Error("query failed", "request_id", reqID, "err", err)
	return http.StatusInternalServerError, apiError{Kind: "internal", Message: "internal error: see the server log for request " + reqID}
}

// statusError is a refusal with its status, from an audited route's run.
type statusError struct {
	status int
	ae     apiError
}

func (e *statusError) Error() string { return e.ae.Message }

func badRequest(err error) error {
	return &statusError{http.StatusBadRequest, apiError{Kind: "bad_request", Message: err.Error()}}
}

// runFunc answers one audited request for principal p: the result and the rows it returned, or
// an error (a *statusError, or an engine error mapped by queryError). It may fill rec's Filter and
// Request.
type runFunc func(w http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error)

// audited serves a route that leaves an audit record per request, answered or refused. A read
// whose record cannot be written is not answered (503). A change (mutating) is already on
// record in its own append-only table when the audit fails, so it is answered and the failure
// logged: refusing would tell the caller it did not happen.
func (h *handler) audited(name string, role Role, mutating bool, run runFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := h.o.Now()
		rec := Record{Time: start.UTC(), RequestID: requestID(), Endpoint: name, Remote: r.RemoteAddr}
		w.Header().Set("X-Request-Id", rec.RequestID)
		fail := func(status int, ae apiError) {
			ae.RequestID = rec.RequestID
			rec.Status, rec.Error, rec.Duration = status, ae.Message, h.o.Now().Sub(start)
			if err := h.o.Audit.Record(r.Context(), rec); err != nil {
				h.o.Logger.Error("audit record of a refused request failed", "request_id", rec.RequestID, "err", err)
			}
			writeError(w, status, ae)
		}
		p, status, ae := h.authenticate(r, role)
		if p != nil {
			rec.Principal, rec.TokenID, rec.Role, rec.Zones = p.Name, p.TokenID, p.Role, p.Zones
		}
		if status != 0 {
			fail(status, ae)
			return
		}
		res, rows, err := run(w, r, p, &rec)
		if err != nil {
			var se *statusError
			if errors.As(err, &se) {
				fail(se.status, se.ae)
			} else {
				fail(h.queryError(err, rec.RequestID))
			}
			return
		}
		rec.Status, rec.Rows, rec.Duration = http.StatusOK, rows, h.o.Now().Sub(start)
		if err := h.o.Audit.Record(r.Context(), rec); err != nil {
			if !mutating {
				h.o.Logger.Error("audit record failed: the query is not answered", "request_id", rec.RequestID, "err", err)
				writeError(w, http.StatusServiceUnavailable, apiError{Kind: "unavailable", RequestID: rec.RequestID,
					Message: "the audit log cannot be written, so the query is not answered: try again later"})
				return
			}
			h.o.Logger.Error("audit record of a change failed (the change is kept)", "request_id", rec.RequestID, "err", err)
		}
		writeJSON(w, http.StatusOK, res)
	}
}

// query serves one audited query endpoint.
func (h *handler) query(e endpoint) http.HandlerFunc {
	return h.audited(e.name, e.role, false, func(w http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error) {
		req, status, err := h.parse(w, r)
		if err != nil {
			return nil, 0, &statusError{status, apiError{Kind: "bad_request", Message: err.Error()}}
		}
		rec.Filter = req.Filter
		if b, err := json.Marshal(req); err == nil {
			rec.Request = string(b)
		}
		q, err := h.toQuery(req, p)
		if err != nil {
			return nil, 0, badRequest(err)
		}
		if status, ae := h.checkScope(q, p); status != 0 {
			return nil, 0, &statusError{status, ae}
		}
		return e.run(h, r.Context(), q, req)
	})
}

type searchResponse struct {
	Events    any               `json:"events"`
	Truncated bool              `json:"truncated"`
	Residuals []filter.Residual `json:"residuals"`
	Scanned   int               `json:"scanned"`
	Next      string            `json:"next,omitempty"`
}

func (h *handler) search(ctx context.Context, q query.Query, _ *request) (any, int, error) {
	res, err := h.o.Engine.Search(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	rs := res.Residuals
	if rs == nil {
		rs = []filter.Residual{}
	}
	return searchResponse{Events: res.Events, Truncated: res.Truncated, Residuals: rs, Scanned: res.Scanned, Next: res.Next}, len(res.Events), nil
}

func (h *handler) aggregate(ctx context.Context, q query.Query, _ *request) (any, int, error) {
	res, err := h.o.Engine.Aggregate(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Rows), nil
}

func (h *handler) timeseries(ctx context.Context, q query.Query, _ *request) (any, int, error) {
	res, err := h.o.Engine.TimeSeries(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Rows), nil
}

func (h *handler) topn(ctx context.Context, q query.Query, req *request) (any, int, error) {
	if req.Field == "" {
		return nil, 0, &query.Error{Kind: query.ErrBadQuery, Msg: "topn needs a field, e.g. field=url.domain"}
	}
	if req.N < 0 || req.N > 1000 {
		return nil, 0, &query.Error{Kind: query.ErrBadQuery, Msg: fmt.Sprintf("n=%d: give 1 to 1000", req.N)}
	}
	res, err := h.o.Engine.TopN(ctx, q, req.Field, req.N)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Rows), nil
}

func (h *handler) zonepairs(ctx context.Context, q query.Query, _ *request) (any, int, error) {
	res, err := h.o.Engine.ZonePairs(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Pairs), nil
}

type validateResponse struct {
	OK        bool              `json:"ok"`
	Exact     bool              `json:"exact"`
	Residuals []filter.Residual `json:"residuals"`
	Columns   []string          `json:"columns"`
	Error     *apiError         `json:"error,omitempty"`
}

// validate checks a filter for the query editor: 200 with ok and the residuals, or ok false with
// the error and its position.
func (h *handler) validate(w http.ResponseWriter, r *http.Request) {
	p, status, ae := h.authenticate(r, Viewer)
	if status != 0 {
		writeError(w, status, ae)
		return
	}
	req, status, err := h.parse(w, r)
	if err != nil {
		writeError(w, status, apiError{Kind: "bad_request", Message: err.Error()})
		return
	}
	resp := validateResponse{Residuals: []filter.Residual{}, Columns: []string{}}
	q := query.Query{Filter: req.Filter, Scope: query.Scope{Hidden: query.HiddenFor(h.o.GuardedZones, p.Zones)}}
	if status, ae := h.checkScope(q, p); status != 0 {
		resp.Error = &ae
		writeJSON(w, http.StatusOK, resp)
		return
	}
	f, _ := h.o.Engine.Compile(req.Filter)
	resp.OK, resp.Exact = true, f.Exact()
	resp.Residuals = append(resp.Residuals, f.Residuals...)
	resp.Columns = append(resp.Columns, f.Columns...)
	writeJSON(w, http.StatusOK, resp)
}

// health answers 200 when ClickHouse answers, 503 otherwise. It needs no token and says nothing more.
func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := h.o.Engine.Ping(ctx); err != nil {
		h.o.Logger.Warn("health: ClickHouse does not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
