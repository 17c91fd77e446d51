// Package framing splits a syslog byte stream into messages. Both RFC 6587 framings are accepted, and
// detected per message so one connection may even mix them: octet counting ("123 <34>1 ...") and
// non-transparent framing, where a message ends at LF (CR LF and NUL are tolerated too).
//
// go-syslog v3 has stream parsers only for RFC 5424 and caps a message at 8 KiB; owning the framing lets
// zonewatch take RFC 3164 streams and long messages too, with its own limit.
package framing

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Framing names.
const (
	OctetCounting  = "octet-counting"
	NonTransparent = "non-transparent"
)

// ErrTooLong marks a message cut at the maximum length; the first MaxLen bytes are returned with it.
var ErrTooLong = errors.New("message longer than the listener's max_message_bytes")

// Reader reads one message at a time. It is not safe for concurrent use.
type Reader struct {
	br   *bufio.Reader
	max  int
	buf  []byte
	last string
}

// NewReader reads messages of at most maxLen bytes from r.
func NewReader(r io.Reader, maxLen int) *Reader {
	size := 64 << 10
	if maxLen+16 > size {
		size = maxLen + 16
	}
	return &Reader{br: bufio.NewReaderSize(r, size), max: maxLen}
}

// Buffered is how many bytes are read from the stream and not yet returned as messages: 0 means the
// next Next will wait on the stream.
func (r *Reader) Buffered() int { return r.br.Buffered() }

// Framing returns the framing of the last message read.
func (r *Reader) Framing() string { return r.last }

// Next returns the next message. The slice is valid until the next call. At the end of the stream it
// returns io.EOF; a message cut at the maximum length comes with ErrTooLong (the stream stays usable);
// a broken octet count is an error after which the stream cannot be trusted and should be closed.
func (r *Reader) Next() ([]byte, error) {
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return nil, err
		}
		switch {
		case c == '\n' || c == '\r' || c == 0 || c == ' ':
			continue // stray separators between messages
		case c >= '1' && c <= '9':
			_ = r.br.UnreadByte()
			if looksCounted(r.br) {
				r.last = OctetCounting
				return r.counted()
			}
			r.last = NonTransparent
			return r.line()
		default:
			_ = r.br.UnreadByte()
			r.last = NonTransparent
			return r.line()
		}
	}
}

// looksCounted peeks for "digits SP '<'": an octet count followed by a syslog PRI.
func looksCounted(br *bufio.Reader) bool {
	for n := 2; n <= 12; n++ {
		p, err := br.Peek(n)
		if len(p) < n {
			return false
		}
		_ = err
		c := p[n-1]
		if c >= '0' && c <= '9' {
			continue
		}
		if c != ' ' {
			return false
		}
		q, _ := br.Peek(n + 1)
		return len(q) == n+1 && q[n] == '<'
	}
	return false
}

func (r *Reader) counted() ([]byte, error) {
	n := 0
	for {
		c, err := r.br.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("octet count: %w", noEOF(err))
		}
		if c == ' ' {
			break
		}
		if c < '0' || c > '9' || n > 1<<30 {
			return nil, fmt.Errorf("octet count: unexpected byte %q", c)
		}
		n = n*10 + int(c-'0')
	}
	keep := n
	if keep > r.max {
		keep = r.max
	}
	if cap(r.buf) < keep {
		r.buf = make([]byte, keep)
	}
	r.buf = r.buf[:keep]
	if _, err := io.ReadFull(r.br, r.buf); err != nil {
		return nil, fmt.Errorf("message of %d octets: %w", n, noEOF(err))
	}
	if n > keep {
		if _, err := r.br.Discard(n - keep); err != nil {
			return r.buf, fmt.Errorf("message of %d octets: %w", n, noEOF(err))
		}
		return r.buf, ErrTooLong
	}
	return r.buf, nil
}

func (r *Reader) line() ([]byte, error) {
	r.buf = r.buf[:0]
	tooLong := false
	for {
		chunk, err := r.br.ReadSlice('\n')
		if len(r.buf)+len(chunk) > r.max {
			room := r.max - len(r.buf)
			if room > 0 {
				r.buf = append(r.buf, chunk[:room]...)
			}
			tooLong = true
		} else {
			r.buf = append(r.buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (len(r.buf) == 0 || !errors.Is(err, io.EOF)) {
			return nil, err
		}
		break // a full line, or the last unterminated line before EOF
	}
	msg := bytes.TrimRight(r.buf, "\r\n\x00")
	if tooLong {
		return msg, ErrTooLong
	}
	return msg, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
