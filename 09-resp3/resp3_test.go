package main

import (
	"bufio"
	"strconv"
	"strings"
	"testing"
)

// TestReadReply3 reads each RESP3 type whole, however it nests, and
// stops at the end of the reply: what follows is left unread.
func TestReadReply3(t *testing.T) {
	for _, reply := range []string{
		"_\r\n",
		"#t\r\n",
		",-inf\r\n",
		"(3492890328409238509324850943850943825024385\r\n",
		"!21\r\nSYNTAX invalid syntax\r\n",
		"=15\r\ntxt:Some string\r\n",
		"%2\r\n+first\r\n:1\r\n+second\r\n%1\r\n$1\r\nk\r\n_\r\n",
		"~2\r\n$1\r\na\r\n~0\r\n",
		">3\r\n$7\r\nmessage\r\n$8\r\nmessages\r\n$3\r\nhey\r\n",
		"|1\r\n+ttl\r\n:3600\r\n$5\r\nvalue\r\n",
		"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n*-1\r\n",
		"$-1\r\n",
	} {
		r := bufio.NewReader(strings.NewReader(reply + "+NEXT\r\n"))
		got, err := readReply3(r)
		if err != nil || got != reply {
			t.Errorf("readReply3(%q) = %q, %v", reply, got, err)
		}
		if rest, _ := r.ReadString('\n'); rest != "+NEXT\r\n" {
			t.Errorf("after %q, %q is left", reply, rest)
		}
	}
}

// TestBigBulk3: a bulk string of over half the budget is read whole,
// as readReply reads it; only a map counts its length twice.
func TestBigBulk3(t *testing.T) {
	data := strings.Repeat("x", maxReply/2+1)
	reply := "$" + strconv.Itoa(len(data)) + "\r\n" + data + "\r\n"
	got, err := readReply3(bufio.NewReader(strings.NewReader(reply)))
	if err != nil || got != reply {
		t.Errorf("a bulk string of %d bytes: %d bytes read, %v", len(data), len(got), err)
	}
	m := "%" + strconv.Itoa(maxReply/2+1) + "\r\n"
	if _, err := readReply3(bufio.NewReader(strings.NewReader(m))); err == nil ||
		err.Error() != "a reply of over 64 MiB" {
		t.Errorf("%q: %v, want a reply of over 64 MiB", m, err)
	}
}

// FuzzReadReply3: RESP3 is a superset of RESP2, so on any bytes,
// whatever readReply (resp.go) reads, readReply3 reads the same; and
// readReply3 never panics, whatever it is sent.
//
//	go test ./09-resp3 -run '^$' -fuzz FuzzReadReply3 -fuzztime 30s
func FuzzReadReply3(f *testing.F) {
	for _, s := range []string{
		"+PONG\r\n", "-ERR no\r\n", ":1\r\n", "$3\r\nhey\r\n", "$-1\r\n",
		"*2\r\n$1\r\na\r\n*-1\r\n", "*67108865\r\n", "%33554433\r\n",
		"%1\r\n+a\r\n:1\r\n", "_\r\n", "|1\r\n+a\r\n+b\r\n", ">1\r\n",
		"=3\r\nabc", "!-1\r\n", "~-1\r\n", "$3\r\nheyXY", "?\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		two := bufio.NewReader(strings.NewReader(string(data)))
		three := bufio.NewReader(strings.NewReader(string(data)))
		for {
			want, err2 := readReply(two)
			got, err3 := readReply3(three)
			if err2 != nil {
				return // RESP3 may read more: nothing to compare
			}
			if err3 != nil || got != want {
				t.Fatalf("%q: readReply reads %q, readReply3 %q, %v",
					data, want, got, err3)
			}
		}
	})
}
