package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestRequestReader pins down how requests are cut into commands; the
// differential test checks the same against a real redis-server.
func TestRequestReader(t *testing.T) {
	tests := []struct {
		in   string
		want string // the commands, then "| need more" or "| error: ..."
	}{
		{"ping\n", `["ping"] | need more`},
		{"ping\r\n*1\r\n$4\r\nPING\r\n\r\n  \n", `["ping"] ["PING"] | need more`},
		{"*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", `["ECHO" "a\r\nb"] | need more`},
		{"*2\r\n$4\r\nECHO\r\n$4\r\na", `| need more`},
		{"*0\r\n*-1\r\nping\n", `["ping"] | need more`},
		{"*1\rX$4\r\nPINGxx", `["PING"] | need more`},
		{"ping\x00\n", `| need more`},
		{"echo 'a\nping\n", `| error: Protocol error: unbalanced quotes in request`},
		{"*x\r\n", `| error: Protocol error: invalid multibulk length`},
		{"*1\r\n+OK\r\n", `| error: Protocol error: expected '$', got '+'`},
		{"*1\r\n$-2\r\n", `| error: Protocol error: invalid bulk length`},
		{strings.Repeat("a", inlineMaxSize+1), `| error: Protocol error: too big inline request`},
		{strings.Repeat("a", inlineMaxSize) + "\n", `["` + strings.Repeat("a", inlineMaxSize) + `"] | need more`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.in), func(t *testing.T) {
			var r requestReader
			r.feed([]byte(tt.in))
			var got []string
			for {
				argv, err := r.next()
				if err != nil {
					got = append(got, "| error: "+err.Error())
					break
				}
				if argv == nil {
					got = append(got, "| need more")
					break
				}
				got = append(got, fmt.Sprintf("%q", argv))
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got  %.200s\nwant %.200s", g, tt.want)
			}
		})
	}
}

// TestBigArgumentBuffer: a big argument grows the buffer as it arrives,
// doubling, and to no more than it needs at the end.
func TestBigArgumentBuffer(t *testing.T) {
	const size = 3<<20 + 5
	req := "*1\r\n$" + strconv.Itoa(size) + "\r\n" + strings.Repeat("x", size) + "\r\n"
	var r requestReader
	src := strings.NewReader(req)
	for {
		if err := r.readFrom(src); err != nil {
			t.Fatalf("read all %d bytes, and no command: %v", len(req), err)
		}
		if c := cap(r.buf); c > 2*len(r.buf)+2*readChunk {
			t.Fatalf("%d bytes read, the buffer holds %d", len(r.buf), c)
		}
		argv, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		if argv != nil {
			if len(argv) != 1 || len(argv[0]) != size {
				t.Fatalf("got %d arguments", len(argv))
			}
			break
		}
	}
	if c := cap(r.base); c > size+2*readChunk {
		t.Errorf("a %d-byte argument took a %d-byte buffer", size, c)
	}
}
