package clickhouse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// childEnv carries the child's configuration (JSON childConfig) from StartEmbedded to
// RunChildIfRequested in the re-executed program.
const childEnv = "ZONEWATCH_CLICKHOUSE_CHILD"

type childConfig struct {
	Lib       string   `json:"lib"`
	Args      []string `json:"args"`
	ParentPID int      `json:"parent_pid"`
	HTTPAddr  string   `json:"http_addr"` // where the child asks itself to stop serving
}

// RunChildIfRequested must be the first call in main() of every program that uses
// StartEmbedded, and in TestMain of their test packages (chtest.Main does it). When the process
// was started as an embedded ClickHouse child it serves until killed and exits; otherwise it
// returns at once.
func RunChildIfRequested() {
	raw, ok := os.LookupEnv(childEnv)
	if !ok {
		return
	}
	_ = os.Unsetenv(childEnv) // not for anything ClickHouse itself may start
	os.Exit(runChild(raw))
}

func runChild(raw string) int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: bad %s: %v\n", childEnv, err)
		return 2
	}
	// clickhouse-local keeps per-thread state on the calling thread; keep the call on one thread.
	runtime.LockOSThread()
	go watchParent(cfg.ParentPID)
	serve, resultError, err := loadQueryCmdline(cfg.Lib)
	if err != nil {
		fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: %v\n", err)
		return 2
	}
	var stopping atomic.Bool
	go stopOnSignal(cfg.HTTPAddr, &stopping)
	argv, keep := cStringArray(append([]string{"clickhouse"}, cfg.Args...))
	res := serve(int32(len(keep)), &argv[0])
	runtime.KeepAlive(keep)
	if stopping.Load() {
		fmt.Fprintln(os.Stderr, "zonewatch: embedded ClickHouse child: stopped")
		return 0
	}
	// The serving query blocks for years, so any other return is a failure; ClickHouse has
	// already printed the reason to stderr, which is the log the parent quotes.
	msg := ""
	if res != 0 {
		msg = resultError(res)
	}
	fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: chdb_query_cmdline returned (error %q): the server is not serving\n", msg)
	return 1
}

// stopOnSignal turns SIGTERM or SIGINT into a graceful stop: cancelling the serving query makes
// clickhouse-local finish the queries in flight (an insert completes) and return. Left to the
// Go runtime, SIGTERM would end the process at once. A second signal exits at once.
func stopOnSignal(httpAddr string, stopping *atomic.Bool) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	sig := <-sigs
	stopping.Store(true)
	fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: %v: stopping\n", sig)
	if err := killServeQuery(httpAddr); err != nil {
		fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: graceful stop failed (%v): exiting now\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: asked the server to stop\n")
	sig = <-sigs
	fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: %v again: exiting now\n", sig)
	os.Exit(1)
}

func killServeQuery(httpAddr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q := "KILL QUERY WHERE query_id = '" + serveQueryID + "' ASYNC FORMAT Null"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+httpAddr+"/", strings.NewReader(q))
	if err != nil {
		return err
	}
	// No keep-alive: an idle connection to itself would hold up the shutdown.
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

type (
	queryCmdlineFunc func(argc int32, argv **byte) uintptr // chdb_result *chdb_query_cmdline(int, char **)
	resultErrorFunc  func(result uintptr) string           // const char *chdb_result_error(chdb_result *)
)

// cStringArray builds a NULL-terminated char*[] over NUL-terminated copies of ss. The Go GC
// does not move heap objects, so the pointers stay valid while keep is alive.
func cStringArray(ss []string) (argv []*byte, keep [][]byte) {
	argv = make([]*byte, len(ss)+1)
	keep = make([][]byte, len(ss))
	for i, s := range ss {
		keep[i] = append([]byte(s), 0)
		argv[i] = &keep[i][0]
	}
	return argv, keep
}

// watchParent ends the child when its parent is gone. On Linux Pdeathsig already does that;
// this also covers a parent that died between fork and the prctl, and other systems.
func watchParent(ppid int) {
	for range time.Tick(time.Second) {
		if os.Getppid() == ppid {
			continue
		}
		fmt.Fprintf(os.Stderr, "zonewatch: embedded ClickHouse child: parent %d is gone, shutting down\n", ppid)
		if self, err := os.FindProcess(os.Getpid()); err == nil {
			_ = self.Signal(syscall.SIGTERM)
		}
		time.Sleep(15 * time.Second)
		os.Exit(1)
	}
}
