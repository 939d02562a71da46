package resp

import (
	"bufio"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// nested is n arrays of one element, around last.
func nested(n int, last string) string {
	return strings.Repeat("*1\r\n", n) + last
}

var readTests = []struct {
	name  string
	in    string
	resp3 bool   // read with ReadReply3
	want  string // the reply read; "" when it fails
	err   string // the error; "" when it reads
}{
	{name: "simple string", in: "+PONG\r\n", want: "+PONG\r\n"},
	{name: "empty simple string", in: "+\r\n", want: "+\r\n"},
	{name: "error", in: "-ERR no\r\n", want: "-ERR no\r\n"},
	{name: "integer", in: ":-12\r\n", want: ":-12\r\n"},
	{name: "CR inside a line", in: "+a\rb\r\n", want: "+a\rb\r\n"},
	{name: "bulk", in: "$3\r\nhey\r\n", want: "$3\r\nhey\r\n"},
	{name: "bulk holding CRLF", in: "$4\r\n\r\n\r\n\r\n",
		want: "$4\r\n\r\n\r\n\r\n"},
	{name: "empty bulk", in: "$0\r\n\r\n", want: "$0\r\n\r\n"},
	{name: "null bulk", in: "$-1\r\n", want: "$-1\r\n"},
	{name: "null array", in: "*-1\r\n", want: "*-1\r\n"},
	{name: "empty array", in: "*0\r\n", want: "*0\r\n"},
	{name: "one reply of two", in: ":1\r\n:2\r\n", want: ":1\r\n"},
	{name: "subscribe confirmation",
		in:   "*3\r\n$9\r\nsubscribe\r\n$8\r\nmessages\r\n:1\r\n",
		want: "*3\r\n$9\r\nsubscribe\r\n$8\r\nmessages\r\n:1\r\n"},
	{name: "nested arrays", in: "*2\r\n*1\r\n:1\r\n$-1\r\n",
		want: "*2\r\n*1\r\n:1\r\n$-1\r\n"},
	{name: "8 nested arrays", in: nested(8, ":1\r\n"),
		want: nested(8, ":1\r\n")},
	{name: "1000 nested arrays", in: nested(1000, ":1\r\n"),
		want: nested(1000, ":1\r\n")},

	{name: "no input", in: "", err: "EOF"},
	{name: "half a line", in: "+PO", err: "unexpected EOF"},
	{name: "half a bulk", in: "$3\r\nhe", err: "unexpected EOF"},
	{name: "bulk without its CRLF", in: "$3\r\nhey", err: "unexpected EOF"},
	{name: "half an array", in: "*2\r\n:1\r\n", err: "unexpected EOF"},
	{name: "empty line", in: "\r\n",
		err: `"\r\n": an empty line has no type byte`},
	{name: "bare LF", in: "\n",
		err: `"\n": an empty line has no type byte`},
	{name: "LF without CR", in: "+PONG\n",
		err: `"+PONG\n": a line must end in \r\n`},
	{name: "not RESP", in: "HTTP/1.1 400 Bad Request\r\n",
		err: `"HTTP/1.1 400 Bad Request\r\n": no reply type starts with "H"`},
	{name: "RESP3 under RESP2", in: "_\r\n",
		err: `"_\r\n": no reply type starts with "_"`},
	{name: "a line too long", in: "+" + strings.Repeat("a", 5000) + "\r\n",
		err: "a line of over 4096 bytes"},
	{name: "length not a number", in: "$abc\r\n",
		err: `"$abc\r\n": length not in -1..64Mi`},
	{name: "no length", in: "*\r\n", err: `"*\r\n": length not in -1..64Mi`},
	{name: "length below -1", in: "$-2\r\n",
		err: `"$-2\r\n": length not in -1..64Mi`},
	{name: "length of 2^63-1", in: "$9223372036854775807\r\n",
		err: `"$9223372036854775807\r\n": length not in -1..64Mi`},
	{name: "length too large", in: "$1000000000000\r\n",
		err: `"$1000000000000\r\n": length not in -1..64Mi`},
	{name: "array too long", in: "*2147483647\r\n:1\r\n",
		err: `"*2147483647\r\n": length not in -1..64Mi`},
	{name: "data then no CRLF", in: "$3\r\nheyXY",
		err: `"$3\r\n": no \r\n after the data`},
	{name: "data too long", in: "$2\r\nhey\r\n",
		err: `"$2\r\n": no \r\n after the data`},
	{name: "arrays without end", in: nested(100000, ""),
		err: "unexpected EOF"},

	{name: "RESP3 null", resp3: true, in: "_\r\n", want: "_\r\n"},
	{name: "RESP3 boolean", resp3: true, in: "#t\r\n", want: "#t\r\n"},
	{name: "RESP3 double", resp3: true, in: ",3.14\r\n", want: ",3.14\r\n"},
	{name: "RESP3 verbatim", resp3: true, in: "=7\r\ntxt:hey\r\n",
		want: "=7\r\ntxt:hey\r\n"},
	{name: "RESP3 map", resp3: true, in: "%1\r\n+key\r\n:1\r\n:2\r\n",
		want: "%1\r\n+key\r\n:1\r\n"},
	{name: "RESP3 push", resp3: true,
		in:   ">3\r\n$7\r\nmessage\r\n$8\r\nmessages\r\n$3\r\nhey\r\n",
		want: ">3\r\n$7\r\nmessage\r\n$8\r\nmessages\r\n$3\r\nhey\r\n"},
	{name: "RESP3 attribute and its reply", resp3: true,
		in:   "|1\r\n+ttl\r\n:3600\r\n$3\r\nhey\r\n:2\r\n",
		want: "|1\r\n+ttl\r\n:3600\r\n$3\r\nhey\r\n"},
	{name: "RESP3 null with text", resp3: true, in: "_x\r\n",
		err: `"_x\r\n": a null has no text`},
	{name: "RESP3 boolean not t or f", resp3: true, in: "#x\r\n",
		err: `"#x\r\n": a boolean is t or f`},
	{name: "RESP3 bad length", resp3: true, in: "%abc\r\n",
		err: `"%abc\r\n": length not in -1..64Mi`},
	{name: "RESP3 maps nested", resp3: true,
		in:   strings.Repeat("%1\r\n:1\r\n", 9) + ":1\r\n",
		want: strings.Repeat("%1\r\n:1\r\n", 9) + ":1\r\n"},
	{name: "RESP3 attribute, then its reply", resp3: true,
		in:   "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n:9\r\n",
		want: "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n"},
}

func TestReadReply(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			read := ReadReply
			if tt.resp3 {
				read = ReadReply3
			}
			got, err := read(bufio.NewReader(strings.NewReader(tt.in)))
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("reading %q: %v", tt.in, err)
			case tt.err == "" && string(got) != tt.want:
				t.Fatalf("reading %q: got %q, want %q", tt.in, got, tt.want)
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("reading %q: error %v, want %s", tt.in, err, tt.err)
			}
			// A protocol error is told from a stream that ended.
			var perr ProtocolError
			ended := err == io.EOF || err == io.ErrUnexpectedEOF
			if err != nil && ended == errors.As(err, &perr) {
				t.Errorf("reading %q: %v (%T) should be ProtocolError "+
					"or the end of the stream", tt.in, err, err)
			}
		})
	}
}

// TestReadReplyReadsOnlyOneReply: what follows a reply stays unread,
// for the next call.
func TestReadReplySequence(t *testing.T) {
	in := "+OK\r\n$3\r\nhey\r\n*1\r\n:1\r\n"
	r := bufio.NewReader(strings.NewReader(in))
	var got []string
	for {
		reply, err := ReadReply(r)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(reply))
	}
	want := []string{"+OK\r\n", "$3\r\nhey\r\n", "*1\r\n:1\r\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestHostileBounded: a server that never stops sending gets one
// error, after reading and allocating a bounded amount, never a crash.
func TestHostileBounded(t *testing.T) {
	bulk := "$65536\r\n" + strings.Repeat("a", 65536) + "\r\n"
	for _, tt := range []struct {
		head, body, err string
		alloc           uint64 // at most this many bytes allocated
	}{
		// Arrays inside arrays for ever, each with 64 KiB beside
		// the next: the budget is for the whole reply, however
		// deep. (03-subscribe's test nests *1 alone, 16 million
		// deep, in the lesson's reader.)
		{"", "*2\r\n" + bulk, "a reply of over 64 MiB", 5 * MaxLen},
		{"", "a", "a line of over 4096 bytes", 1 << 20},
		{"*2147483647\r\n", ":1\r\n",
			`"*2147483647\r\n": length not in -1..64Mi`, 1 << 20},
		{"*67108864\r\n", bulk, "a reply of over 64 MiB", 4 * MaxLen},
		{"*2\r\n$67108000\r\n", "a",
			`"$67108000\r\n": no \r\n after the data`, 4 * MaxLen},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := bufio.NewReader(&Endless{Head: tt.head, Body: tt.body})
		_, err := ReadReply(r)
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q then %.8q forever: error %v, want %s",
				tt.head, tt.body, err, tt.err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > tt.alloc {
			t.Errorf("%q then %.8q forever: %d bytes allocated, want at most %d",
				tt.head, tt.body, n, tt.alloc)
		}
	}
}

func TestAppendCommand(t *testing.T) {
	got := AppendCommand([]byte("x"), []byte("PUBLISH"), []byte("ch"),
		[]byte("a b\r\n"), nil)
	want := "x*4\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$5\r\na b\r\n\r\n$0\r\n\r\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
