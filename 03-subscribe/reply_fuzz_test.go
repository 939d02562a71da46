package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"redis-by-hand/internal/resp"
)

// FuzzReadReply holds internal/resp, which the tests and scripts use,
// to the lesson's readReply: on any bytes, both read the same replies,
// and both refuse, or both run out of input, at the same point.
//
//	go test ./03-subscribe -run '^$' -fuzz FuzzReadReply -fuzztime 30s
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{
		"+PONG\r\n", "-ERR no\r\n", ":1\r\n", "$3\r\nhey\r\n",
		"$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
		"*3\r\n$9\r\nsubscribe\r\n$8\r\nmessages\r\n:1\r\n",
		"*2\r\n*1\r\n:1\r\n$2\r\nhi\r\n+OK\r\n",
		"$abc\r\n", "$3\r\nheyXY", "$3\r\nhey", "\r\n", "\n",
		"+PONG\n", "HTTP/1.1 400 Bad Request\r\n", "$+3\r\nhey\r\n",
		"$-2\r\n", "*67108865\r\n", "$9223372036854775807\r\n",
		"%1\r\n+a\r\n:1\r\n", "_\r\n", "+a\rb\r\n", "\r\r\n",
		strings.Repeat("*1\r\n", 10) + ":1\r\n",
		strings.Repeat("*1\r\n", 9) + ":1\r\n",
		"+" + strings.Repeat("a", 5000) + "\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lesson := bufio.NewReader(bytes.NewReader(data))
		shared := bufio.NewReader(bytes.NewReader(data))
		for i := 0; ; i++ {
			got, lerr := readReply(lesson)
			want, rerr := resp.ReadReply(shared)
			if (lerr == nil) != (rerr == nil) {
				t.Fatalf("reply %d of %q: readReply says %q, %v;"+
					" resp.ReadReply %q, %v", i, data, got, lerr,
					want, rerr)
			}
			if lerr == nil {
				if got != string(want) {
					t.Fatalf("reply %d of %q: readReply read %q, "+
						"resp.ReadReply %q", i, data, got, want)
				}
				continue
			}
			// Both failed: for the same reason.
			lend := errors.Is(lerr, io.EOF) && got == ""
			lshort := errors.Is(lerr, io.EOF) ||
				errors.Is(lerr, io.ErrUnexpectedEOF)
			var perr resp.ProtocolError
			if lend != (rerr == io.EOF) ||
				lshort != (rerr == io.ErrUnexpectedEOF || lend) ||
				!lshort != errors.As(rerr, &perr) {
				t.Fatalf("reply %d of %q: readReply fails with %v,"+
					" resp.ReadReply with %v", i, data, lerr, rerr)
			}
			if !lshort && lerr.Error() != rerr.Error() {
				t.Fatalf("reply %d of %q: readReply says %q, "+
					"resp.ReadReply %q", i, data, lerr, rerr)
			}
			return
		}
	})
}
