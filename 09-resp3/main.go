// Lesson 09 (beyond the blog): RESP3. After `HELLO 3` replies
// say what they are, a map, a set, a double, a null; what Redis
// sends unasked (messages, invalidations) is a push, `>`, told
// from a reply by its first byte. `go run ./09-resp3 [channel]`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	parseFlags("09-resp3 [channel]", 1)
	// The channel is the argument, or `messages`.
	channel := append(flag.Args(), "messages")[0]
	conn := connect()
	r := bufio.NewReader(conn)

	// HELLO 3 switches this connection to RESP3. The answer is a
	// map, `%7\r\n`: seven keys, each followed by its value.
	ask(conn, r, "%", "HELLO", "3")

	// Replies that RESP2 sends as arrays now say what they hold:
	// `~` a set, `%` a map of field and value, `,` a double.
	ask(conn, r, ":", "SADD", "my-set", "hey")
	ask(conn, r, "~", "SMEMBERS", "my-set")
	ask(conn, r, ":", "HSET", "my-hash", "greeting", "hey")
	ask(conn, r, "%", "HGETALL", "my-hash")
	ask(conn, r, ",", "ZINCRBY", "my-zset", "1.5", "hey")

	// Client-side caching: Redis now remembers the keys we read,
	// and pushes an invalidation when one changes. A missing key
	// reads as `_\r\n`, RESP3's one null (RESP2: `$-1\r\n`).
	ask(conn, r, "+", "CLIENT", "TRACKING", "on")
	ask(conn, r, "", "GET", "my-key")

	// The confirmation of SUBSCRIBE is a push too. Under RESP3 the
	// subscribed connection still takes any command.
	ask(conn, r, ">3\r\n$9\r\nsubscribe\r\n", "SUBSCRIBE", channel)

	// Wait for pushes, with no deadline, until Ctrl-C. After an
	// invalidation the value we read is stale: read it again.
	closeOnInterrupt(conn)
	for {
		conn.SetDeadline(time.Time{})
		push := next(r)
		if strings.HasPrefix(push, ">2\r\n$10\r\ninvalidate\r\n") {
			conn.SetDeadline(time.Now().Add(timeout))
			ask(conn, r, "", "GET", "my-key")
		}
	}
}

// ask sends a command and prints what comes until its reply: a
// push (`>`) may come first. The reply must start with want.
func ask(conn net.Conn, r *bufio.Reader, want string,
	args ...string) {
	msg := encode(args...)
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)
	reply := next(r)
	for reply[0] == '>' && !strings.HasPrefix(want, ">") {
		reply = next(r)
	}
	expect(reply, want)
}

// next reads one whole reply or push and prints it. Ctrl-C ends
// the program here, with status 0.
func next(r *bufio.Reader) string {
	reply, err := readReply3(r)
	if interrupted() {
		fmt.Println("Close the connection")
		os.Exit(0)
	}
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)
	return reply
}

// readReply3 is readReply for RESP3: `_ , # (` are one line, as
// `:` is; `! =` carry n bytes, as `$`; `~ >` hold n replies, as
// `*`; a map `%n` holds n keys and n values, and attributes `|n`
// n pairs before the reply they describe.
func readReply3(r *bufio.Reader) (string, error) {
	var b []byte
	for left := 1; left > 0; left-- {
		line, err := readLine3(r)
		if b = append(b, line...); err != nil {
			return string(b), err
		}
		if !strings.Contains("$!=*~>%|", line[:1]) {
			continue // A type of one line: + - : _ , # (.
		}
		n, err := strconv.Atoi(line[1 : len(line)-2])
		switch {
		case err != nil || n < -1 || n > maxReply:
			return string(b), fmt.Errorf("%q: length not in "+
				"-1..64Mi", line)
		case n > maxReply-len(b),
			strings.Contains("%|", line[:1]) && 2*n > maxReply-len(b):
			return string(b), fmt.Errorf("a reply of over 64 MiB")
		}
		switch {
		case line[0] == '%' && n > 0:
			left += 2 * n // A map: n keys, n values.
		case line[0] == '|' && n >= 0:
			left += 2*n + 1 // Attributes: pairs, then the reply.
		case strings.Contains("*~>", line[:1]) && n > 0:
			left += n
		case strings.Contains("$!=", line[:1]) && n >= 0:
			data := make([]byte, n+2)
			k, err := io.ReadFull(r, data)
			b = append(b, data[:k]...)
			if err == nil && string(data[n:]) != "\r\n" {
				err = fmt.Errorf("%q: no \\r\\n after the data", line)
			}
			if err != nil {
				return string(b), err
			}
		}
	}
	return string(b), nil
}

// readLine3 is readLine (conn.go) with RESP3's type bytes.
func readLine3(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", fmt.Errorf("a line of over %d bytes", r.Size())
	case err != nil:
		return string(line), err
	case len(line) < 3 || line[len(line)-2] != '\r':
		return "", fmt.Errorf("%q: a line must end in \\r\\n", line)
	case !strings.Contains("+-:$*_,#(!=%~>|", string(line[:1])):
		return "", fmt.Errorf("%q: no reply type starts with %q",
			line, line[:1])
	}
	return string(line), nil
}
