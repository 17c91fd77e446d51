package simulate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testLines() []Line {
	t := time.Date(2026, 11, 25, 9, 15, 1, 0, tokyo())
	return []Line{
		{Seq: 1, Time: t, Device: "fw-lgwan", Format: FormatFortiGate, Transport: TransportSyslog5424, Wire: []byte("<189>1 2026-11-25T09:15:01.000+09:00 fw-lgwan - - - - a=1")},
		{Seq: 2, Time: t, Device: "proxy-sq1", Format: FormatSquid, Transport: TransportFile, Wire: []byte("1795565701.000      1 10.30.1.20 TCP_TUNNEL/200 1 CONNECT a:443 - HIER_DIRECT/203.0.113.5 -")},
		{Seq: 3, Time: t, Device: "lg-app01", Format: FormatSSHD, Transport: TransportSyslog3164, Wire: []byte("<86>Nov 25 09:15:01 lg-app01 sshd[1]: Invalid user x from 203.0.113.7 port 1")},
	}
}

// listenTCP accepts one connection and returns everything read from it.
func listenTCP(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			out <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		out <- b
	}()
	return ln.Addr().String(), out
}

func TestTCPSinkFraming(t *testing.T) {
	lines := testLines()
	tests := []struct {
		framing string
		want    string
	}{
		{FramingOctet, fmt.Sprintf("%d %s%d %s", len(lines[0].Wire), lines[0].Wire, len(lines[2].Wire), lines[2].Wire)},
		{"", fmt.Sprintf("%d %s%d %s", len(lines[0].Wire), lines[0].Wire, len(lines[2].Wire), lines[2].Wire)},
		{FramingNewline, fmt.Sprintf("%s\n%s\n", lines[0].Wire, lines[2].Wire)},
	}
	for _, tt := range tests {
		t.Run("framing="+tt.framing, func(t *testing.T) {
			addr, got := listenTCP(t)
			s, err := DialTCP(context.Background(), TCPOptions{Addr: addr, Framing: tt.framing})
			if err != nil {
				t.Fatal(err)
			}
			for i := range lines {
				if err := s.Send(context.Background(), &lines[i]); err != nil {
					t.Fatal(err)
				}
			}
			if s.Lines() != 2 {
				t.Errorf("Lines = %d, want 2 (file lines are not sent)", s.Lines())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if b := <-got; string(b) != tt.want {
				t.Errorf("received %q, want %q", b, tt.want)
			}
		})
	}
	if _, err := DialTCP(context.Background(), TCPOptions{Addr: "127.0.0.1:1", Framing: "lf"}); err == nil || !strings.Contains(err.Error(), `framing "lf"`) {
		t.Errorf("bad framing: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := DialTCP(context.Background(), TCPOptions{Addr: addr}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("dial closed port: %v", err)
	}
}

func TestUDPSink(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := DialUDP(context.Background(), pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines := testLines()
	for i := range lines {
		if err := s.Send(context.Background(), &lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 65536)
	for _, want := range []Line{lines[0], lines[2]} {
		pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf[:n], want.Wire) {
			t.Errorf("datagram %q, want %q", buf[:n], want.Wire)
		}
	}
}

func TestFileSinkRotation(t *testing.T) {
	dir := t.TempDir()
	s, err := NewFileSink(FileOptions{Dir: dir, MaxBytes: 2000, Keep: 3, Syslog: true})
	if err != nil {
		t.Fatal(err)
	}
	lines := testLines()
	const n = 100
	for i := range n {
		for j := range lines {
			l := lines[j]
			l.Wire = []byte(strings.Replace(string(l.Wire), "      1 ", fmt.Sprintf("%7d ", i), 1))
			if err := s.Send(context.Background(), &l); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "proxy-sq1", "access.log")
	var files []string
	total := 0
	var last []int
	for _, suffix := range []string{"", ".0", ".1", ".2", ".3"} {
		b, err := os.ReadFile(base + suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 2000 {
			t.Errorf("%s has %d bytes, over MaxBytes", suffix, len(b))
		}
		files = append(files, "access.log"+suffix)
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			total++
			f := strings.Fields(sc.Text())
			if len(f) != 10 {
				t.Fatalf("line %q has %d fields", sc.Text(), len(f))
			}
			v, _ := strconv.Atoi(f[1])
			last = append(last, v)
		}
	}
	if strings.Join(files, ",") != "access.log,access.log.0,access.log.1,access.log.2" {
		t.Errorf("files %v, want access.log plus 3 rotated", files)
	}
	// Newest first across files, oldest rotated away: the kept lines are the
	// last ones written.
	sort.Ints(last)
	if last[len(last)-1] != n-1 || total >= n {
		t.Errorf("kept %d lines, newest %d", total, last[len(last)-1])
	}
	// The syslog capture rotates the same way.
	sys, err := os.ReadFile(filepath.Join(dir, "syslog", "fw-lgwan.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(sys, append(bytes.Clone(lines[0].Wire), '\n')) {
		t.Errorf("syslog capture does not end with the last line: %q", sys)
	}
	if _, err := os.Stat(filepath.Join(dir, "syslog", "fw-lgwan.log.0")); err != nil {
		t.Errorf("syslog capture not rotated: %v", err)
	}
}

func TestMultiAndDiscard(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriterSink(&buf)
	d := &DiscardSink{}
	m := MultiSink{w, d}
	lines := testLines()
	for i := range lines {
		if err := m.Send(context.Background(), &lines[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if d.Lines != 3 || strings.Count(buf.String(), "\n") != 3 {
		t.Errorf("discard saw %d lines, writer wrote %q", d.Lines, buf.String())
	}
}

func TestTruthWriterUnknownIncident(t *testing.T) {
	tw := NewTruthWriter(io.Discard, []Incident{{ID: "INC-0001", Kind: KindPortScan}})
	l := testLines()[0]
	l.Incident = "INC-0009"
	if err := tw.Send(context.Background(), &l); err == nil || !strings.Contains(err.Error(), "INC-0009") {
		t.Errorf("err = %v", err)
	}
}

// BenchmarkGenerate measures generation alone (discarding sink): the
// baseline for BenchmarkGenerateTCP.
func BenchmarkGenerate(b *testing.B) {
	benchRun(b, func(b *testing.B) (Sink, func() uint64) {
		d := &DiscardSink{}
		return d, func() uint64 { return d.Bytes }
	})
}

// BenchmarkGenerateTCP measures generation plus octet-counted TCP sending to
// a loopback listener that discards what it reads.
func BenchmarkGenerateTCP(b *testing.B) {
	benchRun(b, func(b *testing.B) (Sink, func() uint64) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { ln.Close() })
		var got int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			got, _ = io.Copy(io.Discard, c)
			c.Close()
		}()
		s, err := DialTCP(context.Background(), TCPOptions{Addr: ln.Addr().String(), Framing: FramingOctet})
		if err != nil {
			b.Fatal(err)
		}
		return s, func() uint64 {
			s.Close()
			<-done
			return uint64(got)
		}
	})
}

func benchRun(b *testing.B, mk func(*testing.B) (Sink, func() uint64)) {
	const rate = 200_000
	from := day("2026-11-02").Add(10 * time.Hour)
	secs := (b.N + rate - 1) / rate
	s, err := New(Options{Seed: 1, From: from, To: from.Add(time.Duration(secs) * time.Second), Rate: rate})
	if err != nil {
		b.Fatal(err)
	}
	sink, finish := mk(b)
	counter := &DiscardSink{}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if err := s.Run(context.Background(), MultiSink{counter, sink}); err != nil {
		b.Fatal(err)
	}
	bytesOut := finish()
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(counter.Lines)/el.Seconds(), "lines/s")
	b.ReportMetric(float64(bytesOut)/el.Seconds()/1e6, "MB/s")
	b.ReportMetric(float64(el.Nanoseconds())/float64(counter.Lines), "ns/line")
}

func TestTCPSinkReconnect(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	second := make(chan int64, 1)
	go func() {
		c1, err := ln.Accept()
		if err != nil {
			return
		}
		io.CopyN(io.Discard, c1, 500)
		c1.Close() // the receiver restarts
		c2, err := ln.Accept()
		if err != nil {
			second <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c2)
		second <- n
	}()
	line := testLines()[0]
	for _, reconnect := range []bool{false, true} {
		if !reconnect {
			// Without Reconnect the error ends the run; use a throwaway receiver.
			ln2, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() {
				c, err := ln2.Accept()
				if err == nil {
					c.Close()
				}
				ln2.Close()
			}()
			s, err := DialTCP(context.Background(), TCPOptions{Addr: ln2.Addr().String(), BufferSize: 512})
			if err != nil {
				t.Fatal(err)
			}
			var sendErr error
			for deadline := time.Now().Add(8 * time.Second); sendErr == nil && time.Now().Before(deadline); {
				sendErr = s.Send(context.Background(), &line)
			}
			if sendErr == nil || !strings.Contains(sendErr.Error(), ln2.Addr().String()) {
				t.Errorf("without reconnect: err = %v", sendErr)
			}
			s.Close()
			continue
		}
		s, err := DialTCP(context.Background(), TCPOptions{Addr: ln.Addr().String(), BufferSize: 512, Reconnect: true})
		if err != nil {
			t.Fatal(err)
		}
		// Send until the sender has noticed the restart (kernel buffers may
		// hold a lot first), then some more for the new connection.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		deadline := time.Now().Add(8 * time.Second)
		for s.Reconnects() == 0 && time.Now().Before(deadline) {
			if err := s.Send(ctx, &line); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 1000; i++ {
			if err := s.Send(ctx, &line); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s.Reconnects() < 1 {
			t.Errorf("Reconnects = %d", s.Reconnects())
		}
		select {
		case n := <-second:
			if n <= 0 {
				t.Errorf("second connection received %d bytes", n)
			}
		case <-time.After(5 * time.Second):
			t.Error("second connection never finished")
		}
	}
}
