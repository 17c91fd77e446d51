package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/simulate"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/query/api"
	"github.com/zonewatch/zonewatch/rules"
	"github.com/zonewatch/zonewatch/rules/backtest"
)

func newRules(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work on detection rules: lint, test, backtest",
		Long: `Tools for rule authors. DIR is a rules directory (default rules/default, the shipped pack).
The zone map and named hosts of the configuration answer zoneOf() and hostRole().`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "lint [DIR]",
		Short: "Load and type-check every rule; print problems as file:line:column",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := ruleLoadOptions(g)
			if err != nil {
				return err
			}
			diags := rules.Lint(cmd.Context(), ruleDir(args), opts)
			for _, d := range diags {
				fmt.Fprintln(g.stdout, d.String())
			}
			if n := len(diags.Errors()); n > 0 {
				return fmt.Errorf("%d errors in %s", n, ruleDir(args))
			}
			fmt.Fprintf(g.stdout, "%s: no errors\n", ruleDir(args))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "test [DIR]",
		Short: "Run every rule's tests; exit non-zero on a failure and show which part of the condition decided",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := ruleLoadOptions(g)
			if err != nil {
				return err
			}
			rep, err := rules.RunTests(cmd.Context(), ruleDir(args), opts)
			if err != nil {
				return err
			}
			fmt.Fprint(g.stdout, rep.String())
			if !rep.OK() {
				return errors.New("rule tests failed")
			}
			return nil
		},
	})
	cmd.AddCommand(newRulesBacktest(g))
	return cmd
}

func ruleDir(args []string) string {
	if len(args) == 1 {
		return args[0]
	}
	return "rules/default"
}

func ruleLoadOptions(g *globals) (rules.LoadOptions, error) {
	cfg, err := config.Load(g.config, nil)
	if err != nil {
		return rules.LoadOptions{}, err
	}
	zones, err := cfg.ZoneMap()
	if err != nil {
		return rules.LoadOptions{}, err
	}
	var hosts []zone.Host
	for _, h := range cfg.Hosts {
		hosts = append(hosts, zone.Host{Name: h.Name, Role: h.Role})
	}
	return rules.LoadOptions{Zones: zones, Hosts: hosts}, nil
}

func newRulesBacktest(g *globals) *cobra.Command {
	var (
		ids           []string
		from, to, dir string
		format        string
		pageSize      int
	)
	cmd := &cobra.Command{
		Use:   "backtest --from TIME --to TIME [--rule ID ...] [--dir DIR]",
		Short: "Run rules over the events stored in ClickHouse and count the alerts each would have raised, per day",
		Long: `Run rules over the events stored in ClickHouse between --from and --to, as the rules stage would
have run them, and report how many alerts each rule would have raised per day (Asia/Tokyo).

Each rule's condition is pushed down to ClickHouse through the query filter compiler (lists and macros
by name) to read only the rows some rule may match; the rows stream in timestamp order and the real
engine evaluates every rule in full: condition, exceptions, windows, suppression. Absence rules are
checked every minute of the period, against the time the events arrived (event.ingested) as live.
Like zonewatch query, every backtest leaves a record in the audit table (endpoint cli.backtest).
--rule picks rules (a disabled rule runs too: that is how to try one before enabling it); without it,
every enabled rule of --dir runs.

Examples:
  zonewatch rules backtest --from 2026-11-01 --to 2026-12-01
  zonewatch rules backtest --rule ZW-ST-001 --rule ZW-ST-002 --from 2026-11-02 --to 2026-11-03 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return fmt.Errorf("give the period: --from and --to (2026-11-02, 2026-11-02T09:00 in Asia/Tokyo, or RFC 3339)")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: want table or json", format)
			}
			f, err := simulate.ParseTime(from)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			t, err := simulate.ParseTime(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			opts, err := ruleLoadOptions(g)
			if err != nil {
				return err
			}
			rs, err := rules.Load(cmd.Context(), dir, opts)
			if err != nil {
				return fmt.Errorf("rules in %s do not load (run zonewatch rules lint %s): %w", dir, dir, err)
			}
			if len(ids) > 0 {
				if rs, err = rs.Select(ids...); err != nil {
					return err
				}
			}
			bt, err := backtest.New(backtest.Options{Rules: rs, From: f, To: t, Logger: g.logger()})
			if err != nil {
				return err
			}
			return withClickHouse(cmd.Context(), g, func(cfg *config.Config, conn driver.Conn, log *slog.Logger) error {
				if _, notes := backtest.PushDown(rs); len(notes) > 0 {
					for _, n := range notes {
						log.Info("backtest reads every event", "why", n)
					}
				}
				// A backtest reads every zone's events: like zonewatch query, it leaves an audit record,
				// and answers only when the record is written.
				now := time.Now()
				where, _ := backtest.PushDown(rs)
				rec := api.Record{Time: now.UTC(), RequestID: strconv.FormatInt(now.UnixNano(), 36), Principal: cliUser(), Zones: []string{"*"},
					Endpoint: "cli.backtest", Filter: where, Remote: "cli"}
				if b, err := json.Marshal(map[string]any{"from": from, "to": to, "rules": ids, "dir": dir}); err == nil {
					rec.Request = string(b)
				}
				audit := &api.TableAudit{Conn: conn, Database: cfg.ClickHouse.Database}
				rep, err := backtest.Stored(cmd.Context(), bt, backtest.StoredOptions{Conn: conn, Database: cfg.ClickHouse.Database, PageSize: pageSize})
				rec.Duration = time.Since(now)
				if err != nil {
					rec.Status, rec.Error = cliStatus(err), err.Error()
					if aerr := audit.Record(cmd.Context(), rec); aerr != nil {
						log.Error("audit record of a failed backtest", "err", aerr)
					}
					return err
				}
				rec.Status, rec.Rows = 200, int(rep.Rows)
				if err := audit.Record(cmd.Context(), rec); err != nil {
					return fmt.Errorf("the audit log cannot be written, so the backtest is not answered: %w", err)
				}
				if format == "json" {
					return rep.WriteJSON(g.stdout)
				}
				return rep.WriteTable(g.stdout)
			})
		},
	}
	cmd.Flags().StringArrayVar(&ids, "rule", nil, "rule id to run (repeat for more); default every enabled rule")
	cmd.Flags().StringVar(&from, "from", "", "start of the period (inclusive)")
	cmd.Flags().StringVar(&to, "to", "", "end of the period (exclusive)")
	cmd.Flags().StringVar(&dir, "dir", "rules/default", "rules directory")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	cmd.Flags().IntVar(&pageSize, "page-size", 50000, "rows read from ClickHouse per query")
	return cmd
}
