//go:build !linux

package listen

import "net"

// udpSocket on systems without SO_RXQ_OVFL: kernel drops cannot be seen, so none are reported.
type udpSocket struct{ conn net.PacketConn }

func openUDP(address string, _ int) (*udpSocket, error) {
	pc, err := net.ListenPacket("udp", address)
	if err != nil {
		return nil, err
	}
	return &udpSocket{conn: pc}, nil
}

func (s *udpSocket) read(buf []byte) (int, net.Addr, uint64, error) {
	n, from, err := s.conn.ReadFrom(buf)
	return n, from, 0, err
}

// queued cannot be told here: every datagram is handed on alone.
func (s *udpSocket) queued() bool { return false }

func (s *udpSocket) Close() error        { return s.conn.Close() }
func (s *udpSocket) LocalAddr() net.Addr { return s.conn.LocalAddr() }
