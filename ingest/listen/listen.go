// Package listen runs syslog listeners: UDP, TCP and TLS (RFC 5425), many senders at once, with a limit on
// message length and on connections, counted when they bite.
package listen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/zonewatch/zonewatch/ingest/framing"
	"github.com/zonewatch/zonewatch/ingest/pipeline"
)

// drainGrace is how long open connections may still send after the listener is told to stop.
const drainGrace = 2 * time.Second

// Sink takes the messages of one connection (or of the UDP socket) in order. It need not be safe for
// concurrent use: each connection gets its own. Message may block; that slows the sender down. msg may
// be reused once Message returns.
//
// A sink may hold messages to work on several at once: Flush is called when the listener has nothing
// more buffered (hand on what is held, do not wait for it), and Close when the connection or socket is
// done (return once every message is handed on).
type Sink interface {
	Message(ctx context.Context, peer netip.Addr, msg []byte, tooLong bool) error
	Flush(ctx context.Context) error
	Close(ctx context.Context) error
}

// Options configure a Listener.
type Options struct {
	Name            string
	Protocol        string // tcp, udp, tls
	Address         string
	MaxMessageBytes int
	MaxConnections  int
	// ReceiveBufferBytes sets a UDP socket's kernel receive buffer (SO_RCVBUF); 0 keeps the system's
	// default. A larger buffer rides out bursts; what still overflows is counted as dropped.
	ReceiveBufferBytes int
	TLS                *tls.Config // for tls
	NewSink            func() Sink
	Metrics            *pipeline.Metrics
	Logger             *slog.Logger
}

// Listener is a bound syslog listener.
type Listener struct {
	o      Options
	ln     net.Listener
	pc     *udpSocket
	conns  chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	active map[net.Conn]struct{}
}

// Listen binds the address now, so that a taken port fails at start.
func Listen(o Options) (*Listener, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = pipeline.NewMetrics(nil)
	}
	l := &Listener{o: o, conns: make(chan struct{}, max(o.MaxConnections, 1)), active: map[net.Conn]struct{}{}}
	var err error
	switch o.Protocol {
	case "udp":
		l.pc, err = openUDP(o.Address, o.ReceiveBufferBytes)
	case "tcp":
		l.ln, err = net.Listen("tcp", o.Address)
	case "tls":
		if o.TLS == nil {
			return nil, fmt.Errorf("listener %s: tls needs a certificate", o.Name)
		}
		l.ln, err = tls.Listen("tcp", o.Address, o.TLS)
	default:
		return nil, fmt.Errorf("listener %s: unknown protocol %q", o.Name, o.Protocol)
	}
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w (is another program on %s? change listeners[].address)", o.Name, err, o.Address)
	}
	return l, nil
}

// Addr is the bound address.
func (l *Listener) Addr() net.Addr {
	if l.pc != nil {
		return l.pc.LocalAddr()
	}
	return l.ln.Addr()
}

// Serve runs until ctx ends, then closes the socket and waits for open connections to finish the message
// they are in (their senders see the connection close).
func (l *Listener) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, l.close)
	defer stop()
	var err error
	if l.pc != nil {
		err = l.serveUDP(ctx)
	} else {
		err = l.serveStream(ctx)
	}
	l.wg.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (l *Listener) close() {
	if l.pc != nil {
		_ = l.pc.Close()
		return
	}
	_ = l.ln.Close()
	// Open connections get a short grace to finish: what a sender wrote before the stop is still read,
	// then the read deadline ends the connection.
	l.mu.Lock()
	for c := range l.active {
		_ = c.SetReadDeadline(time.Now().Add(drainGrace))
	}
	l.mu.Unlock()
}

func (l *Listener) serveStream(ctx context.Context) error {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			l.o.Logger.Warn("accept failed", "listener", l.o.Name, "err", err)
			continue
		}
		select {
		case l.conns <- struct{}{}:
		default:
			l.o.Metrics.Limited.WithLabelValues(l.o.Name, "max_connections").Inc()
			l.o.Logger.Warn("connection refused: max_connections reached", "listener", l.o.Name, "peer", c.RemoteAddr().String(), "max", l.o.MaxConnections)
			_ = c.Close()
			continue
		}
		l.mu.Lock()
		l.active[c] = struct{}{}
		l.mu.Unlock()
		l.wg.Add(1)
		go l.serveConn(ctx, c)
	}
}

func (l *Listener) serveConn(ctx context.Context, c net.Conn) {
	defer func() {
		_ = c.Close()
		l.mu.Lock()
		delete(l.active, c)
		l.mu.Unlock()
		<-l.conns
		l.wg.Done()
	}()
	peer := addrOf(c.RemoteAddr())
	sink := l.o.NewSink()
	// ctx only stops accepting; a message already read must still be handed on when it ends.
	msgCtx := context.WithoutCancel(ctx)
	defer l.closeSink(msgCtx, sink)
	r := framing.NewReader(c, l.o.MaxMessageBytes)
	for {
		msg, err := r.Next()
		tooLong := errors.Is(err, framing.ErrTooLong)
		if err != nil && !tooLong {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !errors.Is(err, os.ErrDeadlineExceeded) {
				l.o.Logger.Warn("connection closed on a framing error", "listener", l.o.Name, "peer", peer, "err", err)
				l.o.Metrics.Failed.WithLabelValues(l.o.Name, "framing").Inc()
			}
			return
		}
		if tooLong {
			l.o.Metrics.Limited.WithLabelValues(l.o.Name, "max_message_bytes").Inc()
		}
		l.o.Metrics.Received.WithLabelValues(l.o.Name).Inc()
		l.o.Metrics.Bytes.WithLabelValues(l.o.Name).Add(float64(len(msg)))
		if err := sink.Message(msgCtx, peer, msg, tooLong); err != nil {
			l.o.Logger.Error("message not accepted", "listener", l.o.Name, "err", err)
			return
		}
		if r.Buffered() == 0 {
			if err := sink.Flush(msgCtx); err != nil {
				l.o.Logger.Error("message not accepted", "listener", l.o.Name, "err", err)
				return
			}
		}
	}
}

// closeSink hands on what the sink still holds before the connection counts as done, so that Serve
// returns only after every message read is with the publisher.
func (l *Listener) closeSink(ctx context.Context, sink Sink) {
	if err := sink.Close(ctx); err != nil {
		l.o.Logger.Error("messages not accepted at the end of a connection", "listener", l.o.Name, "err", err)
	}
}

func (l *Listener) serveUDP(ctx context.Context) error {
	sink := l.o.NewSink()
	defer l.closeSink(context.WithoutCancel(ctx), sink)
	buf := make([]byte, 65536)
	for {
		n, from, dropped, err := l.pc.read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("listener %s: %w", l.o.Name, err)
		}
		if dropped > 0 {
			l.o.Metrics.UDPDropped.WithLabelValues(l.o.Name).Add(float64(dropped))
			l.o.Logger.Warn("UDP datagrams dropped by the kernel: the receive queue was full",
				"listener", l.o.Name, "dropped", dropped,
				"hint", "raise listeners[].receive_buffer_bytes (and net.core.rmem_max), or have senders use TCP")
		}
		msg := buf[:n]
		for len(msg) > 0 && (msg[len(msg)-1] == '\n' || msg[len(msg)-1] == 0) {
			msg = msg[:len(msg)-1]
		}
		tooLong := len(msg) > l.o.MaxMessageBytes
		if tooLong {
			msg = msg[:l.o.MaxMessageBytes]
			l.o.Metrics.Limited.WithLabelValues(l.o.Name, "max_message_bytes").Inc()
		}
		l.o.Metrics.Received.WithLabelValues(l.o.Name).Inc()
		l.o.Metrics.Bytes.WithLabelValues(l.o.Name).Add(float64(n))
		if err := sink.Message(context.WithoutCancel(ctx), addrOf(from), msg, tooLong); err != nil {
			l.o.Logger.Error("message not accepted", "listener", l.o.Name, "err", err)
		}
		if !l.pc.queued() {
			if err := sink.Flush(context.WithoutCancel(ctx)); err != nil {
				l.o.Logger.Error("message not accepted", "listener", l.o.Name, "err", err)
			}
		}
	}
}

func addrOf(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// Name is the listener's name from the configuration.
func (l *Listener) Name() string { return l.o.Name }
