package plugin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zonewatch/zonewatch/query/filter"
)

// Query types of the query model.
const (
	TypeEvents     = "events"
	TypeTimeSeries = "timeseries"
	TypeTopN       = "topn"
	TypeZonePairs  = "zonepairs"
	TypeOffHours   = "offhours"
	TypeAlerts     = "alerts"
	TypeHealth     = "health"
	TypeVariable   = "variable"
)

var queryTypes = []string{TypeEvents, TypeTimeSeries, TypeTopN, TypeZonePairs, TypeOffHours, TypeAlerts, TypeHealth, TypeVariable}

// Model is the JSON of one query target (the plugin contract's query model).
type Model struct {
	QueryType   string `json:"queryType"`
	Filter      string `json:"filter"`
	GroupBy     string `json:"groupBy"`
	Aggregation string `json:"aggregation"`
	Field       string `json:"field"`
	Limit       int    `json:"limit"`
	OffHoursBy  string `json:"offHoursBy"`
	AlertStatus string `json:"alertStatus"`
	Severity    string `json:"severity"`
	Variable    string `json:"variable"`
	// HealthView picks the health table: sources (default), dead_letters, lag. An addition to the
	// contract, optional.
	HealthView string `json:"healthView"`
	// Format of timeseries: wide (default, one field per group) or long.
	Format string `json:"format"`
	// AdhocFilters are Grafana's ad hoc filters, applied by the frontend to the query JSON.
	AdhocFilters []AdhocFilter `json:"adhocFilters"`
}

// AdhocFilter is one Grafana ad hoc filter.
type AdhocFilter struct {
	Key      string `json:"key"`
	Operator string `json:"operator"`
	Value    string `json:"value"`
}

// ParseModel reads a query's JSON; queryType falls back to the DataQuery's QueryType.
func ParseModel(raw []byte, queryType string) (Model, error) {
	var m Model
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return m, fmt.Errorf("the query JSON is not valid: %w", err)
		}
	}
	if m.QueryType == "" {
		m.QueryType = queryType
	}
	if m.QueryType == "" {
		m.QueryType = TypeTimeSeries
	}
	if !slices.Contains(queryTypes, m.QueryType) {
		return m, fmt.Errorf("queryType %q: use one of %s", m.QueryType, strings.Join(queryTypes, ", "))
	}
	if m.Limit < 0 {
		return m, fmt.Errorf("limit %d is negative", m.Limit)
	}
	return m, nil
}

// FullFilter is the query's filter ANDed with its ad hoc filters, in the filter language. The ad
// hoc filters are turned into expressions with every value quoted as a literal, so that a value
// can never change the expression's shape; the filter compiler then binds every literal as a
// ClickHouse parameter.
func (m Model) FullFilter() (string, error) {
	parts := []string{}
	if f := strings.TrimSpace(m.Filter); f != "" {
		parts = append(parts, "("+f+")")
	}
	for i, a := range m.AdhocFilters {
		e, err := adhocExpr(a)
		if err != nil {
			return "", fmt.Errorf("ad hoc filter %d (%s %s %q): %w", i+1, a.Key, a.Operator, a.Value, err)
		}
		parts = append(parts, e)
	}
	if len(parts) == 0 {
		return "", nil
	}
	if len(parts) == 1 && len(m.AdhocFilters) == 0 {
		return strings.TrimSpace(m.Filter), nil
	}
	return strings.Join(parts, " && "), nil
}

// adhocExpr turns key, operator, value into a filter expression. The key must be a field of the
// field table; the value becomes a literal of the field's type.
func adhocExpr(a AdhocFilter) (string, error) {
	f, ok := filter.LookupField(a.Key)
	if !ok || f.Kind == filter.KindMap {
		if k, ok := strings.CutPrefix(a.Key, "labels."); ok && k != "" {
			f = filter.Field{Path: "labels[" + strconv.Quote(k) + "]", Kind: filter.KindString}
		} else {
			return "", fmt.Errorf("unknown field %q: use an event field such as source.zone or user.name (GET fields lists them)", a.Key)
		}
	}
	lit, err := literal(f, a.Value)
	if err != nil {
		return "", err
	}
	path := f.Path
	switch a.Operator {
	case "=", "==", "":
		return path + " == " + lit, nil
	case "!=":
		return path + " != " + lit, nil
	case "<", ">", "<=", ">=":
		if f.Kind != filter.KindInt && f.Kind != filter.KindTime {
			return "", fmt.Errorf("operator %s needs a numeric field, not %s (%s)", a.Operator, a.Key, f.Kind)
		}
		return path + " " + a.Operator + " " + lit, nil
	case "=~", "!~":
		if f.Kind != filter.KindString {
			return "", fmt.Errorf("operator %s needs a text field, not %s (%s)", a.Operator, a.Key, f.Kind)
		}
		e := path + " matches " + lit
		if a.Operator == "!~" {
			e = "not (" + e + ")"
		}
		return e, nil
	}
	return "", fmt.Errorf("operator %q: use =, !=, <, >, <=, >=, =~ or !~", a.Operator)
}

func literal(f filter.Field, v string) (string, error) {
	switch f.Kind {
	case filter.KindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return "", fmt.Errorf("%s is a number: %q is not one", f.Path, v)
		}
		return strconv.FormatInt(n, 10), nil
	case filter.KindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return "", fmt.Errorf("%s is true or false, not %q", f.Path, v)
		}
		return strconv.FormatBool(b), nil
	case filter.KindString, filter.KindIP:
		return strconv.Quote(v), nil
	}
	return "", fmt.Errorf("%s (%s) cannot be an ad hoc filter", f.Path, f.Kind)
}
