// Package resp reads Redis replies whole and writes commands, for the
// code around the lessons (each lesson carries its own, on purpose).
package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// ReadReply reads one complete RESP2 or RESP3 reply and returns its
// raw bytes. At a clean end of the stream it returns io.EOF.
func ReadReply(r *bufio.Reader) ([]byte, error) {
	var raw bytes.Buffer
	err := readInto(r, &raw)
	return raw.Bytes(), err
}

func readInto(r *bufio.Reader, raw *bytes.Buffer) error {
	line, err := r.ReadBytes('\n')
	raw.Write(line)
	if err == io.EOF && raw.Len() > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return fmt.Errorf("reply line %q does not end in \\r\\n", line)
	}
	head, body := line[0], string(line[1:len(line)-2])
	switch head {
	case '+', '-', ':', ',', '#', '_', '(':
		return nil
	case '$', '!', '=':
		n, err := strconv.Atoi(body)
		if err != nil || n < 0 {
			return nil // $-1: the null bulk string
		}
		_, err = io.CopyN(raw, r, int64(n)+2)
		return err
	case '*', '>', '~', '%', '|':
		n, err := strconv.Atoi(body)
		if err != nil {
			return fmt.Errorf("bad length in %q", line)
		}
		if head == '%' || head == '|' {
			n *= 2 // maps and attributes hold key, value pairs
		}
		for range n {
			if err := readInto(r, raw); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown reply type %q in %q", head, line)
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
