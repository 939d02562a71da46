// Lesson 03 (the blog's step 3): after `subscribe messages` Redis
// pushes a reply each time someone publishes, so we read in a
// loop, one whole reply at a time. `go run ./03-subscribe [chan]`
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	channel := "messages"
	if len(os.Args) > 1 {
		channel = inlineArg("channel", os.Args[1])
	}
	conn := connect()

	msg := "subscribe " + channel + "\n"
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)

	// Ctrl-C or SIGTERM closes the connection: the read ends.
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() { conn.Close() })

	// Redis confirms (subscribe, the channel, how many we listen
	// to); then no deadline: each message may take any time.
	want := fmt.Sprintf("*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:",
		len(channel), channel)
	r := bufio.NewReader(conn)
	for {
		reply, err := readReply(r, 0)
		if ctx.Err() != nil {
			fmt.Println("Close the connection")
			return
		}
		if err != nil {
			readFailed(err, reply)
		}
		fmt.Printf("Received: %q\n", reply)
		check(reply, want)
		conn.SetDeadline(time.Time{})
		want = "*"
	}
}

// readReply reads one whole reply, within bounds (docs/resp.md).
func readReply(r *bufio.Reader, depth int) (string, error) {
	if depth > 8 {
		return "", fmt.Errorf("arrays nested over 8 deep")
	}
	line, err := readLine(r)
	if err != nil || line[0] != '$' && line[0] != '*' {
		return line, err // simple string, error, integer: one line
	}
	n, err := strconv.Atoi(line[1 : len(line)-2])
	if err != nil || n < -1 || n > 64<<20 {
		return line, fmt.Errorf("%q: length not in -1..64Mi", line)
	}
	if line[0] == '$' && n >= 0 {
		// Bulk string: n bytes of any value, then `\r\n`.
		data := make([]byte, n+2)
		k, err := io.ReadFull(r, data)
		if err == nil && string(data[n:]) != "\r\n" {
			err = fmt.Errorf("%q: no \\r\\n after the data", line)
		}
		return line + string(data[:k]), err
	}
	// Array: n replies, read the same way. `$-1`, `*-1`: nil.
	b := []byte(line)
	for range n {
		elem, err := readReply(r, depth+1)
		if b = append(b, elem...); len(b) > 64<<20 {
			err = fmt.Errorf("a reply of over 64 MiB")
		}
		if err != nil {
			return string(b), err
		}
	}
	return string(b), nil
}
