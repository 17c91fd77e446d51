package event

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewID returns a 32-character hex id: 6 bytes of milliseconds since the epoch, then 10 random bytes.
// Ids sort by the time they were made, and are unique without coordination between ingest processes.
// The id is given once, at ingest; the writer uses it to drop redelivered copies.
func NewID(now time.Time) string {
	var b [16]byte
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(now.UnixMilli()))
	copy(b[:6], ms[2:])
	_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b[:])
}
