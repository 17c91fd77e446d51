package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/zonewatch/zonewatch/ingest/listen"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
	"github.com/zonewatch/zonewatch/ingest/tail"
	"github.com/zonewatch/zonewatch/ingest/writer"
	"github.com/zonewatch/zonewatch/internal/config"
	"github.com/zonewatch/zonewatch/internal/natsbus"
	"github.com/zonewatch/zonewatch/query"
	"github.com/zonewatch/zonewatch/query/api"
)

func newServe(g *globals) *cobra.Command {
	var ready, role, apiListen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the pipeline: syslog listeners → NATS JetStream → ClickHouse, with /metrics",
		Long: `Run the pipeline until SIGINT or SIGTERM. With no nats.urls an embedded NATS JetStream server runs
inside zonewatch; with no clickhouse.addr the embedded ClickHouse runs as a child process. On SIGTERM the
listeners close, every message already accepted is flushed to JetStream, and what the writer had not yet
stored stays there for the next start.

--role runs part of the pipeline, so that each part can be scaled and placed on its own: ingest
(listeners, files → JetStream), writer (JetStream → ClickHouse, retention), rules (detection), api (the
query API); comma-separated, default all (or $ZONEWATCH_ROLE). Split roles meet on an external NATS
(nats.urls) and ClickHouse (clickhouse.addr). Every process serves /metrics and /healthz.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.config, nil)
			if err != nil {
				return err
			}
			roles, err := parseRoles(role)
			if err != nil {
				return err
			}
			if apiListen != "" {
				cfg.API.Listen = apiListen
			}
			return serveRoles(cmd.Context(), cfg, g.logger(), ready, roles)
		},
	}
	cmd.Flags().StringVar(&ready, "ready-file", "", "write the bound addresses to this file once everything is listening (for scripts and tests)")
	cmd.Flags().StringVar(&role, "role", defaultRoles(), "what this process runs: all, or a comma-separated list of ingest, writer, rules, api (env ZONEWATCH_ROLE)")
	cmd.Flags().StringVar(&apiListen, "api-listen", "", "host:port for /metrics, /healthz and the API, overriding api.listen (one per process when roles share a host)")
	return cmd
}

// serveRoles runs the given roles until ctx ends.
func serveRoles(ctx context.Context, cfg *config.Config, log *slog.Logger, readyFile string, roles roleSet) error {
	if err := roles.check(cfg); err != nil {
		return err
	}
	cfg = roles.trim(cfg)
	log.Info("starting", "roles", roles.String())
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	chConn, emb, stopCH, err := roles.openClickHouse(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer stopCH()
	nc, js, stopNATS, err := roles.openNATS(ctx, cfg, log, "zonewatch-serve-"+roles.String())
	if err != nil {
		return err
	}
	defer stopNATS()

	zones, err := cfg.ZoneMap()
	if err != nil {
		return err
	}
	parsers, err := newParsers(cfg.Parse)
	if err != nil {
		return err
	}
	loc, _ := time.LoadLocation(cfg.TimeZone)
	metrics := pipeline.NewMetrics(reg)
	pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: js, Metrics: metrics, Logger: log})
	ing := pipeline.NewIngestorWith(pipeline.IngestorOptions{
		Normaliser: pipeline.NormaliserOptions{Zones: zones, Parsers: parsers, Location: loc},
		Publisher:  pub, Metrics: metrics,
		Workers: cfg.Ingest.Workers, BatchLines: cfg.Ingest.BatchLines,
	})

	var listeners []*listen.Listener
	for _, lc := range cfg.Listeners {
		tlsCfg, err := listenerTLS(lc)
		if err != nil {
			return err
		}
		l, err := listen.Listen(listen.Options{Name: lc.Name, Protocol: lc.Protocol, Address: lc.Address,
			MaxMessageBytes: lc.MaxMessageBytes, MaxConnections: lc.MaxConnections, ReceiveBufferBytes: lc.ReceiveBufferBytes, TLS: tlsCfg,
			NewSink: func() listen.Sink { return ing.BatchSink(lc.Name) }, Metrics: metrics, Logger: log})
		if err != nil {
			return err
		}
		listeners = append(listeners, l)
		log.Info("listening for syslog", "listener", lc.Name, "protocol", lc.Protocol, "address", l.Addr().String())
	}

	followers, err := fileFollowers(cfg, ing, js, metrics, log)
	if err != nil {
		return err
	}

	var w *writer.Writer
	if roles.Writer {
		w, err = writer.New(ctx, writer.Options{JS: js, CH: chConn, Database: cfg.ClickHouse.Database,
			BatchSize: cfg.Writer.BatchSize, FlushInterval: cfg.Writer.FlushInterval.Duration, AckWait: cfg.NATS.AckWait.Duration,
			Logger: log, Registerer: reg})
		if err != nil {
			return err
		}
	}
	runner, err := rulesStage(ctx, cfg, js, chConn, reg, log)
	if err != nil {
		return err
	}
	ret := retention(cfg, log)
	if err := ret.Validate(); err != nil {
		return err
	}

	api, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return fmt.Errorf("api.listen %s: %w", cfg.API.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := health(r.Context(), chConn, nc); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Go's profiler, as Prometheus and most Go servers offer it: the API listens on loopback by default.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	if roles.API {
		apiHandler, err := queryAPI(cfg, chConn, log, loadedRules(cfg, runner))
		if err != nil {
			return err
		}
		mux.Handle("/api/", apiHandler)
	}
	httpSrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("HTTP API and /metrics", "address", api.Addr().String())

	// Listeners stop first (on ctx), the writer last, so that what is accepted is in JetStream before exit.
	listenCtx, stopListening := context.WithCancel(context.Background())
	writerCtx, stopWriter := context.WithCancel(context.Background())
	defer stopListening()
	defer stopWriter()
	var wg sync.WaitGroup
	errc := make(chan error, len(listeners)+len(followers)+3)
	for _, l := range listeners {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- l.Serve(listenCtx) }()
	}
	for _, f := range followers {
		wg.Add(1)
		go func() { defer wg.Done(); errc <- f.Run(listenCtx) }()
	}
	if roles.Writer {
		// On a cluster, each node drops the months of its own local tables.
		nodes, closeNodes, err := retentionNodes(ctx, cfg, chConn, ret)
		if err != nil {
			return err
		}
		defer func() { stopWriter(); closeNodes() }()
		for _, n := range nodes {
			go n.ret.Run(writerCtx, n.conn, cfg.Retention.Interval.Duration)
		}
	}
	rulesDone := make(chan struct{})
	go func() {
		defer close(rulesDone)
		if runner != nil {
			errc <- runner.Run(writerCtx)
		}
	}()
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		if w != nil {
			errc <- w.Run(writerCtx)
		}
	}()
	go func() {
		if err := httpSrv.Serve(api); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	if readyFile != "" {
		if err := writeReady(readyFile, listeners, api.Addr(), emb); err != nil {
			return err
		}
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("stopping: closing listeners, flushing to JetStream")
	case runErr = <-errc:
		log.Error("stopping after an error", "err", runErr)
	}
	stopListening()
	wg.Wait()
	fctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := pub.Close(fctx); err != nil {
		log.Error("some accepted messages could not be stored in JetStream", "err", err)
	}
	cancel()
	// Give the writer one flush interval to store what just arrived; the rest waits in JetStream.
	if w != nil {
		time.Sleep(cfg.Writer.FlushInterval.Duration + 200*time.Millisecond)
	}
	stopWriter()
	<-writerDone
	<-rulesDone
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = httpSrv.Shutdown(sctx)
	cancel()
	log.Info("stopped")
	return runErr
}

// listenerTLS builds a TLS listener's configuration (RFC 5425): its certificate, and with a CA, client
// certificates required and checked against it.
func listenerTLS(lc config.Listener) (*tls.Config, error) {
	if lc.Protocol != "tls" {
		return nil, nil
	}
	cfg, err := natsbus.TLSConfig(lc.TLS.CA, lc.TLS.Cert, lc.TLS.Key, false)
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", lc.Name, err)
	}
	cfg.RootCAs = nil
	if cfg.ClientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// fileFollowers makes one follower per configured file, each with a publisher of its own so that it can
// wait for its own lines' acknowledgements before it saves its offset.
func fileFollowers(cfg *config.Config, ing *pipeline.Ingestor, js jetstream.JetStream, m *pipeline.Metrics, log *slog.Logger) ([]*tail.Follower, error) {
	if len(cfg.Files) == 0 {
		return nil, nil
	}
	state, err := tail.OpenState(filepath.Join(cfg.StateDir, "files.json"))
	if err != nil {
		return nil, err
	}
	var out []*tail.Follower
	for _, f := range cfg.Files {
		pub := pipeline.NewPublisher(pipeline.PublisherOptions{JS: js, Metrics: m, Logger: log, MaxInFlight: 4096})
		out = append(out, tail.New(tail.Options{Name: f.Name, Path: f.Path, State: state,
			Handler: ing.FileHandler(f.Name, f.Format, pub), Logger: log}))
		log.Info("following a log file", "input", f.Name, "path", f.Path, "format", f.Format)
	}
	return out, nil
}

// retention is the configured retention over the built-in defaults.
func retention(cfg *config.Config, log *slog.Logger) writer.Retention {
	months := writer.DefaultRetentionMonths()
	for table, m := range cfg.Retention.Months {
		months[table] = m
	}
	return writer.Retention{Database: cfg.ClickHouse.Database, Months: months, Logger: log}
}

// queryAPI is the query HTTP API: tokens from the configured file or the api_tokens table, every query
// audited into the audit table, the hourly rollup used where it can answer; rules (may be nil) describes
// the loaded rules for /api/v1/rules.
func queryAPI(cfg *config.Config, conn driver.Conn, log *slog.Logger, rules func() []api.RuleInfo) (http.Handler, error) {
	eng, err := query.New(query.Options{Conn: conn, Database: cfg.ClickHouse.Database, Sources: query.Rollups(), Logger: log})
	if err != nil {
		return nil, err
	}
	var auth api.Authenticator = &api.TableTokens{Conn: conn, Database: cfg.ClickHouse.Database}
	if cfg.API.TokensFile != "" {
		if auth, err = api.ReadTokenFile(cfg.API.TokensFile); err != nil {
			return nil, fmt.Errorf("api.tokens_file: %w", err)
		}
	}
	return api.NewHandler(api.Options{Engine: eng, Auth: auth, Audit: &api.TableAudit{Conn: conn, Database: cfg.ClickHouse.Database}, Logger: log, Rules: rules})
}
