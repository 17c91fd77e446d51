package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/zone"
	"github.com/zonewatch/zonewatch/rules"
)

func newRules(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work on detection rules: lint, test",
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
