package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/dashboards/report"
	"github.com/zonewatch/zonewatch/internal/calendar"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/query/fromrules"
	"github.com/zonewatch/zonewatch/rules"
)

type reportFlags struct {
	month, out, org, marking, font string
	formats                        []string
}

func newReport(g *globals) *cobra.Command {
	f := &reportFlags{}
	cmd := &cobra.Command{
		Use:   "report --month YYYY-MM --out DIR",
		Short: "Write the monthly monitoring report (月次監視報告) for the security committee",
		Long: `Write the monthly monitoring report for the security committee, in Japanese, from the events, alerts
and source health in ClickHouse: a PDF (A4, IPAex Gothic), the same content as one HTML page, and the
tables as CSV (one file each) and XLSX (one sheet each). The same month and data give the same files.

Off-hours are judged with the calendars and the user_calendars list of the rules directory
(rules.dir), the expected log sources come from its expected_log_sources list, and the proxies and
mail servers from the configuration's hosts (roles proxy and mail).`,
		Example: `  zonewatch report --month 2026-11 --out reports/
  zonewatch report --month 2026-11 --out reports/ --format pdf,csv --org 北南消防組合`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := report.MonthRange(f.month); err != nil {
				return fmt.Errorf("--month: %w", err)
			}
			if f.out == "" {
				return fmt.Errorf("--out: name the directory to write the report to")
			}
			for _, fm := range f.formats {
				if fm == "pdf" {
					if _, err := report.FindFont(f.font); err != nil {
						return err // before any query: the committee wants the PDF
					}
				}
			}
			return withClickHouse(cmd.Context(), g, func(cfg *config.Config, conn driver.Conn, log *slog.Logger) error {
				return runReport(cmd.Context(), g, cfg, conn, log, f)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.month, "month", time.Now().In(calendar.Tokyo()).AddDate(0, -1, 0).Format("2006-01"), "the month to report, YYYY-MM (Japan time)")
	fl.StringVar(&f.out, "out", "", "directory to write to (created if missing)")
	fl.StringSliceVar(&f.formats, "format", report.Formats, "pdf, html, csv, xlsx (comma-separated)")
	fl.StringVar(&f.org, "org", "", "organisation name printed in the page header")
	fl.StringVar(&f.marking, "marking", "機密性2", "classification marking printed on every page")
	fl.StringVar(&f.font, "font", "", "TrueType font with Japanese glyphs (default: IPAex Gothic from fonts-ipaexfont-gothic)")
	return cmd
}

func runReport(ctx context.Context, g *globals, cfg *config.Config, conn driver.Conn, log *slog.Logger, f *reportFlags) error {
	opts, err := reportOptions(ctx, cfg, conn, log)
	if err != nil {
		return err
	}
	opts.Month, opts.Organisation, opts.Marking = f.month, f.org, f.marking
	start := time.Now()
	r, err := report.Build(ctx, opts)
	rec := api.Record{Time: start.UTC(), RequestID: strconv.FormatInt(start.UnixNano(), 36), Principal: cliUser(), Zones: []string{"*"},
		Endpoint: "cli.report", Remote: "cli", Status: 200, Duration: time.Since(start)}
	if b, jerr := json.Marshal(map[string]any{"month": f.month, "formats": f.formats}); jerr == nil {
		rec.Request = string(b)
	}
	if err != nil {
		rec.Status, rec.Error = 500, err.Error()
	}
	// The report reads every zone: it is recorded like any other query.
	if aerr := (&api.TableAudit{Conn: conn, Database: cfg.ClickHouse.Database}).Record(ctx, rec); aerr != nil {
		return fmt.Errorf("the audit log cannot be written, so the report is not written: %w", aerr)
	}
	if err != nil {
		return err
	}
	paths, err := report.Write(r, report.WriteOptions{Dir: f.out, Formats: f.formats, PDF: report.PDFOptions{FontPath: f.font}})
	if err != nil {
		return err
	}
	log.Info("report written", "month", f.month, "took", time.Since(start).Round(time.Millisecond), "files", len(paths))
	for _, p := range paths {
		fmt.Fprintln(g.stdout, p)
	}
	return nil
}

// reportOptions gathers what the report needs from the configuration and the rules directory.
func reportOptions(ctx context.Context, cfg *config.Config, conn driver.Conn, log *slog.Logger) (report.Options, error) {
	o := report.Options{Conn: conn, Database: cfg.ClickHouse.Database}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
		switch h.Role {
		case "proxy":
			o.ProxyHosts = append(o.ProxyHosts, h.Name)
		case "mail":
			o.MailHosts = append(o.MailHosts, h.Name)
		}
	}
	qo := query.Options{Conn: conn, Database: cfg.ClickHouse.Database, Sources: query.Rollups(), Logger: log,
		Limits: query.Limits{MaxScanRows: 5_000_000}}
	if dir := cfg.Rules.Dir; dir != "" {
		zones, err := cfg.ZoneMap()
		if err != nil {
			return o, err
		}
		rs, err := rules.Load(ctx, dir, rules.LoadOptions{Zones: zones, Hosts: hosts})
		if err != nil {
			return o, fmt.Errorf("rules.dir %s: %w (check them with: zonewatch rules lint %s)", dir, err, dir)
		}
		qo.Lists, qo.Macros = fromrules.Lists(rs), fromrules.Macros(rs)
		if l, ok := rs.Lists["expected_log_sources"]; ok {
			o.ExpectedSources = l.Items()
		}
		if _, ok := rs.Lists["approved_mynumber_destinations"]; ok {
			o.ApprovedLists.Destinations = "approved_mynumber_destinations"
		}
		if _, ok := rs.Lists["approved_mynumber_sources"]; ok {
			o.ApprovedLists.Sources = "approved_mynumber_sources"
		}
		specs, err := ruleCalendars(dir)
		if err != nil {
			return o, err
		}
		if o.Calendars, err = calendar.NewSet(specs, nil); err != nil {
			return o, fmt.Errorf("rules.dir %s: calendars: %w", dir, err)
		}
		o.CalendarHours = map[string]string{}
		for name, spec := range specs {
			o.CalendarHours[name] = report.DescribeCalendar(spec)
		}
		if l, ok := rs.Lists["user_calendars"]; ok {
			o.Accounts = func(user string) (report.Account, bool) {
				cal := l.Lookup(user)
				return report.Account{Group: cal, Class: userClass(cal, specs[cal].Kind), Calendar: cal}, cal != ""
			}
		}
	}
	eng, err := query.New(qo)
	if err != nil {
		return o, err
	}
	o.Engine = eng
	return o, nil
}

// userClass names the class of users of a calendar, by the default pack's naming (platoon-*, contractor-*).
func userClass(cal, kind string) string {
	switch {
	case strings.HasPrefix(cal, "contractor-"):
		return "保守委託事業者"
	case strings.HasPrefix(cal, "platoon-") || kind == calendar.KindShift:
		return "交替制職員"
	case kind == calendar.KindAlways:
		return "24時間運用"
	}
	return "日勤職員"
}

// ruleCalendars reads the calendars: sections of the rule files in dir.
func ruleCalendars(dir string) (map[string]calendar.CalendarSpec, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if err != nil {
		return nil, err
	}
	out := map[string]calendar.CalendarSpec{}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(b, []byte("calendars:")) {
			continue
		}
		var doc struct {
			Calendars map[string]calendar.CalendarSpec `yaml:"calendars"`
		}
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for name, spec := range doc.Calendars {
			out[name] = spec
		}
	}
	return out, nil
}
