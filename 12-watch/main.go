// Lesson 12 (beyond the blog): optimistic locking. Each of W
// clients adds 1 to `hits` N times by reading it and writing it
// back, under WATCH: if another client changes the key between
// our GET and our EXEC, EXEC answers `*-1\r\n` and we try again.
// `go run ./12-watch [-workers 20] [-n 50] [-conflict]`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	workers := flag.Int("workers", 20, "clients, one connection each")
	n := flag.Int("n", 50, "how many times each client adds 1")
	conflict := flag.Bool("conflict", false,
		"another client changes hits during the first transaction")
	parseFlags("12-watch [-workers 20] [-n 50] [-conflict]", 0)
	if *workers < 1 || *workers > 1000 || *n < 1 || *n > 100000 {
		fail("-workers must be from 1 to 1000, -n from 1 to 100000")
	}
	// Print the bytes only for one client and 10 adds or fewer.
	show := *workers == 1 && *n <= 10

	// Another client reads hits before and after, and with
	// -conflict changes it once, under the first transaction.
	other := connect()
	or := bufio.NewReader(other)
	get := []string{"GET", "hits"}
	before := number(exchange(other, or, false, get)[0])
	var once sync.Once
	meanwhile := func() {
		once.Do(func() {
			if *conflict {
				fmt.Println("Another client: INCR hits")
				exchange(other, or, false, []string{"INCR", "hits"})
			}
		})
	}

	// Each worker has its own connection: a WATCH belongs to the
	// connection, and so does the transaction that it guards.
	var retries atomic.Int64
	var wg sync.WaitGroup
	for range *workers {
		conn := connect()
		wg.Go(func() {
			r := bufio.NewReader(conn)
			for range *n {
				for !addOne(conn, r, show, meanwhile) {
					retries.Add(1)
				}
			}
			if show {
				fmt.Println("Close the connection")
			}
			conn.Close()
		})
	}
	wg.Wait()

	// Not one add was lost, however the clients interleaved.
	other.SetDeadline(time.Now().Add(timeout))
	after := number(exchange(other, or, false, get)[0])
	fmt.Printf("hits went from %d to %d, with -workers %d -n %d "+
		"(retries: %d)\n", before, after, *workers, *n,
		retries.Load())
	if *conflict {
		before++ // -conflict's INCR was one add more.
	}
	if after-before != *workers**n {
		fail("hits grew by %d, not %d", after-before, *workers**n)
	}
}

// addOne reads hits and writes it back plus 1, in two round trips,
// and reports whether EXEC ran the transaction.
func addOne(conn net.Conn, r *bufio.Reader, show bool,
	meanwhile func()) bool {
	conn.SetDeadline(time.Now().Add(timeout))

	// WATCH first, then GET: a change after the WATCH, even one
	// before our GET, makes EXEC fail, so nothing slips through.
	got := exchange(conn, r, show, []string{"WATCH", "hits"},
		[]string{"GET", "hits"})
	expect(got[0], "+OK")
	v := number(got[1])
	meanwhile()

	// MULTI queues the SET (`+QUEUED`); EXEC runs it only if no
	// watched key changed: `*1\r\n+OK\r\n`. Otherwise it runs
	// nothing and answers the nil array, `*-1\r\n`.
	got = exchange(conn, r, show, []string{"MULTI"},
		[]string{"SET", "hits", strconv.Itoa(v + 1)}, []string{"EXEC"})
	expect(got[1], "+QUEUED")
	if got[2] == "*-1\r\n" {
		return false
	}
	expect(got[2], "*1\r\n+OK\r\n")
	return true
}

// exchange sends commands in one write, then reads a reply for
// each, printing the bytes when show is set.
func exchange(conn net.Conn, r *bufio.Reader, show bool,
	cmds ...[]string) []string {
	var msg strings.Builder
	for _, c := range cmds {
		msg.WriteString(encode(c...))
	}
	if show {
		fmt.Printf("Send: %q\n", msg.String())
	}
	send(conn, msg.String())
	replies := make([]string, len(cmds))
	for i := range replies {
		reply, err := readReply(r)
		if err != nil {
			readFailed(err, reply)
		}
		if show {
			fmt.Printf("Received: %q\n", reply)
		}
		expect(reply, "")
		replies[i] = reply
	}
	return replies
}

// number is the integer in a GET's reply: `$-1\r\n` (no key) is 0.
func number(reply string) int {
	if reply == "$-1\r\n" {
		return 0
	}
	_, s, _ := strings.Cut(strings.TrimSuffix(reply, "\r\n"), "\r\n")
	v, err := strconv.Atoi(s)
	if err != nil || !strings.HasPrefix(reply, "$") {
		fail("hits holds %q, not a number", reply)
	}
	return v
}
