package clickhouse

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is one run of the server process.
type child struct {
	proc      *os.Process
	pid       int
	started   time.Time
	logOffset int64         // where this run's output begins in the log file
	done      chan struct{} // closed once the process has been reaped
	err       error         // the exit status, valid after done
}

// serveQueryID names the serving query, so that the child can cancel it to stop gracefully.
const serveQueryID = "zonewatch-serve"

// serveQuery opens the listeners, then blocks for as long as ClickHouse lets a query run
// (about three years), which is what keeps clickhouse-local serving.
const serveQuery = "SYSTEM START LISTEN TCP; SYSTEM START LISTEN HTTP; " +
	"SELECT sleepEachRow(1) FROM numbers(100000000) SETTINGS max_block_size=1, max_execution_time=0 FORMAT Null"

func (e *Embedded) childArgs() []string {
	var args []string
	if e.opts.ConfigXML != "" {
		args = append(args, "--config-file="+e.configPath())
	}
	return append(args,
		"--path="+e.opts.DataDir,
		"--tcp_port="+strconv.Itoa(e.opts.TCPPort),
		"--http_port="+strconv.Itoa(e.opts.HTTPPort),
		"--listen_host="+e.opts.ListenHost,
		"--query_id="+serveQueryID,
		"--query="+serveQuery,
	)
}

// configPath is where ConfigXML is written for the child.
func (e *Embedded) configPath() string { return filepath.Join(e.opts.DataDir, configFileName) }

// writeConfig writes ConfigXML (when set) for the child's --config-file.
func (e *Embedded) writeConfig() error {
	if e.opts.ConfigXML == "" {
		return nil
	}
	body := "<clickhouse>\n" + e.opts.ConfigXML + "\n</clickhouse>\n"
	if err := os.WriteFile(e.configPath(), []byte(body), 0o640); err != nil {
		return fmt.Errorf("clickhouse: start embedded server: write its configuration file: %w", err)
	}
	return nil
}

// startChild spawns a child and waits until it answers /ping; on failure the child is gone
// and the error quotes the end of its log.
func (e *Embedded) startChild(ctx context.Context) (*child, error) {
	t0 := time.Now()
	c, err := e.spawn()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.StartTimeout)
	defer cancel()
	if err := e.waitChildReady(ctx, c); err != nil {
		_ = c.proc.Signal(syscall.SIGKILL)
		<-c.done
		return nil, e.childError("start embedded server", c, err)
	}
	e.logger.Info("embedded ClickHouse ready", "pid", c.pid, "native", e.NativeAddr(), "http", e.HTTPAddr(),
		"data_dir", e.opts.DataDir, "took", time.Since(t0).Round(time.Millisecond))
	return c, nil
}

func (e *Embedded) spawn() (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("clickhouse: start embedded server: find own executable to run as the child: %w", err)
	}
	cfg, err := json.Marshal(childConfig{Lib: e.opts.LibPath, Args: e.childArgs(), ParentPID: os.Getpid(), HTTPAddr: e.HTTPAddr()})
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(e.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: start embedded server: open its log: %w", err)
	}
	off, _ := logf.Seek(0, io.SeekEnd)
	fmt.Fprintf(logf, "--- %s zonewatch: starting embedded ClickHouse (native %s, http %s)\n",
		time.Now().UTC().Format(time.RFC3339), e.NativeAddr(), e.HTTPAddr())
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(cfg))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = e.opts.DataDir
	cmd.SysProcAttr = childSysProcAttr()
	return runChildProcess(cmd, logf, off)
}

// runChildProcess starts cmd on a goroutine locked to its OS thread for the child's whole life:
// Linux delivers Pdeathsig when the thread that forked the child ends, not the process.
func runChildProcess(cmd *exec.Cmd, logf *os.File, off int64) (*child, error) {
	c := &child{done: make(chan struct{}), logOffset: off}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer logf.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		c.proc, c.pid, c.started = cmd.Process, cmd.Process.Pid, time.Now()
		started <- nil
		c.err = cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("clickhouse: start embedded server: run %s: %w", cmd.Path, err)
	}
	return c, nil
}

func (e *Embedded) waitChildReady(ctx context.Context, c *child) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return fmt.Errorf("the child exited before it was ready (%v)", c.err)
		default:
		}
		if err := e.ping(ctx); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no answer on http://%s/ping: %w", e.HTTPAddr(), ctx.Err())
		case <-c.done:
		case <-t.C:
		}
	}
}

// childError explains a failed start or an exit with the tail of the child's log, and
// classifies the failures a caller can act on.
func (e *Embedded) childError(what string, c *child, cause error) error {
	tail := logTail(e.logPath, c.logOffset, 15)
	var kind error
	switch {
	case strings.Contains(tail, "Cannot lock file") || strings.Contains(tail, "Another server instance"):
		kind = fmt.Errorf("%w: stop the other server or choose another DataDir", ErrDataDirInUse)
	case strings.Contains(tail, "Address already in use"):
		kind = fmt.Errorf("%w (native %d / http %d): free it or choose other ports", errPortInUse, e.opts.TCPPort, e.opts.HTTPPort)
	default:
		kind = errors.New("see the log for the cause")
	}
	return fmt.Errorf("clickhouse: %s (pid %d, lib %s, data dir %s): %w: %w\nlast lines of %s:\n%s",
		what, c.pid, e.opts.LibPath, e.opts.DataDir, cause, kind, e.logPath, tail)
}

// logTail returns the last n lines written at or after offset in the file at path.
func logTail(path string, offset int64, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(log unreadable: " + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, "  "+sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if len(lines) == 0 {
		return "  (empty)"
	}
	return strings.Join(lines, "\n")
}

// terminate sends SIGTERM and waits; SIGKILL follows after timeout or when ctx ends.
func (c *child) terminate(ctx context.Context, timeout time.Duration) error {
	if err := c.proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("SIGTERM: %w", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-c.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = c.proc.Signal(syscall.SIGKILL)
	<-c.done
	return fmt.Errorf("still running %s after SIGTERM (or the context ended): killed with SIGKILL", timeout)
}
