// Package resp reads Redis replies whole and writes commands, for the
// code around the lessons (the lessons carry their own, in resp.go).
//
// The reader trusts the server no more than lesson 03's readReply
// does, and accepts exactly what it accepts: a line ends in \r\n and
// fits in the bufio.Reader's buffer, a length is -1 to MaxLen, a bulk
// string is followed by \r\n, and a whole reply holds at most MaxLen
// bytes, however deep its arrays nest. A fuzz test in
// 03-subscribe keeps the two in agreement.
package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// MaxLen bounds a length that a reply may claim, and the size of a
// whole reply, however it nests.
const MaxLen = 64 << 20

// ProtocolError says how a reply breaks RESP, or the bounds above.
// The stream cannot be read further.
type ProtocolError string

func (e ProtocolError) Error() string { return string(e) }

func protocolf(format string, a ...any) error {
	return ProtocolError(fmt.Sprintf(format, a...))
}

// ReadReply reads one complete RESP2 reply and returns its raw bytes.
// At a clean end of the stream, before any byte of a reply, it
// returns io.EOF; an end within a reply is io.ErrUnexpectedEOF. On
// any error it returns the bytes read so far.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	return read(r, false)
}

// ReadReply3 is ReadReply that also reads what a connection may
// receive after HELLO 3: RESP3's null, boolean, double, big number,
// blob error, verbatim string, map, set, push and attribute. An
// attribute is read with the reply that it annotates.
func ReadReply3(r *bufio.Reader) ([]byte, error) {
	return read(r, true)
}

func read(r *bufio.Reader, resp3 bool) ([]byte, error) {
	var raw bytes.Buffer
	err := readInto(r, &raw, resp3)
	if err == io.EOF && raw.Len() > 0 {
		err = io.ErrUnexpectedEOF
	}
	return raw.Bytes(), err
}

// readInto reads one reply into raw as lesson 03's readReply does:
// without recursion, counting the replies left to read, so that no
// nesting can exhaust the stack, and with one budget of MaxLen bytes
// for the whole reply.
func readInto(r *bufio.Reader, raw *bytes.Buffer, resp3 bool) error {
	for left := 1; left > 0; left-- {
		line, err := readLine(r, resp3)
		raw.Write(line)
		if err != nil {
			return err
		}
		head, body := line[0], string(line[1:len(line)-2])
		switch head {
		case '+', '-', ':', ',', '(':
			continue
		case '_':
			if body != "" {
				return protocolf("%q: a null has no text", line)
			}
			continue
		case '#':
			if body != "t" && body != "f" {
				return protocolf("%q: a boolean is t or f", line)
			}
			continue
		}
		n, err := strconv.Atoi(body)
		switch {
		case err != nil || n < -1 || n > MaxLen:
			return protocolf("%q: length not in -1..%dMi", line, MaxLen>>20)
		case n > MaxLen-raw.Len():
			return protocolf("a reply of over %d MiB", MaxLen>>20)
		}
		switch head {
		case '$', '!', '=':
			if n < 0 {
				continue // $-1: the null bulk string
			}
			start := raw.Len()
			if _, err := io.CopyN(raw, r, int64(n)+2); err != nil {
				return err
			}
			if !bytes.HasSuffix(raw.Bytes()[start:], []byte("\r\n")) {
				return protocolf("%q: no \\r\\n after the data", line)
			}
			continue
		}
		// An array, or one of RESP3's: n more replies to read.
		switch {
		case n <= 0: // *-1, *0: nothing follows
		case head == '%':
			left += 2 * n // a map holds key, value pairs
		case head == '|':
			left += 2*n + 1 // pairs, then the reply they annotate
		default:
			left += n
		}
	}
	return nil
}

// readLine reads one line up to its \n and checks it: a type byte,
// text, \r\n. A line longer than r's buffer is refused, not grown.
func readLine(r *bufio.Reader, resp3 bool) ([]byte, error) {
	types := "+-:$*"
	if resp3 {
		types += "_#,(!=%~>|"
	}
	line, err := r.ReadSlice('\n')
	line = bytes.Clone(line) // r's next read overwrites it
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return nil, protocolf("a line of over %d bytes", r.Size())
	case err != nil:
		return line, err
	case string(line) == "\r\n" || string(line) == "\n":
		return nil, protocolf("%q: an empty line has no type byte", line)
	case len(line) < 3 || line[len(line)-2] != '\r':
		return nil, protocolf("%q: a line must end in \\r\\n", line)
	case !bytes.Contains([]byte(types), line[:1]):
		return nil, protocolf("%q: no reply type starts with %q",
			line, line[:1])
	}
	return line, nil
}

// AppendCommand appends a command as a RESP array of bulk strings, the
// form every driver sends.
func AppendCommand(b []byte, args ...[]byte) []byte {
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n", len(a))
		b = append(append(b, a...), "\r\n"...)
	}
	return b
}
