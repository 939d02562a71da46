// Package resp reads Redis replies whole and writes commands, for the
// code around the lessons (each lesson carries its own, on purpose).
//
// The reader trusts the server no more than lesson 03's readReply
// does, and accepts exactly what it accepts: a line ends in \r\n and
// fits in the bufio.Reader's buffer, a length is -1 to MaxLen, a bulk
// string is followed by \r\n, arrays nest at most MaxDepth deep, and
// a whole array holds at most MaxLen bytes. A fuzz test in
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

const (
	// MaxLen bounds a length that a reply may claim, and the size
	// of an array reply.
	MaxLen = 64 << 20
	// MaxDepth is how deep arrays may nest.
	MaxDepth = 8
)

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
	err := readInto(r, &raw, 0, resp3)
	if err == io.EOF && raw.Len() > 0 {
		err = io.ErrUnexpectedEOF
	}
	return raw.Bytes(), err
}

func readInto(r *bufio.Reader, raw *bytes.Buffer, depth int, resp3 bool) error {
	if depth > MaxDepth {
		return protocolf("arrays nested over %d deep", MaxDepth)
	}
	line, err := readLine(r, resp3)
	raw.Write(line)
	if err != nil {
		return err
	}
	head, body := line[0], string(line[1:len(line)-2])
	switch head {
	case '+', '-', ':', ',', '(':
		return nil
	case '_':
		if body != "" {
			return protocolf("%q: a null has no text", line)
		}
		return nil
	case '#':
		if body != "t" && body != "f" {
			return protocolf("%q: a boolean is t or f", line)
		}
		return nil
	}
	n, err := strconv.Atoi(body)
	if err != nil || n < -1 || n > MaxLen {
		return protocolf("%q: length not in -1..%dMi", line, MaxLen>>20)
	}
	switch head {
	case '$', '!', '=':
		if n < 0 {
			return nil // $-1: the null bulk string
		}
		start := raw.Len()
		if _, err := io.CopyN(raw, r, int64(n)+2); err != nil {
			return err
		}
		if !bytes.HasSuffix(raw.Bytes()[start:], []byte("\r\n")) {
			return protocolf("%q: no \\r\\n after the data", line)
		}
		return nil
	}
	// An array, or one of RESP3's: n replies, read the same way.
	start := raw.Len() - len(line)
	switch head {
	case '%', '|':
		n *= 2 // maps and attributes hold key, value pairs
	}
	if head == '|' && n >= 0 {
		n++ // and then the reply they annotate
	}
	for range n {
		err := readInto(r, raw, depth+1, resp3)
		if raw.Len()-start > MaxLen {
			err = protocolf("a reply of over %d MiB", MaxLen>>20)
		}
		if err != nil {
			return err
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
