// Package tail follows proxy log files (Squid access.log, i-FILTER, InterSafe) the way logrotate leaves
// them: it keeps reading a rotated file to its end before it moves to the new one, starts again from the
// top of a truncated file, and remembers how far it got, so that a restart neither loses nor repeats a line.
//
// The offset is saved only after JetStream has acknowledged every line before it. A crash between the
// acknowledgement and the save repeats at most one batch: those lines get the same event ids again
// (derived from the file's identity and the line's offset), which JetStream's duplicate window and the
// events table's ReplacingMergeTree collapse.
package tail

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"
	"time"
)

// Line is one line of a followed file.
type Line struct {
	Text   string
	Offset int64  // of the line's first byte in its file
	ID     string // stable for this file and offset: the event id
}

// Handler takes a batch of lines; it returns once they are safely stored (published and acknowledged).
type Handler func(ctx context.Context, lines []Line) error

// Options configure a Follower.
type Options struct {
	Name    string // the input's name: keys the saved offset
	Path    string
	State   *State
	Handler Handler
	// Poll is how often the file is checked for more lines and for rotation.
	Poll     time.Duration
	MaxBatch int
	// MaxLine caps one line; the rest of a longer line is skipped (and the cut line still handled).
	MaxLine int
	// RotateWait is how long a rotated file is still read after the last line it gave: a program that
	// logrotate's "create" rotated keeps writing to the old file until it reopens its log (squid -k
	// rotate, a HUP), and those lines must not be lost. Lines of the new file wait meanwhile. Default 5s.
	RotateWait time.Duration
	Logger     *slog.Logger
}

// Follower follows one file.
type Follower struct {
	o   Options
	f   *os.File
	r   *bufio.Reader
	ino uint64
	dev uint64
	off int64
	// rotated is when the path was first seen naming another file than the one open; lastRead is when
	// the open file last gave lines. Together they decide when the old file is finished.
	rotated, lastRead time.Time
}

// New makes a Follower; Run starts it.
func New(o Options) *Follower {
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 2000
	}
	if o.MaxLine <= 0 {
		o.MaxLine = 64 << 10
	}
	if o.RotateWait <= 0 {
		o.RotateWait = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Follower{o: o}
}

// Run follows the file until ctx ends. A missing file is waited for.
func (fl *Follower) Run(ctx context.Context) error {
	defer fl.close()
	tick := time.NewTicker(fl.o.Poll)
	defer tick.Stop()
	for {
		if err := fl.step(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fl.o.Logger.Warn("following a file failed; retrying", "input", fl.o.Name, "path", fl.o.Path, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// step opens the file if needed, reads what is there, and handles rotation and truncation.
func (fl *Follower) step(ctx context.Context) error {
	if fl.f == nil {
		if err := fl.open(); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
	}
	if err := fl.drain(ctx); err != nil {
		return err
	}
	st, err := os.Stat(fl.o.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil // rotated away and not yet recreated: keep what we have open
	case err != nil:
		return err
	}
	dev, ino := ids(st)
	if dev != fl.dev || ino != fl.ino {
		// Rotated. The old file was read to its end above, but its writer may not have reopened its log
		// yet: keep reading it until it has been quiet for RotateWait, then move to the new one at 0.
		now := time.Now()
		if fl.rotated.IsZero() {
			fl.rotated = now
			fl.o.Logger.Info("log file rotated; finishing the old file first", "input", fl.o.Name, "path", fl.o.Path, "wait", fl.o.RotateWait)
		}
		if now.Sub(maxTime(fl.rotated, fl.lastRead)) < fl.o.RotateWait {
			return nil
		}
		fl.o.Logger.Info("log file rotated: reading the new file", "input", fl.o.Name, "path", fl.o.Path)
		fl.rotated = time.Time{}
		fl.close()
		if err := fl.o.State.Set(fl.o.Name, Position{Dev: dev, Inode: ino, Offset: 0}); err != nil {
			return err
		}
		return fl.step(ctx)
	}
	if st.Size() < fl.off {
		fl.o.Logger.Warn("log file truncated: reading it again from the start", "input", fl.o.Name, "path", fl.o.Path, "size", st.Size(), "offset", fl.off)
		if _, err := fl.f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		fl.off = 0
		fl.r.Reset(fl.f)
		return fl.drain(ctx)
	}
	return nil
}

func (fl *Follower) open() error {
	f, err := os.Open(fl.o.Path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	dev, ino := ids(st)
	off := int64(0)
	if pos, ok := fl.o.State.Get(fl.o.Name); ok && pos.Dev == dev && pos.Inode == ino && pos.Offset <= st.Size() {
		off = pos.Offset
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	fl.f, fl.dev, fl.ino, fl.off = f, dev, ino, off
	fl.r = bufio.NewReaderSize(f, 256<<10)
	return nil
}

func (fl *Follower) close() {
	if fl.f != nil {
		_ = fl.f.Close()
		fl.f = nil
	}
}

// drain reads every complete line now in the file, in batches; a partial last line waits for its end.
func (fl *Follower) drain(ctx context.Context) error {
	for {
		batch, next, err := fl.readBatch()
		if len(batch) > 0 {
			if herr := fl.o.Handler(ctx, batch); herr != nil {
				// Not stored: go back and read these lines again next time.
				if _, serr := fl.f.Seek(fl.off, io.SeekStart); serr != nil {
					return errors.Join(herr, serr)
				}
				fl.r.Reset(fl.f)
				return herr
			}
			fl.off = next
			fl.lastRead = time.Now()
			if err := fl.o.State.Set(fl.o.Name, Position{Dev: fl.dev, Inode: fl.ino, Offset: next}); err != nil {
				return err
			}
		}
		if err != nil || len(batch) < fl.o.MaxBatch {
			return err
		}
	}
}

func (fl *Follower) readBatch() (batch []Line, next int64, err error) {
	next = fl.off
	for len(batch) < fl.o.MaxBatch {
		text, consumed, err := fl.readLine()
		if err != nil {
			// io.EOF with a partial line: unread it by seeking back to its start.
			if errors.Is(err, io.EOF) {
				if _, serr := fl.f.Seek(next, io.SeekStart); serr != nil {
					return batch, next, serr
				}
				fl.r.Reset(fl.f)
				return batch, next, nil
			}
			return batch, next, err
		}
		start := next
		next += int64(consumed)
		if len(text) == 0 {
			continue
		}
		batch = append(batch, Line{Text: string(text), Offset: start, ID: lineID(fl.dev, fl.ino, start)})
	}
	return batch, next, nil
}

// readLine reads one whole line; it keeps at most MaxLine bytes of it and says how many bytes it consumed.
func (fl *Follower) readLine() (text []byte, consumed int, err error) {
	var long []byte
	for {
		chunk, err := fl.r.ReadSlice('\n')
		consumed += len(chunk)
		if long == nil && !errors.Is(err, bufio.ErrBufferFull) {
			return clip(trimEOL(chunk), fl.o.MaxLine), consumed, err
		}
		if len(long) <= fl.o.MaxLine {
			long = append(long, chunk...)
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return clip(trimEOL(long), fl.o.MaxLine), consumed, err
		}
	}
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// lineID is the event id of the line at off in the file (dev, ino): the same line always gets the same id.
func lineID(dev, ino uint64, off int64) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%d:%d:%d", dev, ino, off))
	return hex.EncodeToString(h[:16])
}

func ids(st os.FileInfo) (dev, ino uint64) {
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return uint64(s.Dev), s.Ino
	}
	return 0, 0
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
