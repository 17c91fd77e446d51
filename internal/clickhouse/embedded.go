// Package clickhouse holds zonewatch's ClickHouse plumbing: connections, schema migrations (for one
// server, or laid out for a cluster: local tables on every node and Distributed tables under the
// public names, applied node by node; the design is described at the top of cluster.go) and an
// embedded ClickHouse server for development and tests.
//
// The embedded server is the ClickHouse engine shipped by chDB as libchdb.so (clickhouse-local as a
// library), run as a child process that serves the native and HTTP protocols on loopback. It is a
// test and quick-start convenience, not a production server: a malformed packet on its native port
// aborts it, so it only ever listens on loopback and is probed over HTTP.
package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ChdbVersion is the libchdb release deploy/setup.sh installs and DefaultLibPath points at.
const ChdbVersion = "26.7.3-stable.1"

// LibEnv names the environment variable that overrides the path of libchdb.so.
const LibEnv = "ZONEWATCH_CHDB_LIB"

// logFileName is the file in the data directory that receives the child's stdout and stderr.
const logFileName = "zonewatch-clickhouse.log"

// configFileName is the file in the data directory that holds EmbeddedOptions.ConfigXML.
const configFileName = "zonewatch-clickhouse.xml"

var (
	// ErrLibraryMissing reports that libchdb.so is not where it was looked for.
	ErrLibraryMissing = errors.New("embedded ClickHouse library (libchdb.so) not found")
	// ErrDataDirInUse reports that another ClickHouse process holds the data directory.
	ErrDataDirInUse = errors.New("data directory is in use by another ClickHouse server")
	// errPortInUse reports that a port picked for the child was taken by someone else meanwhile.
	errPortInUse = errors.New("port already in use")
)

// EmbeddedOptions configures StartEmbedded. Zero values pick the documented defaults.
type EmbeddedOptions struct {
	// LibPath is the path of libchdb.so; default DefaultLibPath().
	LibPath string
	// DataDir holds the databases and the server log; required. It survives restarts.
	DataDir string
	// TCPPort and HTTPPort are the native and HTTP ports; 0 picks free ones once at start, and
	// restarts keep them so clients can reconnect.
	TCPPort, HTTPPort int
	// ListenHost is the address to bind; default 127.0.0.1. Keep it on loopback.
	ListenHost string
	// Logger receives life cycle events; default discards.
	Logger *slog.Logger
	// RestartOnExit restarts the child, with backoff, when it exits without Stop being called.
	RestartOnExit bool
	// StartTimeout bounds each start until /ping answers; default 60s.
	StartTimeout time.Duration
	// StopTimeout is how long Stop waits after SIGTERM before SIGKILL; default 10s.
	StopTimeout time.Duration
	// ConfigXML is extra server configuration, the elements inside <clickhouse>…</clickhouse>, e.g.
	// remote_servers and macros for a cluster (see ClusterConfigXML). It is written to
	// zonewatch-clickhouse.xml in DataDir and passed as --config-file; ports, listen host and path
	// given above still win. Empty: no configuration file.
	ConfigXML string
}

// Embedded is a running embedded ClickHouse server (a supervised child process).
type Embedded struct {
	opts    EmbeddedOptions
	logger  *slog.Logger
	logPath string
	http    *http.Client
	stopCh  chan struct{} // closed by Stop: ends backoff waits
	stopOne sync.Once     // closes stopCh
	doneCh  chan struct{} // closed when the supervisor has returned

	mu       sync.Mutex
	cur      *child // nil while no child runs
	stopping bool
	restarts int
	lastErr  error // why the last child exited, when it was not restarted
}

// DefaultLibPath returns $ZONEWATCH_CHDB_LIB, or else the path deploy/setup.sh installs to:
// ${XDG_CACHE_HOME:-$HOME/.cache}/zonewatch/chdb/<ChdbVersion>/libchdb.so.
func DefaultLibPath() string {
	if p := os.Getenv(LibEnv); p != "" {
		return p
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "zonewatch", "chdb", ChdbVersion, "libchdb.so")
}

// CheckLib reports, with a remedy, whether libchdb.so exists at path (DefaultLibPath when empty).
func CheckLib(path string) error {
	if path == "" {
		path = DefaultLibPath()
	}
	st, err := os.Stat(path)
	if err == nil && st.Mode().IsRegular() && st.Size() > 0 {
		return nil
	}
	return fmt.Errorf("%w at %s: run ./deploy/setup.sh to fetch it (chDB %s), or set %s to its path",
		ErrLibraryMissing, path, ChdbVersion, LibEnv)
}

// StartEmbedded starts an embedded ClickHouse server in a child process and returns once it
// answers HTTP /ping; ctx bounds the start only (end the server with Stop). The program must call
// RunChildIfRequested first thing in main (or TestMain), because the child is this executable
// run again.
func StartEmbedded(ctx context.Context, opts EmbeddedOptions) (*Embedded, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Embedded{
		opts:    opts,
		logger:  opts.Logger,
		logPath: filepath.Join(opts.DataDir, logFileName),
		// Loopback only: never go through a proxy from the environment.
		http:   &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}},
		stopCh: make(chan struct{}),
		doneCh: make(chan struct{}),
	}
	rotateLog(e.logPath)
	if err := e.writeConfig(); err != nil {
		return nil, err
	}
	c, err := e.startFirst(ctx)
	if err != nil {
		return nil, err
	}
	e.cur = c
	go e.supervise(c)
	return e, nil
}

func (o EmbeddedOptions) withDefaults() (EmbeddedOptions, error) {
	if o.LibPath == "" {
		o.LibPath = DefaultLibPath()
	}
	if err := CheckLib(o.LibPath); err != nil {
		return o, fmt.Errorf("clickhouse: start embedded server: %w", err)
	}
	if o.DataDir == "" {
		return o, errors.New("clickhouse: start embedded server: EmbeddedOptions.DataDir is empty: give a directory for the databases")
	}
	dir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return o, fmt.Errorf("clickhouse: start embedded server: data dir %q: %w", o.DataDir, err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return o, fmt.Errorf("clickhouse: start embedded server: create data dir %s: %w", dir, err)
	}
	o.DataDir = dir
	if o.ListenHost == "" {
		o.ListenHost = "127.0.0.1"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Second
	}
	if ip := net.ParseIP(o.ListenHost); ip == nil || !ip.IsLoopback() {
		o.Logger.Warn("embedded ClickHouse listens beyond loopback: a malformed packet on its native port aborts it", "listen_host", o.ListenHost)
	}
	return o, nil
}

// startFirst starts the first child. Ports picked here (0 in the options) may be grabbed by
// another process between picking and binding, so that case is retried with fresh ports.
func (e *Embedded) startFirst(ctx context.Context) (*child, error) {
	wantTCP, wantHTTP := e.opts.TCPPort, e.opts.HTTPPort
	for attempt := 1; ; attempt++ {
		if err := e.pickPorts(wantTCP, wantHTTP); err != nil {
			return nil, err
		}
		c, err := e.startChild(ctx)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, errPortInUse) || (wantTCP != 0 && wantHTTP != 0) || attempt == 3 {
			return nil, err
		}
		e.logger.Info("embedded ClickHouse: port taken meanwhile, picking others", "err", err)
	}
}

// pickPorts replaces zero ports with free ones. The listeners stay open until both are picked,
// so the two never get the same port.
func (e *Embedded) pickPorts(tcp, http int) error {
	for _, p := range []*int{&tcp, &http} {
		if *p != 0 {
			continue
		}
		l, lerr := net.Listen("tcp", net.JoinHostPort(e.opts.ListenHost, "0"))
		if lerr != nil {
			return fmt.Errorf("clickhouse: start embedded server: pick a free port on %s: %w", e.opts.ListenHost, lerr)
		}
		defer l.Close()
		*p = l.Addr().(*net.TCPAddr).Port
	}
	e.opts.TCPPort, e.opts.HTTPPort = tcp, http
	return nil
}

// rotateLog keeps the child log from growing without bound across many restarts.
func rotateLog(path string) {
	if st, err := os.Stat(path); err == nil && st.Size() > 64<<20 {
		_ = os.Rename(path, path+".1")
	}
}

// NativeAddr is host:port of the native protocol, for ConnOptions.Addr.
func (e *Embedded) NativeAddr() string {
	return net.JoinHostPort(e.opts.ListenHost, strconv.Itoa(e.opts.TCPPort))
}

// HTTPAddr is host:port of the HTTP interface.
func (e *Embedded) HTTPAddr() string {
	return net.JoinHostPort(e.opts.ListenHost, strconv.Itoa(e.opts.HTTPPort))
}

// DataDir is the absolute data directory.
func (e *Embedded) DataDir() string { return e.opts.DataDir }

// LogPath is the file that receives the child's stdout and stderr.
func (e *Embedded) LogPath() string { return e.logPath }

// PID is the process id of the current child, or 0 while none runs.
func (e *Embedded) PID() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur == nil {
		return 0
	}
	return e.cur.pid
}

// Restarts counts the automatic restarts after unexpected exits.
func (e *Embedded) Restarts() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.restarts
}

// Err is why the child exited when it was not restarted (RestartOnExit false), else nil.
func (e *Embedded) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// Version asks the server for its version (SELECT version()) over HTTP.
func (e *Embedded) Version(ctx context.Context) (string, error) {
	body, err := e.get(ctx, "/?query=SELECT%20version()")
	if err != nil {
		return "", fmt.Errorf("clickhouse: embedded server version: %w", err)
	}
	return strings.TrimSpace(body), nil
}

// WaitReady waits until the server answers /ping, for example after Kill with RestartOnExit.
func (e *Embedded) WaitReady(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		if err := e.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("clickhouse: embedded server at %s not ready: %w", e.HTTPAddr(), ctx.Err())
		case <-e.doneCh:
			return fmt.Errorf("clickhouse: embedded server at %s not ready: it was stopped or exited for good", e.HTTPAddr())
		case <-t.C:
		}
	}
}

func (e *Embedded) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	body, err := e.get(ctx, "/ping")
	if err == nil && strings.TrimSpace(body) != "Ok." {
		err = fmt.Errorf("unexpected /ping answer %q", body)
	}
	return err
}

func (e *Embedded) get(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+e.HTTPAddr()+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

// Stop ends the server: SIGTERM, on which the child cancels its serving query and ClickHouse
// finishes the queries in flight (about 1s; up to 5s more while clients keep connections open,
// so close pools first), then SIGKILL after StopTimeout or when ctx ends. It returns an error
// when the child had to be killed. Stop is safe to call more than once.
func (e *Embedded) Stop(ctx context.Context) error {
	e.mu.Lock()
	e.stopping = true
	c := e.cur
	e.mu.Unlock()
	e.closeStop()
	var err error
	if c != nil {
		err = c.terminate(ctx, e.opts.StopTimeout)
	}
	<-e.doneCh
	if err != nil {
		return fmt.Errorf("clickhouse: stop embedded server (pid %d, data dir %s): %w", c.pid, e.opts.DataDir, err)
	}
	e.logger.Info("embedded ClickHouse stopped", "data_dir", e.opts.DataDir)
	return nil
}

func (e *Embedded) closeStop() { e.stopOne.Do(func() { close(e.stopCh) }) }

// Kill sends SIGKILL to the current child, as an outage would. With RestartOnExit the server
// comes back; see Restarts and WaitReady.
func (e *Embedded) Kill() error {
	e.mu.Lock()
	c := e.cur
	e.mu.Unlock()
	if c == nil {
		return errors.New("clickhouse: kill embedded server: no child process is running")
	}
	if err := c.proc.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("clickhouse: kill embedded server pid %d: %w", c.pid, err)
	}
	return nil
}
