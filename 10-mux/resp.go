// resp.go is what lessons 03 and 04 taught, shared byte for byte
// by the lessons after them (a test keeps the copies equal, and
// equal to the lessons that teach them): encode, from lesson 04,
// and readReply, from lesson 03.

//lint:file-ignore U1000 resp.go is shared: not every lesson uses all of it.

package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxReply bounds one whole reply, however it nests: a server
// cannot make us hold more than this.
const maxReply = 64 << 20

// readReply reads one whole reply and returns its bytes. A reply
// is one line, but a bulk string says `$n` and n bytes follow,
// and an array says `*n` and n more replies follow: so we count
// the replies left to read, and the bytes read so far.
func readReply(r *bufio.Reader) (string, error) {
	var b []byte
	for left := 1; left > 0; left-- {
		line, err := readLine(r)
		if b = append(b, line...); err != nil {
			return string(b), err
		}
		if line[0] != '$' && line[0] != '*' {
			continue // simple string, error, integer: one line
		}
		// The server is not trusted: a length is checked before
		// we allocate or loop, against what the reply may still
		// hold.
		n, err := strconv.Atoi(line[1 : len(line)-2])
		switch {
		case err != nil || n < -1 || n > maxReply:
			return string(b), fmt.Errorf("%q: length not in "+
				"-1..64Mi", line)
		case n > maxReply-len(b):
			return string(b), fmt.Errorf("a reply of over 64 MiB")
		}
		switch {
		case line[0] == '*' && n > 0:
			left += n // its elements are replies to read too
		case line[0] == '$' && n >= 0:
			// n bytes of any value, then `\r\n`.
			data := make([]byte, n+2)
			k, err := io.ReadFull(r, data)
			b = append(b, data[:k]...)
			if err == nil && string(data[n:]) != "\r\n" {
				err = fmt.Errorf("%q: no \\r\\n after the data",
					line)
			}
			if err != nil {
				return string(b), err
			}
		}
		// `$-1` and `*-1` are nil, `*0` is empty: nothing more.
	}
	return string(b), nil
}

// encode writes a command as a RESP array of bulk strings:
// `*<count>\r\n`, then `$<length>\r\n<bytes>\r\n` for each
// argument. The length counts bytes, not characters.
func encode(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}
