// Lesson 01 (the blog's step 1): a Redis client is a TCP
// conversation. Open a connection, write the five bytes `ping\n`,
// print what Redis sends back, `+PONG\r\n`. `go run ./01-ping`
package main

import (
	"bufio"
	"fmt"
	"net"
	"time"
)

func main() {
	// Where Redis listens: REDIS_ADDR, or 127.0.0.1:6379, and
	// how long to wait: REDIS_TIMEOUT, or 5s (conn.go).
	configure()

	// A client is a TCP connection, nothing more. A dial that
	// gets no answer gives up after the timeout, and so does
	// any read or write after it: a silent server cannot make
	// us wait for ever.
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		dialFailed(err)
	}
	conn.SetDeadline(time.Now().Add(timeout))

	// The blog's first message. It is not RESP: a line that
	// does not start with `*` is an *inline command*, which
	// Redis splits on blanks, as telnet users type it.
	msg := "ping\n"
	fmt.Printf("Send: %q\n", msg)
	if _, err := conn.Write([]byte(msg)); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}

	// The reply is a *simple string*: `+`, the text, `\r\n`.
	// The blog calls read(100), which returns whatever has
	// arrived: here all of it, but in general part of a reply
	// or more than one. Up to the `\n` is exactly one simple
	// string: readLine (conn.go) reads that far and checks the
	// line's shape. %q shows the `\r` that print would hide.
	r := bufio.NewReader(conn)
	reply, err := readLine(r)
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)

	fmt.Println("Close the connection")
	conn.Close()
	expect(reply, "+")
}
