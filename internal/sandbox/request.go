package sandbox

import (
	"fmt"
	"io"
	"math"
)

// Limits and sizes from Redis 7.0 (server.h, config.c).
const (
	inlineMaxSize = 64 << 10  // PROTO_INLINE_MAX_SIZE
	maxBulkLen    = 512 << 20 // proto-max-bulk-len default
	readChunk     = 16 << 10  // PROTO_IOBUF_LEN: one read of the socket
)

// A protocolError is a request that real Redis answers with the error
// reply "-ERR <msg>\r\n" before it closes the connection.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protoErr(format string, a ...any) *protocolError {
	return &protocolError{msg: "Protocol error: " + fmt.Sprintf(format, a...)}
}

// requestReader turns the bytes a client sends into commands the way
// Redis 7.0 does (processInputBuffer and friends in networking.c).
// Requests that start with '*' are RESP arrays of bulk strings; any
// other request is an inline command line. The quirks are Redis's own
// and kept on purpose, since the sandbox must answer byte for byte like
// the real server:
//   - lines are searched for with strchr, so a NUL byte before the end
//     of a line hides the line ending;
//   - a RESP length line ends at its first '\r', and whatever byte
//     follows that '\r' is skipped unchecked, as are the two bytes
//     after a bulk string's payload;
//   - an array of length 0 or less is no command at all.
type requestReader struct {
	buf       []byte   // read, not yet taken
	base      []byte   // the array buf is in, from its start
	multibulk bool     // the request being read is a RESP array
	remaining int      // array elements still to read; 0: none started
	bulkLen   int      // payload length of the element; -1: not read yet
	argv      [][]byte // elements read so far

	// The commands next returns point into buf's array: they are valid
	// until next returns nil (all taken; the array is then reused).
}

func (r *requestReader) feed(p []byte) { r.buf = append(r.buf, p...) }

// readFrom reads once from rd straight into the buffer. The buffer
// grows with the bytes that arrive, doubling, never by what a header
// claims: a client that sends "$536870912\r\n" and stalls costs one
// chunk, not half a gigabyte.
func (r *requestReader) readFrom(rd io.Reader) error {
	if cap(r.buf)-len(r.buf) < readChunk {
		grow := len(r.buf)
		if r.remaining > 0 && r.bulkLen >= 0 {
			// No more than the argument being read still needs.
			grow = min(grow, r.bulkLen+2-len(r.buf))
		}
		grown := make([]byte, len(r.buf), len(r.buf)+max(readChunk, grow))
		copy(grown, r.buf)
		r.buf, r.base = grown, grown
	}
	n, err := rd.Read(r.buf[len(r.buf):cap(r.buf)])
	r.buf = r.buf[:len(r.buf)+n]
	return err
}

// next returns the next complete command. It returns (nil, nil) when it
// needs more input, and a *protocolError when Redis would give up on
// the connection; nothing is to be read after that.
func (r *requestReader) next() ([][]byte, error) {
	for len(r.buf) > 0 {
		if !r.multibulk && r.remaining == 0 {
			r.multibulk = r.buf[0] == '*'
		}
		var (
			argv [][]byte
			done bool
			err  error
		)
		if r.multibulk {
			argv, done, err = r.readArray()
		} else {
			argv, done, err = r.readInline()
		}
		if err != nil || !done {
			return nil, err
		}
		r.multibulk = false
		if len(argv) > 0 {
			return argv, nil
		}
		// An empty line or an empty array: no command, no reply.
	}
	// All taken, and the commands run: start again at the beginning
	// of the buffer, unless a large request grew it.
	if cap(r.base) <= 4*readChunk {
		r.buf = r.base[:0]
	} else {
		r.buf, r.base = nil, nil
	}
	return nil, nil
}

func (r *requestReader) readInline() ([][]byte, bool, error) {
	nl := cIndex(r.buf, '\n')
	if nl < 0 {
		if len(r.buf) > inlineMaxSize {
			return nil, false, protoErr("too big inline request")
		}
		return nil, false, nil
	}
	end := nl
	if end > 0 && r.buf[end-1] == '\r' {
		end--
	}
	argv, err := splitArgs(r.buf[:end])
	if err != nil {
		return nil, false, protoErr("unbalanced quotes in request")
	}
	r.buf = r.buf[nl+1:]
	return argv, true, nil
}

func (r *requestReader) readArray() ([][]byte, bool, error) {
	if r.remaining == 0 {
		cr := cIndex(r.buf, '\r')
		if cr < 0 {
			if len(r.buf) > inlineMaxSize {
				return nil, false, protoErr("too big mbulk count string")
			}
			return nil, false, nil
		}
		if cr > len(r.buf)-2 {
			return nil, false, nil // the byte after '\r' is not here yet
		}
		n, ok := parseInt(r.buf[1:cr])
		if !ok || n > math.MaxInt32 {
			return nil, false, protoErr("invalid multibulk length")
		}
		r.buf = r.buf[cr+2:]
		if n <= 0 {
			return nil, true, nil
		}
		r.remaining = int(n)
		r.bulkLen = -1
		r.argv = make([][]byte, 0, min(r.remaining, 1024))
	}
	for r.remaining > 0 {
		if r.bulkLen < 0 {
			cr := cIndex(r.buf, '\r')
			if cr < 0 {
				if len(r.buf) > inlineMaxSize {
					return nil, false, protoErr("too big bulk count string")
				}
				return nil, false, nil
			}
			if cr > len(r.buf)-2 {
				return nil, false, nil
			}
			if r.buf[0] != '$' {
				// Redis formats the byte raw with %c, and its
				// error replies turn \r and \n into blanks.
				got := r.buf[0]
				if got == '\r' || got == '\n' {
					got = ' '
				}
				return nil, false, protoErr("expected '$', got '%s'", []byte{got})
			}
			n, ok := parseInt(r.buf[1:cr])
			if !ok || n < 0 || n > maxBulkLen {
				return nil, false, protoErr("invalid bulk length")
			}
			r.buf = r.buf[cr+2:]
			r.bulkLen = int(n)
		}
		if len(r.buf) < r.bulkLen+2 {
			return nil, false, nil
		}
		// The argument stays in the buffer, which later reads
		// only append to, past it.
		arg := r.buf[:r.bulkLen:r.bulkLen]
		r.argv = append(r.argv, arg)
		r.buf = r.buf[r.bulkLen+2:]
		r.bulkLen = -1
		r.remaining--
	}
	argv := r.argv
	r.argv = nil
	return argv, true, nil
}

// cIndex is strchr on a buffer that C sees as a string: the search
// stops at the first NUL byte.
func cIndex(b []byte, c byte) int {
	for i, x := range b {
		switch x {
		case c:
			return i
		case 0:
			return -1
		}
	}
	return -1
}

// parseInt is Redis's string2ll: an optional '-', then digits with no
// leading zero (except "0" itself), nothing else, and no overflow.
func parseInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
