package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/internal/simulate"
)

func newSimulate(g *globals) *cobra.Command {
	var (
		orgPath, from, to string
		seed              int64
		live, noIncidents bool
		rate              float64
		out               simulate.Outputs
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Emit the logs of a simulated three-zone network, with labelled incidents",
		Long: `Simulate the fire department's network: firewalls (FortiGate, iptables), proxies (Squid, i-FILTER),
sshd, and the sanitisation gateways of ~300 staff with office hours and 24-hour shift rotations
(Asia/Tokyo, Japanese holidays), plus injected incidents: cross-zone attempts, proxy bypass, off-hours
logins, a port scan, SSH brute force, malware domains, a large upload, a silent log source.

--from/--to produce a past period as fast as the receiver takes it; --live runs in real time. The same
--seed gives the same lines. --truth writes which lines make up each incident (JSON Lines).

Examples:
  zonewatch simulate --from 2026-11-01 --to 2026-12-01 --tcp 127.0.0.1:5514 --truth truth.jsonl
  zonewatch simulate --from 2026-11-02 --to 2026-11-03 --out-dir logs/
  zonewatch simulate --live --rate 5000 --udp 127.0.0.1:5514`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := simulate.Options{Seed: seed, Live: live, Rate: rate, Incidents: !noIncidents}
			var err error
			if orgPath != "" {
				if opts.Org, err = simulate.LoadOrg(orgPath); err != nil {
					return err
				}
			}
			if from != "" {
				if opts.From, err = simulate.ParseTime(from); err != nil {
					return fmt.Errorf("--from: %w", err)
				}
			}
			if to != "" {
				if opts.To, err = simulate.ParseTime(to); err != nil {
					return fmt.Errorf("--to: %w", err)
				}
			}
			if !live && (opts.From.IsZero() || opts.To.IsZero()) {
				return errors.New("give --from and --to (a past period, generated as fast as possible) or --live")
			}
			sim, err := simulate.New(opts)
			if err != nil {
				return err
			}
			if out.TCP == "" && out.UDP == "" && out.OutDir == "" {
				out.Stdout = g.stdout
			}
			sink, err := simulate.OpenOutputs(cmd.Context(), out, sim.Incidents())
			if err != nil {
				return err
			}
			start := time.Now()
			runErr := sim.Run(cmd.Context(), sink)
			closeErr := sink.Close()
			if err := errors.Join(runErr, closeErr); err != nil {
				return err
			}
			if out.Stdout == nil {
				fmt.Fprintf(g.stderr, "simulated %s – %s in %s; %d labelled incidents\n",
					opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339), time.Since(start).Round(time.Millisecond), len(sim.Incidents()))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&orgPath, "org", "", "organisation model (YAML); default: the built-in fire department")
	f.Int64Var(&seed, "seed", 1, "random seed: the same seed gives the same output")
	f.StringVar(&from, "from", "", "start of the simulated period (2026-11-02, 2026-11-02T09:00 Asia/Tokyo, or RFC 3339)")
	f.StringVar(&to, "to", "", "end of the simulated period (exclusive)")
	f.BoolVar(&live, "live", false, "run in real time instead of producing a past period")
	f.Float64Var(&rate, "rate", 0, "lines per simulated second (0: the model's realistic volume)")
	f.BoolVar(&noIncidents, "no-incidents", false, "leave out the labelled incidents")
	f.StringVar(&out.TCP, "tcp", "", "send syslog over TCP to host:port")
	f.StringVar(&out.UDP, "udp", "", "send syslog over UDP to host:port")
	f.StringVar(&out.Framing, "framing", "octet", "TCP framing: octet (RFC 6587 octet counting) or newline")
	f.StringVar(&out.OutDir, "out-dir", "", "write log files (Squid access.log with rotation, …) under this directory")
	f.StringVar(&out.Truth, "truth", "", "write the ground truth (incident → kind → line ids) as JSON Lines to this file")
	return cmd
}
