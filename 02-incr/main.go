// Lesson 02 (the blog's step 2): `INCR my-key` adds one to the
// number at my-key and answers the new value. Run it three times:
// 1, 2, 3. The count lives in Redis. `go run ./02-incr [key]`
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

func main() {
	key := "my-key"
	if len(os.Args) > 1 {
		key = os.Args[1]
	}
	// A blank would split the key in two, and a line break would
	// end the command early: lesson 04 shows what carries them.
	if key == "" || strings.ContainsAny(key, " \t\r\n\v\f\"'") {
		fail("an inline command cannot carry the key %q: it must "+
			"be non-empty, without blanks or quotes", key)
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
	check(reply, ":")
}
