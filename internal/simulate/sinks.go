package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// isSyslog reports whether a line travels as syslog.
func isSyslog(l *Line) bool { return l.Transport != TransportFile }

// Framings of a TCP syslog stream.
const (
	FramingOctet   = "octet"   // RFC 6587 octet counting: "<len> <frame>"
	FramingNewline = "newline" // non-transparent framing: "<frame>\n"
)

// TCPOptions configure a TCP syslog sender.
type TCPOptions struct {
	// Addr is host:port of the receiver.
	Addr string
	// Framing is octet (default) or newline.
	Framing string
	// DialTimeout bounds the connection attempt; 0 means 10s.
	DialTimeout time.Duration
	// BufferSize of the writer; 0 means 256 KiB.
	BufferSize int
	// Reconnect makes the sender behave like a device whose receiver
	// restarts: on a write error it drops what was buffered, dials again
	// with backoff (up to 5s between attempts) until the context ends, and
	// goes on. Without it the first error ends the run.
	Reconnect bool
}

// TCPSink sends syslog lines over one TCP connection; file lines are skipped.
type TCPSink struct {
	opts       TCPOptions
	conn       net.Conn
	w          *bufio.Writer
	octet      bool
	header     []byte
	lines      uint64
	reconnects uint64
}

// DialTCP connects to opts.Addr.
func DialTCP(ctx context.Context, opts TCPOptions) (*TCPSink, error) {
	octet := true
	switch opts.Framing {
	case "", FramingOctet:
	case FramingNewline:
		octet = false
	default:
		return nil, fmt.Errorf("tcp sink: framing %q: want octet or newline", opts.Framing)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.BufferSize <= 0 {
		opts.BufferSize = 256 << 10
	}
	s := &TCPSink{opts: opts, octet: octet}
	if err := s.dial(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *TCPSink) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: s.opts.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("tcp sink: dial %s: %w", s.opts.Addr, err)
	}
	s.conn = conn
	if s.w == nil {
		s.w = bufio.NewWriterSize(conn, s.opts.BufferSize)
	} else {
		s.w.Reset(conn)
	}
	return nil
}

// Send writes one framed syslog line.
func (s *TCPSink) Send(ctx context.Context, l *Line) error {
	if !isSyslog(l) {
		return nil
	}
	if s.octet {
		s.header = strconv.AppendInt(s.header[:0], int64(len(l.Wire)), 10)
		s.header = append(s.header, ' ')
		s.w.Write(s.header)
		s.w.Write(l.Wire)
	} else {
		s.w.Write(l.Wire)
		s.w.WriteByte('\n')
	}
	// bufio keeps the first write error and returns it from every later call.
	if _, err := s.w.Write(nil); err != nil {
		return s.fail(ctx, err, true)
	}
	s.lines++
	return nil
}

// fail handles a write error: report it, or (Reconnect mode) drop the
// buffered lines and dial again, retrying until ctx ends when persist is
// set, once otherwise.
func (s *TCPSink) fail(ctx context.Context, err error, persist bool) error {
	err = fmt.Errorf("tcp sink %s: %w", s.opts.Addr, err)
	if !s.opts.Reconnect {
		return err
	}
	s.conn.Close()
	backoff := 100 * time.Millisecond
	for {
		derr := s.dial(ctx)
		if derr == nil {
			s.reconnects++
			return nil
		}
		if !persist {
			return errors.Join(err, derr)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		if backoff *= 2; backoff > 5*time.Second {
			backoff = 5 * time.Second
		}
	}
}

// Flush pushes buffered lines to the connection.
func (s *TCPSink) Flush() error {
	if err := s.w.Flush(); err != nil {
		if s.opts.Reconnect {
			return s.fail(context.Background(), err, false)
		}
		return fmt.Errorf("tcp sink %s: flush: %w", s.opts.Addr, err)
	}
	return nil
}

// Lines is the number of lines written to the connection's buffer.
func (s *TCPSink) Lines() uint64 { return s.lines }

// Reconnects counts successful reconnections (Reconnect mode).
func (s *TCPSink) Reconnects() uint64 { return s.reconnects }

// Close flushes and closes the connection.
func (s *TCPSink) Close() error {
	var ferr error
	if err := s.w.Flush(); err != nil {
		ferr = fmt.Errorf("tcp sink %s: flush: %w", s.opts.Addr, err)
	}
	return errors.Join(ferr, s.conn.Close())
}

// UDPSink sends each syslog line as one datagram; file lines are skipped.
type UDPSink struct {
	conn net.Conn
}

// DialUDP prepares a UDP sender to addr (host:port).
func DialUDP(ctx context.Context, addr string) (*UDPSink, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udp sink: dial %s: %w", addr, err)
	}
	return &UDPSink{conn: conn}, nil
}

// Send writes one datagram. A receiver that is not listening yields
// "connection refused" on a later send; that is reported.
func (s *UDPSink) Send(_ context.Context, l *Line) error {
	if !isSyslog(l) {
		return nil
	}
	if _, err := s.conn.Write(l.Wire); err != nil {
		return fmt.Errorf("udp sink %s: %w", s.conn.RemoteAddr(), err)
	}
	return nil
}

// Close closes the socket.
func (s *UDPSink) Close() error { return s.conn.Close() }

// FileOptions configure a FileSink.
type FileOptions struct {
	// Dir receives <device>/access.log for every file-transport device
	// (Squid, i-FILTER).
	Dir string
	// MaxBytes rotates a log when it would grow beyond this size; 0 means
	// 64 MiB. Rotation follows Squid's scheme: access.log.0 is the newest
	// rotated file, up to access.log.<Keep-1>.
	MaxBytes int64
	// Keep is the number of rotated files kept; 0 means 5.
	Keep int
	// Syslog also writes every syslog line, one per line, to
	// <Dir>/syslog/<device>.log (a capture of what went on the wire).
	Syslog bool
}

// FileSink writes file-transport lines to per-device, rotating files.
type FileSink struct {
	opts  FileOptions
	files map[string]*rotatingFile
}

// NewFileSink creates opts.Dir if needed.
func NewFileSink(opts FileOptions) (*FileSink, error) {
	if opts.Dir == "" {
		return nil, errors.New("file sink: no directory")
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Keep <= 0 {
		opts.Keep = 5
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	return &FileSink{opts: opts, files: map[string]*rotatingFile{}}, nil
}

// Send appends the line to its device's file.
func (s *FileSink) Send(_ context.Context, l *Line) error {
	var path string
	if isSyslog(l) {
		if !s.opts.Syslog {
			return nil
		}
		path = filepath.Join(s.opts.Dir, "syslog", l.Device+".log")
	} else {
		path = filepath.Join(s.opts.Dir, l.Device, "access.log")
	}
	f, ok := s.files[path]
	if !ok {
		var err error
		if f, err = openRotating(path, s.opts.MaxBytes, s.opts.Keep); err != nil {
			return err
		}
		s.files[path] = f
	}
	return f.write(l.Wire)
}

// Flush writes buffered data to the files.
func (s *FileSink) Flush() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.flush())
	}
	return errors.Join(errs...)
}

// Close flushes and closes every file.
func (s *FileSink) Close() error {
	var errs []error
	for _, f := range s.files {
		errs = append(errs, f.close())
	}
	return errors.Join(errs...)
}

type rotatingFile struct {
	path     string
	max      int64
	keep     int
	f        *os.File
	w        *bufio.Writer
	size     int64
	rotation int
}

func openRotating(path string, max int64, keep int) (*rotatingFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	r := &rotatingFile{path: path, max: max, keep: keep}
	return r, r.open()
}

func (r *rotatingFile) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("file sink: %w", err)
	}
	r.f, r.size = f, st.Size()
	if r.w == nil {
		r.w = bufio.NewWriterSize(f, 64<<10)
	} else {
		r.w.Reset(f)
	}
	return nil
}

func (r *rotatingFile) write(line []byte) error {
	n := int64(len(line)) + 1
	if r.size > 0 && r.size+n > r.max {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	r.w.Write(line)
	if err := r.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("file sink %s: %w", r.path, err)
	}
	r.size += n
	return nil
}

// rotate renames access.log.(k) to .(k+1), access.log to access.log.0, and
// starts a new file, as "squid -k rotate" does.
func (r *rotatingFile) rotate() error {
	if err := r.close(); err != nil {
		return err
	}
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.keep-1))
	for k := r.keep - 2; k >= 0; k-- {
		old := fmt.Sprintf("%s.%d", r.path, k)
		if _, err := os.Stat(old); err == nil {
			if err := os.Rename(old, fmt.Sprintf("%s.%d", r.path, k+1)); err != nil {
				return fmt.Errorf("file sink: rotate: %w", err)
			}
		}
	}
	if err := os.Rename(r.path, r.path+".0"); err != nil {
		return fmt.Errorf("file sink: rotate: %w", err)
	}
	r.rotation++
	return r.open()
}

func (r *rotatingFile) flush() error {
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("file sink %s: %w", r.path, err)
	}
	return nil
}

func (r *rotatingFile) close() error {
	return errors.Join(r.flush(), r.f.Close())
}

// WriterSink writes every line's Wire plus a newline to w, whatever its
// transport (for stdout and golden files).
type WriterSink struct {
	w *bufio.Writer
}

// NewWriterSink wraps w.
func NewWriterSink(w io.Writer) *WriterSink { return &WriterSink{w: bufio.NewWriterSize(w, 64<<10)} }

// Send writes the line.
func (s *WriterSink) Send(_ context.Context, l *Line) error {
	s.w.Write(l.Wire)
	return s.w.WriteByte('\n')
}

// Flush flushes the buffer.
func (s *WriterSink) Flush() error { return s.w.Flush() }

// Close flushes; it does not close the underlying writer.
func (s *WriterSink) Close() error { return s.w.Flush() }

// DiscardSink counts and drops lines.
type DiscardSink struct {
	Lines, Bytes uint64
}

// Send counts the line.
func (s *DiscardSink) Send(_ context.Context, l *Line) error {
	s.Lines++
	s.Bytes += uint64(len(l.Wire))
	return nil
}

// Close does nothing.
func (s *DiscardSink) Close() error { return nil }

// MultiSink sends every line to each sink in order.
type MultiSink []Sink

// Send delivers to every sink, stopping at the first error.
func (m MultiSink) Send(ctx context.Context, l *Line) error {
	for _, s := range m {
		if err := s.Send(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// Flush flushes the sinks that buffer.
func (m MultiSink) Flush() error {
	var errs []error
	for _, s := range m {
		if f, ok := s.(Flusher); ok {
			errs = append(errs, f.Flush())
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink.
func (m MultiSink) Close() error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// TruthWriter is a sink that records which lines belong to which incident
// and, on Close, writes one JSON object per incident (ground truth, JSON
// Lines) to w:
//
//	{"incident":"INC-0005","kind":"port_scan","benign":false,"lines":[1201,1202,…],"start":"2026-11-02T14:03:11.021+09:00","end":"…","source_ip":"10.30.1.3","target":"10.30.0.25","device":"in-mail01","detail":"…"}
//
// Benign records (kind shift_night_login) have "benign":true; a
// source_silent incident has no lines and its start/end are the silence.
type TruthWriter struct {
	w         io.Writer
	incidents []Incident
	byID      map[string]int
}

// NewTruthWriter prepares a ground-truth writer for the simulator's incidents.
func NewTruthWriter(w io.Writer, incidents []Incident) *TruthWriter {
	t := &TruthWriter{w: w, incidents: make([]Incident, len(incidents)), byID: map[string]int{}}
	copy(t.incidents, incidents)
	for i, in := range t.incidents {
		t.incidents[i].Lines = []uint64{}
		t.byID[in.ID] = i
	}
	return t
}

// Send records the line's id under its incident.
func (t *TruthWriter) Send(_ context.Context, l *Line) error {
	if l.Incident == "" {
		return nil
	}
	i, ok := t.byID[l.Incident]
	if !ok {
		return fmt.Errorf("truth: line %d names unknown incident %q", l.Seq, l.Incident)
	}
	t.incidents[i].Lines = append(t.incidents[i].Lines, l.Seq)
	return nil
}

// Incidents returns the records with their line ids so far.
func (t *TruthWriter) Incidents() []Incident { return t.incidents }

// Close writes the records.
func (t *TruthWriter) Close() error {
	bw := bufio.NewWriter(t.w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, in := range t.incidents {
		if err := enc.Encode(in); err != nil {
			return fmt.Errorf("truth: write %s: %w", in.ID, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("truth: %w", err)
	}
	return nil
}
