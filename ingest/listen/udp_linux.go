//go:build linux

package listen

import (
	"encoding/binary"
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// udpSocket reads datagrams and reports how many the kernel dropped because the socket's receive
// queue was full. Linux tells this with SO_RXQ_OVFL: every datagram carries the socket's running drop
// counter at the time it was queued, so the difference between two datagrams is what was lost between
// them. Without it UDP losses would be silent, which the policy's integrity requirement does not allow.
type udpSocket struct {
	conn     *net.UDPConn
	oob      []byte
	lastDrop uint32
}

func openUDP(address string, rcvbuf int) (*udpSocket, error) {
	pc, err := net.ListenPacket("udp", address)
	if err != nil {
		return nil, err
	}
	conn := pc.(*net.UDPConn)
	raw, err := conn.SyscallConn()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1); serr != nil {
			serr = fmt.Errorf("enable SO_RXQ_OVFL: %w", serr)
			return
		}
		if rcvbuf > 0 {
			// The kernel caps SO_RCVBUF at net.core.rmem_max; the cap is not an error.
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, rcvbuf); serr != nil {
				serr = fmt.Errorf("set receive buffer to %d bytes: %w", rcvbuf, serr)
			}
		}
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return &udpSocket{conn: conn, oob: make([]byte, unix.CmsgSpace(4))}, nil
}

// read returns the datagram's length, its sender, and how many datagrams were dropped since the
// previous read.
func (s *udpSocket) read(buf []byte) (int, net.Addr, uint64, error) {
	n, oobn, _, from, err := s.conn.ReadMsgUDP(buf, s.oob)
	if err != nil {
		return 0, nil, 0, err
	}
	return n, from, s.dropped(s.oob[:oobn]), nil
}

func (s *udpSocket) dropped(oob []byte) uint64 {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			total := binary.NativeEndian.Uint32(m.Data)
			delta := total - s.lastDrop // uint32 arithmetic survives the counter's wrap
			s.lastDrop = total
			return uint64(delta)
		}
	}
	return 0
}

// queued tells whether another datagram is waiting in the socket's receive queue (SIOCINQ gives the
// next one's size), so that the sink may hold this one for a batch instead of handing it on alone.
func (s *udpSocket) queued() bool {
	raw, err := s.conn.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	if err := raw.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
		return false
	}
	return n > 0
}

func (s *udpSocket) Close() error        { return s.conn.Close() }
func (s *udpSocket) LocalAddr() net.Addr { return s.conn.LocalAddr() }
