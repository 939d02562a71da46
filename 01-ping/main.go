// Lesson 01 (the blog's step 1): a Redis client is a TCP
// conversation. Open a connection, write the five bytes `ping\n`,
// print what Redis sends back, `+PONG\r\n`. `go run ./01-ping`
package main

import (
	"bufio"
	"fmt"
)

func main() {
	// Dial REDIS_ADDR (conn.go): a client is a TCP connection.
	conn := connect()

	// The blog's first message. It is not RESP: a line that
	// does not start with `*` is an *inline command*, which
	// Redis splits on blanks, as telnet users type it.
	msg := "ping\n"
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)

	// The reply is a *simple string*: `+`, the text, `\r\n`.
	// The blog calls read(100), which returns whatever has
	// arrived: here all of it, but in general part of a reply
	// or more than one. Up to the `\n` is exactly one simple
	// string. %q shows the `\r` that print would hide.
	r := bufio.NewReader(conn)
	reply, err := readLine(r)
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)

	fmt.Println("Close the connection")
	conn.Close()
	check(reply, "+")
}
