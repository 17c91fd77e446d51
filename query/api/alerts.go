package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/zonewatch/zonewatch/query"
)

// RuleInfo is what the API says about a loaded rule (see fromrules.RuleInfos).
type RuleInfo struct {
	ID          string           `json:"id"`
	Title       query.AlertTitle `json:"title"`
	Description string           `json:"description,omitempty"`
	Severity    string           `json:"severity"`
	Kind        string           `json:"kind"`
	Enabled     bool             `json:"enabled"`
	Tags        []string         `json:"tags"`
}

// alertActions are the POST /api/v1/alerts/{id}/<action> routes.
var alertActions = []string{query.ActAck, query.ActResolve, query.ActReopen}

func alertRoutes() []Route {
	out := []Route{
		{Method: http.MethodGet, Path: "/api/v1/alerts", Role: Viewer, Audited: true},
		{Method: http.MethodGet, Path: "/api/v1/alerts/{id}", Role: Viewer, Audited: true},
	}
	for _, a := range alertActions {
		out = append(out, Route{Method: http.MethodPost, Path: "/api/v1/alerts/{id}/" + a, Role: Analyst, Audited: true})
	}
	return append(out, Route{Method: http.MethodGet, Path: "/api/v1/rules", Role: Viewer, Audited: true})
}

func (h *handler) mountAlerts(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts", h.audited("alerts", Viewer, false, h.listAlerts))
	mux.HandleFunc("GET /api/v1/alerts/{id}", h.audited("alert", Viewer, false, h.getAlert))
	for _, a := range alertActions {
		mux.HandleFunc("POST /api/v1/alerts/{id}/"+a, h.audited("alert."+a, Analyst, true, h.actOnAlert(a)))
	}
	mux.HandleFunc("GET /api/v1/rules", h.audited("rules", Viewer, false, h.listRules))
}

func (h *handler) scope(p *Principal) query.Scope {
	return query.Scope{Hidden: query.HiddenFor(h.o.GuardedZones, p.Zones)}
}

// timeRange reads the optional from and to parameters.
func timeRange(r *http.Request) (from, to time.Time, err error) {
	v := r.URL.Query()
	if from, err = parseTime("from", v.Get("from")); err != nil {
		return
	}
	to, err = parseTime("to", v.Get("to"))
	return
}

func (h *handler) listAlerts(_ http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error) {
	v := r.URL.Query()
	rec.Request = v.Encode()
	for name := range v {
		if !slices.Contains([]string{"status", "severity", "rule", "zone", "from", "to", "limit"}, name) {
			return nil, 0, badRequest(fmt.Errorf("unknown parameter %q: use status, severity, rule, zone, from, to or limit", name))
		}
	}
	from, to, err := timeRange(r)
	if err != nil {
		return nil, 0, badRequest(err)
	}
	f := query.AlertFilter{From: from, To: to, Status: v.Get("status"), Severity: v.Get("severity"), RuleID: v.Get("rule"),
		Zone: v.Get("zone"), Scope: h.scope(p)}
	if s := v.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil {
			return nil, 0, badRequest(fmt.Errorf("limit=%q is not a whole number", s))
		}
	}
	res, err := h.o.Engine.Alerts(r.Context(), f)
	if err != nil {
		return nil, 0, err
	}
	return res, len(res.Alerts), nil
}

func (h *handler) getAlert(_ http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error) {
	id := r.PathValue("id")
	rec.Request = `{"id":` + strconv.Quote(id) + `}`
	a, err := h.o.Engine.Alert(r.Context(), id, h.scope(p))
	if err != nil {
		return nil, 0, err
	}
	return a, 1, nil
}

// actionRequest is the optional body of an action.
type actionRequest struct {
	Comment string `json:"comment"`
}

func (h *handler) actOnAlert(action string) runFunc {
	return func(w http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error) {
		id := r.PathValue("id")
		var req actionRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, h.o.MaxBodyBytes))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil && err != io.EOF {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, 0, &statusError{http.StatusRequestEntityTooLarge, apiError{Kind: "bad_request",
					Message: fmt.Sprintf("the request body is larger than %d bytes", h.o.MaxBodyBytes)}}
			}
			return nil, 0, badRequest(fmt.Errorf(`the request body is not {"comment": "…"}: %v`, err))
		}
		b, _ := json.Marshal(map[string]string{"id": id, "action": action, "comment": req.Comment})
		rec.Request = string(b)
		// who comes from the token, never from the request.
		a, err := h.o.Engine.ActOnAlert(r.Context(), id, action, p.Name, req.Comment, h.scope(p))
		if err != nil {
			return nil, 0, err
		}
		return a, 1, nil
	}
}

// ruleStatus is one rule in GET /api/v1/rules.
type ruleStatus struct {
	RuleID string           `json:"rule_id"`
	Title  query.AlertTitle `json:"title"`
	// Status is enabled or disabled for a loaded rule, not_loaded for a rule that raised alerts but
	// is not in the loaded set (removed or renamed), unknown when the API was given no rules.
	Status      string     `json:"status"`
	Severity    string     `json:"severity"`
	Kind        string     `json:"kind,omitempty"`
	Description string     `json:"description,omitempty"`
	Tags        []string   `json:"tags"`
	Alerts      uint64     `json:"alerts"`
	Hits        uint64     `json:"hits"`
	Open        uint64     `json:"open"`
	Acked       uint64     `json:"acknowledged"`
	Resolved    uint64     `json:"resolved"`
	LastSeen    *time.Time `json:"last_seen,omitempty"`
}

type rulesResponse struct {
	Rules []ruleStatus `json:"rules"`
	// Loaded says whether the rule metadata (status, titles of rules without alerts) is known.
	Loaded bool `json:"loaded"`
}

func (h *handler) listRules(_ http.ResponseWriter, r *http.Request, p *Principal, rec *Record) (any, int, error) {
	rec.Request = r.URL.Query().Encode()
	from, to, err := timeRange(r)
	if err != nil {
		return nil, 0, badRequest(err)
	}
	stats, err := h.o.Engine.RuleStats(r.Context(), from, to, h.scope(p))
	if err != nil {
		return nil, 0, err
	}
	resp := rulesResponse{Rules: []ruleStatus{}}
	byID := map[string]int{} // index into resp.Rules
	if h.o.Rules != nil {
		resp.Loaded = true
		for _, ri := range h.o.Rules() {
			st := "disabled"
			if ri.Enabled {
				st = "enabled"
			}
			resp.Rules = append(resp.Rules, ruleStatus{RuleID: ri.ID, Title: ri.Title, Status: st, Severity: ri.Severity, Kind: ri.Kind,
				Description: ri.Description, Tags: nonNil(ri.Tags)})
		}
		for i, rs := range resp.Rules {
			byID[rs.RuleID] = i
		}
	}
	for _, s := range stats {
		i, ok := byID[s.RuleID]
		if !ok {
			st := "unknown"
			if resp.Loaded {
				st = "not_loaded"
			}
			resp.Rules = append(resp.Rules, ruleStatus{RuleID: s.RuleID, Title: s.Title, Status: st, Severity: s.Severity, Tags: []string{}})
			i = len(resp.Rules) - 1
		}
		rs := &resp.Rules[i]
		rs.Alerts, rs.Hits, rs.Open, rs.Acked, rs.Resolved, rs.LastSeen = s.Alerts, s.Hits, s.Open, s.Acknowledged, s.Resolved, s.LastSeen
	}
	slices.SortFunc(resp.Rules, func(a, b ruleStatus) int {
		switch {
		case a.RuleID < b.RuleID:
			return -1
		case a.RuleID > b.RuleID:
			return 1
		}
		return 0
	})
	return resp, len(resp.Rules), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
