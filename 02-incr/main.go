// Lesson 02 (the blog's step 2): `INCR my-key` adds one to the
// number at my-key and answers the new value. Run it three times:
// 1, 2, 3. The count lives in Redis. `go run ./02-incr [key]`
package main

import (
	"bufio"
	"fmt"
	"os"
)

func main() {
	// The key travels inline, so it may hold no blank, quote or
	// line break: inlineArg (conn.go) refuses those.
	key := "my-key"
	if len(os.Args) > 1 {
		key = inlineArg("key", os.Args[1])
	}
	conn := connect()

	// Inline again, as the blog types it: the command, a blank,
	// the key, a line feed.
	msg := "INCR " + key + "\n"
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)

	// An *integer* reply is `:`, the digits, `\r\n`; a refusal
	// is an *error* reply, `-`, the message, `\r\n`. One line
	// either way, so up to `\n` is one reply.
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
