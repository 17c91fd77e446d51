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

// IDs makes ids of NewID's form for one goroutine (it is not safe for concurrent use): after the 6 bytes
// of milliseconds come 4 random bytes drawn once per IDs and a 6-byte counter that starts at a random
// value. Two ids are equal only if they were made in the same millisecond by generators that drew the
// same 4 bytes (1 in 2^32 for two generators) and their counters, which start at random points of
// 2^48, met. Unlike 10 fresh random bytes per id, the ids of one generator differ in a few bytes from
// the id before: the events table stores them in about two thirds of the bytes
// (ingest/writer BenchmarkStorageBytesPerEvent), and no crypto/rand call is made per id.
// The zero value is ready to use.
type IDs struct {
	prefix [4]byte
	seq    uint64
	ready  bool
}

// New returns a new id for an event made at now.
func (g *IDs) New(now time.Time) string {
	if !g.ready {
		var b [10]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
		copy(g.prefix[:], b[:4])
		g.seq = binary.BigEndian.Uint64(append([]byte{0, 0}, b[4:]...))
		g.ready = true
	}
	g.seq++
	var r [10]byte
	copy(r[:4], g.prefix[:])
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], g.seq)
	copy(r[4:], seq[2:])
	return formatID(now, r[:])
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
