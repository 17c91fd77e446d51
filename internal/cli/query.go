package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"
	"golang.org/x/text/width"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/event"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/query/filter"
	"github.com/zonewatch/zonewatch/query/fromrules"
	"github.com/zonewatch/zonewatch/rules"
)

// queryFlags are zonewatch query's options.
type queryFlags struct {
	from, to string
	format   string
	limit    int
	groupBy  []string
	aggs     []string
	fields   []string
}

// defaultQueryFields are the columns of a search in table and CSV form.
var defaultQueryFields = []string{"timestamp", "event.module", "event.action", "event.outcome", "source.zone", "source.ip",
	"destination.zone", "destination.ip", "destination.port", "user.name", "url.domain", "message"}

func newQuery(g *globals) *cobra.Command {
	f := &queryFlags{}
	cmd := &cobra.Command{
		Use:   "query [FILTER]",
		Short: "Search events, or count them by fields, with a filter in the rule language",
		Long: `Search the event store with a filter in the rule language, as the query API does, and print the
events (newest first) or, with --group-by, aggregates. Every query is recorded in the audit table as
cli:<your user name>.

Times are RFC 3339 (2026-11-02T09:00:00+09:00), a date or date and time in Japan time
(2026-11-02, 2026-11-02T09:00), or a duration back from now (-24h, -15m). Default: the last 24 hours.`,
		Example: `  zonewatch query 'source.zone == "mynumber" and destination.zone != "mynumber"' --from -24h
  zonewatch query 'event.outcome == "failure"' --from 2026-11-01 --to 2026-11-02 --format csv > denied.csv
  zonewatch query 'url.domain endsWith ".example"' --group-by user.name --agg count --agg count_distinct:url.domain
  zonewatch query --fields timestamp,user.name,event.original --format json 'user.name == "tanaka"'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			filter := ""
			if len(args) == 1 {
				filter = args[0]
			}
			return withClickHouse(cmd.Context(), g, func(cfg *config.Config, conn driver.Conn, log *slog.Logger) error {
				return runQuery(cmd.Context(), g.stdout, g.stderr, cfg, conn, log, filter, f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "start of the time range (inclusive); default 24h before --to")
	fl.StringVar(&f.to, "to", "", "end of the time range (exclusive); default now")
	fl.StringVarP(&f.format, "format", "o", "table", "table, json (one JSON object a line) or csv")
	fl.IntVarP(&f.limit, "limit", "n", 100, "most events or rows to print")
	fl.StringSliceVar(&f.groupBy, "group-by", nil, "aggregate by these event fields (source.zone, user.name …); repeat or separate by commas")
	fl.StringSliceVar(&f.aggs, "agg", nil, "with --group-by: count (default), count_distinct:FIELD, sum:FIELD, min:FIELD, max:FIELD, denied")
	fl.StringSliceVar(&f.fields, "fields", nil, "event fields to print for a search in table or csv form (default: "+strings.Join(defaultQueryFields, ",")+")")
	return cmd
}

// runQuery checks the flags, runs the query through query.Engine, audits it and prints the result.
func runQuery(ctx context.Context, stdout, stderr io.Writer, cfg *config.Config, conn driver.Conn, log *slog.Logger, src string, f *queryFlags) error {
	if f.format != "table" && f.format != "json" && f.format != "csv" {
		return fmt.Errorf("--format %q: use table, json or csv", f.format)
	}
	now := time.Now()
	to, err := parseQueryTime("--to", f.to, now)
	if err != nil {
		return err
	}
	from, err := parseQueryTime("--from", f.from, now)
	if err != nil {
		return err
	}
	q := query.Query{From: from, To: to, Filter: src, GroupBy: f.groupBy, Limit: f.limit}
	for _, a := range f.aggs {
		op, field, _ := strings.Cut(a, ":")
		q.Aggs = append(q.Aggs, query.Agg{Op: query.AggOp(op), Field: field})
	}
	if len(q.Aggs) > 0 && len(q.GroupBy) == 0 {
		return errors.New("--agg needs --group-by: name the fields to aggregate by (or leave out --agg to list events)")
	}
	fields := f.fields
	if len(fields) == 0 {
		fields = defaultQueryFields
	}
	var getters []event.Field
	for _, name := range fields {
		fd, ok := event.LookupField(name)
		if !ok {
			return fmt.Errorf("--fields: unknown field %q: use event fields such as %s", name, strings.Join(defaultQueryFields[:6], ", "))
		}
		getters = append(getters, fd)
	}
	lists, macros := ruleVocabulary(ctx, cfg, log)
	eng, err := query.New(query.Options{Conn: conn, Database: cfg.ClickHouse.Database, Evaluator: query.ExprEvaluator{},
		Sources: query.Rollups(), Lists: lists, Macros: macros, Logger: log})
	if err != nil {
		return err
	}
	rec := api.Record{Time: now.UTC(), RequestID: strconv.FormatInt(now.UnixNano(), 36), Principal: cliUser(), Zones: []string{"*"},
		Endpoint: "cli.search", Filter: src, Remote: "cli"}
	if len(q.GroupBy) > 0 {
		rec.Endpoint = "cli.aggregate"
	}
	if b, err := json.Marshal(map[string]any{"from": from, "to": to, "filter": src, "group_by": q.GroupBy, "aggs": q.Aggs, "limit": q.Limit}); err == nil {
		rec.Request = string(b)
	}
	audit := &api.TableAudit{Conn: conn, Database: cfg.ClickHouse.Database}
	var (
		print     func() error
		rows      int
		truncated bool
	)
	if len(q.GroupBy) > 0 {
		var res *query.Result
		if res, err = eng.Aggregate(ctx, q); err == nil {
			rows, truncated = len(res.Rows), res.Truncated
			print = func() error { return printResult(stdout, f.format, res) }
		}
	} else {
		var res *query.SearchResult
		if res, err = eng.Search(ctx, q); err == nil {
			rows, truncated = len(res.Events), res.Truncated
			print = func() error { return printEvents(stdout, f.format, getters, res.Events) }
		}
	}
	rec.Duration = time.Since(now)
	if err != nil {
		rec.Status, rec.Error = cliStatus(err), err.Error()
		if aerr := audit.Record(ctx, rec); aerr != nil {
			log.Error("audit record of a failed query", "err", aerr)
		}
		return queryError(src, err)
	}
	rec.Status, rec.Rows = 200, rows
	if err := audit.Record(ctx, rec); err != nil {
		return fmt.Errorf("the audit log cannot be written, so the query is not answered: %w", err)
	}
	if err := print(); err != nil {
		return err
	}
	if truncated {
		fmt.Fprintf(stderr, "(more match than --limit %d: narrow the filter or the range, or raise --limit)\n", q.Limit)
	}
	return nil
}

// ruleVocabulary loads the configured rules for their lists and macros, so that a filter can say
// what a rule says (in_list(destination.ip, "approved_mynumber_destinations"), from_mynumber). Rules
// that do not load leave filters without them, with a warning: a query needs no rules.
func ruleVocabulary(ctx context.Context, cfg *config.Config, log *slog.Logger) (filter.Lists, map[string]string) {
	if cfg.Rules.Dir == "" {
		return nil, nil
	}
	zones, err := cfg.ZoneMap()
	if err != nil {
		log.Warn("zone map: filters cannot use the rules' lists and macros", "err", err)
		return nil, nil
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	rs, err := rules.Load(ctx, cfg.Rules.Dir, rules.LoadOptions{Zones: zones, Hosts: hosts})
	if err != nil {
		log.Warn("rules not loaded: filters cannot use their lists and macros", "dir", cfg.Rules.Dir, "err", err)
		return nil, nil
	}
	return fromrules.Lists(rs), fromrules.Macros(rs)
}

// cliUser is who runs the command, for the audit: cli:<OS user name>.
func cliUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli:uid-" + strconv.Itoa(os.Getuid())
}

// cliStatus is the HTTP status the API would have answered, for the audit record.
func cliStatus(err error) int {
	switch query.KindOf(err) {
	case query.ErrBadQuery:
		return 400
	case query.ErrForbidden:
		return 403
	case query.ErrTooLarge:
		return 413
	case query.ErrUnpushable:
		return 422
	case query.ErrTimeout:
		return 504
	}
	return 500
}

// jst is Japan's time zone (immutable, loaded once).
var jst = japan()

// japan is the time zone of dates and times written without one.
func japan() *time.Location {
	if l, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return l
	}
	return time.FixedZone("JST", 9*3600)
}

// parseQueryTime reads a time flag: RFC 3339, a date or date and time in Japan time, or a
// negative duration back from now. "" is the zero time (the engine's default).
func parseQueryTime(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if strings.HasPrefix(s, "-") {
		if d, err := time.ParseDuration(s); err == nil {
			return now.Add(d), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, jst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: write RFC 3339 (2026-11-02T09:00:00+09:00), a date or date and time in Japan time (2026-11-02, 2026-11-02T09:00), or a duration back from now (-24h)", flag, s)
}

// queryError adds, for a filter error, the filter's line with a caret under the column.
func queryError(src string, err error) error {
	var qe *query.Error
	if !errors.As(err, &qe) || qe.Filter == nil {
		return err
	}
	lines := strings.Split(src, "\n")
	pos := qe.Filter.Pos
	if pos.Line < 1 || pos.Line > len(lines) {
		return err
	}
	return fmt.Errorf("%w\n  %s\n  %s^", err, lines[pos.Line-1], caretPad(lines[pos.Line-1], pos.Column))
}

// caretPad is the blank space before column (in characters, from 1) of line as a terminal shows
// it: tabs kept, wide (CJK) characters counted twice.
func caretPad(line string, column int) string {
	var b strings.Builder
	n := 1
	for _, r := range line {
		if n >= column {
			break
		}
		switch k := width.LookupRune(r).Kind(); {
		case r == '\t':
			b.WriteByte('\t')
		case k == width.EastAsianWide || k == width.EastAsianFullwidth:
			b.WriteString("  ")
		default:
			b.WriteByte(' ')
		}
		n++
	}
	return b.String()
}

// cell formats a value for table and CSV output.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time: // in Japan time, as the SOC reads it, with the offset so that it is unambiguous
		return x.In(jst).Format("2006-01-02T15:04:05.000Z07:00")
	case netip.Addr:
		if !x.IsValid() {
			return ""
		}
		return x.String()
	case map[string]string:
		if len(x) == 0 {
			return ""
		}
		b, _ := json.Marshal(x)
		return string(b)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v)
}

// tableCell is cell with line breaks and tabs shown as escapes, so that one event stays one line.
func tableCell(v any) string {
	s := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`).Replace(cell(v))
	if r := []rune(s); len(r) > 80 {
		s = string(r[:79]) + "…"
	}
	return s
}

func printEvents(w io.Writer, format string, fields []event.Field, evs []*event.Event) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, e := range evs {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		head := make([]string, len(fields))
		for i, f := range fields {
			head[i] = f.Path
		}
		_ = cw.Write(head)
		for _, e := range evs {
			row := make([]string, len(fields))
			for i, f := range fields {
				row[i] = cell(f.Get(e))
			}
			_ = cw.Write(row)
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := make([]string, len(fields))
	for i, f := range fields {
		head[i] = strings.ToUpper(f.Path)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, e := range evs {
		row := make([]string, len(fields))
		for i, f := range fields {
			row[i] = tableCell(f.Get(e))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func printResult(w io.Writer, format string, res *query.Result) error {
	names := make([]string, len(res.Columns))
	for i, c := range res.Columns {
		names[i] = c.Name
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, row := range res.Rows {
			obj := make(map[string]any, len(row))
			for i, v := range row {
				obj[names[i]] = v
			}
			if err := enc.Encode(obj); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(names)
		for _, row := range res.Rows {
			out := make([]string, len(row))
			for i, v := range row {
				out[i] = cell(v)
			}
			_ = cw.Write(out)
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := make([]string, len(names))
	for i, n := range names {
		head[i] = strings.ToUpper(n)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, row := range res.Rows {
		out := make([]string, len(row))
		for i, v := range row {
			out[i] = tableCell(v)
		}
		fmt.Fprintln(tw, strings.Join(out, "\t"))
	}
	return tw.Flush()
}

// loadedRules describes the rules stage's current rules (reloads included) for the API's
// /api/v1/rules; nil when this process runs no rules stage, or only a partition of the rules
// (the API would call the other partitions' rules not loaded).
func loadedRules(cfg *config.Config, p *rulesProc) func() []api.RuleInfo {
	if p == nil || p.runner == nil || cfg.Rules.Partition.Count > 1 {
		return nil
	}
	return func() []api.RuleInfo { return fromrules.RuleInfos(p.runner.Engine().Rules()) }
}
