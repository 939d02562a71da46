// Lesson 05 (beyond the blog): pipelining. Send N `INCR my-key`
// one at a time, then all N in one write, and time both. With
// -n 10 or fewer it prints the bytes instead of the timings.
// `go run ./05-pipeline [-n 10000]`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

func main() {
	// -n INCRs: up to 10 are few enough to print their bytes;
	// more are enough to time.
	n := flag.Int("n", 10000, "how many INCRs; 10 or fewer "+
		"print their bytes instead of timings")
	parseFlags("05-pipeline [-n 10000]", 0)
	if *n < 1 || *n > 1e6 {
		fail("-n must be from 1 to 1000000")
	}
	show := *n <= 10

	// One connection for both ways, and one command, encoded
	// once as lesson 04 does.
	conn := connect()
	r := bufio.NewReader(conn)
	cmd := encode("INCR", "my-key")

	// Timing takes a while (seconds, on a slow server): say so.
	if !show {
		fmt.Fprintf(os.Stderr, "%s: timing %d INCRs one at a "+
			"time, then pipelined...\n", lesson, *n)
	}

	// One at a time: write a command, wait for its reply, and
	// only then write the next. Each INCR costs a round trip:
	// the request crosses to Redis, the reply crosses back.
	start := time.Now()
	for range *n {
		if show {
			fmt.Printf("Send: %q\n", cmd)
		}
		send(conn, cmd)
		receive(conn, r, show)
	}
	single := time.Since(start)

	// Pipelined: all N commands in one write, then N replies,
	// in the order of the commands. One round trip for all.
	// The write runs on its own goroutine. The server answers
	// as it reads; once the replies nobody reads yet fill the
	// socket buffers, it may stop reading our commands, and a
	// write that must finish before we read would wait for ever.
	all := strings.Repeat(cmd, *n)
	if show {
		fmt.Printf("Send: %q\n", all)
	}
	start = time.Now()
	go send(conn, all)
	for range *n {
		receive(conn, r, show)
	}
	piped := time.Since(start)

	// Too many to print: the timings instead.
	if !show {
		rate := func(d time.Duration) float64 {
			return float64(*n) / d.Seconds()
		}
		fmt.Printf("one at a time: %d INCRs in %v, %.0f a second\n",
			*n, single.Round(time.Microsecond), rate(single))
		fmt.Printf("pipelined:     %d INCRs in %v, %.0f a second\n",
			*n, piped.Round(time.Microsecond), rate(piped))
		fmt.Printf("pipelined is %.1f times as fast\n",
			single.Seconds()/piped.Seconds())
	}
	fmt.Println("Close the connection")
	conn.Close()
}

// receive reads one integer reply, `:<n>\r\n`, and prints it
// when show is set. Each reply renews the deadline, for reads
// and for the write still under way: N round trips may take
// longer than one timeout, but no single reply may.
func receive(conn net.Conn, r *bufio.Reader, show bool) {
	conn.SetDeadline(time.Now().Add(timeout))
	reply, err := readLine(r)
	if err != nil {
		readFailed(err, reply)
	}
	if show {
		fmt.Printf("Received: %q\n", reply)
	}
	expect(reply, ":")
}
