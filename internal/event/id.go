package event

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// NewID returns a 32-character hex id: 6 bytes of milliseconds since the epoch, then 10 random bytes.
// Ids sort by the time they were made, and are unique without coordination between ingest processes.
// The id is given once, at ingest; the writer uses it to drop redelivered copies.
func NewID(now time.Time) string {
	var r [10]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails on Linux
	return formatID(now, r[:])
}

// IDs makes ids as NewID does, for one goroutine (it is not safe for concurrent use): it takes the random
// bytes from crypto/rand a kilobyte at a time instead of once per id, which was a twentieth of ingest's
// per-line cost. The zero value is ready to use.
type IDs struct {
	buf  [1000]byte
	left int // unused random bytes at the end of buf
}

// New returns a new id for an event made at now.
func (g *IDs) New(now time.Time) string {
	if g.left < 10 {
		_, _ = rand.Read(g.buf[:])
		g.left = len(g.buf)
	}
	r := g.buf[len(g.buf)-g.left:][:10]
	g.left -= 10
	return formatID(now, r)
}

// formatID writes the id's 32 hex characters on the stack, so the string is the only allocation.
func formatID(now time.Time, random []byte) string {
	const digits = "0123456789abcdef"
	var b [16]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	copy(b[6:], random)
	var out [32]byte
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0xF]
	}
	return string(out[:])
}
