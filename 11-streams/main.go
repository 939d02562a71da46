// Lesson 11 (beyond the blog): a job queue on a stream. Unlike
// lesson 07's list, a stream keeps a job until a worker
// acknowledges it (XACK), so the job of a worker that crashed is
// still there, and another worker claims it (XAUTOCLAIM).
// `go run ./11-streams add MSG...`, `go run ./11-streams work`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The stream and its consumer group. Lesson 07's queue is a list
// named `jobs`: a stream under the same name would make one of
// them fail with WRONGTYPE on a server both use.
const stream, group = "stream:jobs", "workers"

func main() {
	const usage = "11-streams add MSG... | 11-streams work " +
		"[-name worker-PID] [-claim 30s] [-crash-after N] [-drain]"
	if len(os.Args) < 2 || os.Args[1] != "add" && os.Args[1] != "work" {
		fail("usage: %s", usage)
	}
	add := os.Args[1] == "add"
	// The flags come after add or work.
	os.Args = append(os.Args[:1], os.Args[2:]...)
	name := flag.String("name", "worker-"+strconv.Itoa(os.Getpid()),
		"this worker's name in the group")
	claim := flag.Duration("claim", 30*time.Second,
		"claim jobs left unacknowledged for this long")
	crash := flag.Int("crash-after", 0, "exit without XACK at job N")
	drain := flag.Bool("drain", false, "exit once no job is left")
	most := 0
	if add {
		most = 1 << 20
	}
	parseFlags(usage, most)
	if *claim < time.Millisecond || add && flag.NArg() == 0 {
		fail("usage: %s (-claim 1ms or more)", usage)
	}
	conn := connect()
	r := bufio.NewReader(conn)
	timeout += *claim // A wait for a job lasts up to -claim.

	// XADD appends an entry, here one field, `job`, and answers
	// its ID: `*` lets Redis pick it, the time in ms and a count.
	if add {
		for _, msg := range flag.Args() {
			request(conn, r, "$", "XADD", stream, "*", "job", msg)
		}
		fmt.Println("Close the connection")
		conn.Close()
		return
	}

	// The group reads the stream from its start, `0`; it may
	// exist already (`-BUSYGROUP`), which is as good.
	if reply := request(conn, r, "", "XGROUP", "CREATE", stream, group,
		"0", "MKSTREAM"); !strings.HasPrefix(reply, "-BUSYGROUP") {
		expect(reply, "+OK")
	}

	// Ctrl-C ends a wait, and the program, with status 0.
	closeOnInterrupt(conn)
	done := 0
	ms := strconv.FormatInt(claim.Milliseconds(), 10)
	job := func(id, payload string) {
		if done++; done == *crash {
			fail("-crash-after %d: exiting without XACK of %q",
				*crash, payload)
		}
		fmt.Printf("Job: %q\n", payload)
		request(conn, r, ":1", "XACK", stream, group, id)
	}
	for {
		// First the jobs that other workers took and left without
		// XACK for longer than -claim: a crashed worker's.
		for cursor := "0-0"; ; {
			b := bulks(request(conn, r, "*3", "XAUTOCLAIM",
				stream, group, *name, ms, cursor, "COUNT", "1"))
			if cursor = b[0]; len(b) >= 4 {
				job(b[1], b[3])
			} else if cursor == "0-0" {
				break
			}
		}
		// Then one new job, `>`, waiting up to -claim for it.
		b := bulks(request(conn, r, "*", "XREADGROUP", "GROUP", group,
			*name, "COUNT", "1", "BLOCK", ms, "STREAMS", stream, ">"))
		if len(b) >= 4 {
			job(b[1], b[3])
			continue
		}
		// No new job: with -drain, stop once none is pending.
		if *drain && strings.HasPrefix(request(conn, r, "*4",
			"XPENDING", stream, group), "*4\r\n:0\r\n") {
			fmt.Println("Close the connection")
			conn.Close()
			return
		}
	}
}

// request sends a command, prints it and its reply, and checks
// that the reply starts with want, unless want is "".
func request(conn net.Conn, r *bufio.Reader, want string,
	args ...string) string {
	conn.SetDeadline(time.Now().Add(timeout))
	msg := encode(args...)
	fmt.Printf("Send: %q\n", msg)
	// Ctrl-C may close conn under the write: then say goodbye.
	if _, err := fmt.Fprint(conn, msg); err != nil && !interrupted() {
		fail("cannot send to %s: %v", addr, err)
	}
	reply, err := readReply(r)
	if interrupted() {
		fmt.Println("Close the connection")
		os.Exit(0)
	}
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)
	if want != "" {
		expect(reply, want)
	}
	return reply
}

// bulks are the bulk strings of a reply, in order: for an entry,
// its ID, then each field and its value. readReply has checked
// the framing.
func bulks(reply string) []string {
	var out []string
	for reply != "" {
		line, rest, _ := strings.Cut(reply, "\r\n")
		reply = rest
		n, err := strconv.Atoi(line[1:])
		if line[0] == '$' && err == nil && n >= 0 {
			out, reply = append(out, reply[:n]), reply[n+2:]
		}
	}
	return out
}
