// Lesson 07 (beyond the blog): the "message queues" the blog
// promises. A producer pushes jobs onto a list; a worker pops
// them, waiting inside Redis while the list is empty. Run
// `go run ./07-queue push [job...]`, `go run ./07-queue work [s]`.
package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
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
	check(reply, ":")
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

	// Ctrl-C or SIGTERM closes the connection: the read ends.
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, func() { conn.Close() })

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
		fmt.Printf("Send: %q\n", msg)
		_, err := io.WriteString(conn, msg)
		reply := ""
		if err == nil {
			reply, err = readReply(r, 0)
		}
		if err == nil {
			fmt.Printf("Received: %q\n", reply)
		}
		if ctx.Err() != nil {
			break // Ctrl-C closed the connection
		}
		if err != nil {
			readFailed(err, reply)
		}
		// A job is `*2\r\n`, the list's name, the job. After
		// the block time with no job: a nil array, `*-1\r\n`.
		if reply == "*-1\r\n" {
			break
		}
		check(reply, "*2\r\n")
	}
	fmt.Println("Close the connection")
	conn.Close()
}

// encode writes a command as a RESP array of bulk strings, as
// lesson 04 does.
func encode(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// readReply reads one whole reply, as lesson 03 does: the type
// and the length, then that much, within bounds.
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
