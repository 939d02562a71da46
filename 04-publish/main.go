// Lesson 04 (the blog's step 4): `PUBLISH messages <message>` as a
// RESP array, the form every driver sends. With lesson 03 waiting:
// `go run ./04-publish [message] [channel]`; `-` reads stdin.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	message, channel := "hey", "messages"
	if len(os.Args) > 1 {
		message = os.Args[1]
	}
	if len(os.Args) > 2 {
		channel = os.Args[2]
	}
	if message == "-" {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail("reading the message from standard input: %v", err)
		}
		message = string(data)
	}
	conn := connect()

	// Why not inline, as before? A message is data: it may hold
	// blanks, quotes, or `\r\n`. Inline, "can you hear me" would
	// be four arguments, and "hi\r\nFLUSHALL" would run FLUSHALL
	// as a second command. A bulk string says its length first,
	// so its bytes are never parsed at all.
	msg := encode("PUBLISH", channel, message)
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)

	// The reply is an integer: how many subscribers got it.
	r := bufio.NewReader(conn)
	reply, err := readLine(r)
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)

	fmt.Println("Close the connection")
	conn.Close()
	expect(reply, ":")
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
