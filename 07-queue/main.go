// Lesson 07 (beyond the blog): the "message queues" the blog
// promises. A producer pushes jobs onto a list; a worker pops
// them, waiting inside Redis while the list is empty. Run
// `go run ./07-queue push [job...]`, `go run ./07-queue work [s]`.
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
	args := os.Args[1:]
	switch {
	case len(args) > 0 && args[0] == "push":
		push(args[1:])
	case len(args) == 1 && args[0] == "work":
		work("0")
	case len(args) == 2 && args[0] == "work":
		work(args[1])
	default:
		fail("usage: 07-queue push [job...] | " +
			"07-queue work [seconds]")
	}
}

// push adds jobs at the head of the list `jobs`. Unlike PUBLISH
// to nobody (lesson 04), the job stays there until a worker
// takes it: LPUSH answers the length of the list.
func push(jobs []string) {
	if len(jobs) == 0 {
		jobs = []string{"job-1"}
	}
	conn := connect()

	msg := encode(append([]string{"LPUSH", "jobs"}, jobs...)...)
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)

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

// work takes jobs from the tail of the list, oldest first, one
// BRPOP at a time. BRPOP blocks inside Redis until a job comes,
// or for secs seconds; 0 means for ever.
func work(secs string) {
	// The block time, checked before connecting: seconds, with
	// decimals if need be; 0 waits for ever. Written so that NaN,
	// which every comparison calls false, fails too.
	block, err := strconv.ParseFloat(secs, 64)
	if err != nil || !(block >= 0 && block <= 1e6) {
		fail("%q is not a number of seconds, such as 0 or 1.5",
			secs)
	}
	conn := connect()

	closeOnInterrupt(conn) // a BRPOP that waits ends on Ctrl-C

	// One BRPOP per job, until the block time passes with none.
	msg := encode("BRPOP", "jobs", secs)
	r := bufio.NewReader(conn)
	for {
		// Silence is not a failure here: Redis answers when a
		// job comes. A read deadline shorter than the block
		// time would give up on a healthy server, so there is
		// none with 0, and block time + timeout otherwise.
		deadline := time.Time{}
		if block > 0 {
			wait := time.Duration(block * float64(time.Second))
			deadline = time.Now().Add(wait + timeout)
		}
		conn.SetDeadline(deadline)
		// Ctrl-C closes the connection: a write or a read fails,
		// and that is the end, not an error.
		fmt.Printf("Send: %q\n", msg)
		_, err := io.WriteString(conn, msg)
		reply := ""
		if err == nil {
			reply, err = readReply(r)
		}
		if err == nil {
			fmt.Printf("Received: %q\n", reply)
		} else if interrupted() {
			break
		} else {
			readFailed(err, reply)
		}
		// A job is `*2\r\n`, the list's name, the job. After
		// the block time with no job: a nil array, `*-1\r\n`.
		if reply == "*-1\r\n" {
			break
		}
		expect(reply, "*2\r\n")
	}
	fmt.Println("Close the connection")
	conn.Close()
}
