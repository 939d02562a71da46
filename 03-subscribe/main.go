// Lesson 03 (the blog's step 3): after `subscribe messages` Redis
// pushes a reply each time someone publishes, so we read in a
// loop, one whole reply at a time. `go run ./03-subscribe [chan]`
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
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

	// We wait for messages until Ctrl-C, which closes the
	// connection (conn.go): the read that waits then ends.
	closeOnInterrupt(conn)

	// Redis confirms (subscribe, the channel, how many we listen
	// to); then no deadline: each message may take any time.
	want := fmt.Sprintf("*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:",
		len(channel), channel)
	r := bufio.NewReader(conn)
	for {
		reply, err := readReply(r)
		if interrupted() {
			fmt.Println("Close the connection")
			return
		}
		if err != nil {
			readFailed(err, reply)
		}
		fmt.Printf("Received: %q\n", reply)
		expect(reply, want)
		conn.SetDeadline(time.Time{})
		want = "*"
	}
}

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
