// Lesson 10 (beyond the blog): one connection, many goroutines.
// A writer sends what they ask, a reader reads the replies, and a
// FIFO of reply channels hands each to the goroutine that asked:
// Redis answers in order. `go run ./10-mux [-workers 100] [-n 100]`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

func main() {
	workers := flag.Int("workers", 100, "goroutines, a key each")
	n := flag.Int("n", 100, "INCRs for each goroutine")
	parseFlags("10-mux [-workers 100] [-n 100]", 0)
	if *workers < 1 || *workers > 10000 || *n < 1 || *n > 100000 {
		fail("-workers must be from 1 to 10000, -n from 1 to 100000")
	}
	// Print the bytes only for one goroutine and 10 INCRs or fewer.
	show := *workers == 1 && *n <= 10

	// All the goroutines share one connection.
	conn := connect()
	mux := incrAll(*workers, *n, multiplex(conn, *workers, show))
	fmt.Println("Close the connection")
	conn.Close()

	// Lesson 06's way: one connection, and a mutex around each
	// round trip, so only one request is on the wire at a time.
	conn = connect()
	locked := incrAll(*workers, *n, serial(conn))
	conn.Close()

	// A connection for each goroutine, as a pool would give.
	pool := make([]func(int, string) string, *workers)
	for i := range pool {
		conn := connect()
		defer conn.Close()
		pool[i] = serial(conn)
	}
	pooled := incrAll(*workers, *n, func(i int, msg string) string {
		return pool[i](i, msg)
	})

	// Print each way's throughput, in INCRs a second: it varies
	// from run to run, so no golden file holds it.
	fmt.Printf("INCRs a second: multiplexed %.0f, a mutex %.0f, a "+
		"connection each %.0f\n", mux, locked, pooled)
}

// multiplex starts the writer and the reader of conn, and returns
// what goroutines call, n at a time, to send and get a reply.
func multiplex(conn net.Conn, n int,
	show bool) func(int, string) string {
	type call struct {
		msg   string
		reply chan string
	}
	calls := make(chan call, n)
	// The FIFO: the reply channels, in the order of the writes.
	fifo := make(chan chan string, n)

	// The writer queues the reply channel of every call waiting,
	// and writes their commands at once: a pipeline (lesson 05).
	go func() {
		for c := range calls {
			msg := c.msg
			fifo <- c.reply
			for len(calls) > 0 { // Only the writer takes calls.
				c := <-calls
				msg += c.msg
				fifo <- c.reply
			}
			if show {
				fmt.Printf("Send: %q\n", msg)
			}
			conn.SetDeadline(time.Now().Add(timeout))
			send(conn, msg)
		}
	}()

	// The reader gives each reply to the oldest channel in the
	// FIFO; with none there, it reads nothing, and conn may close.
	go func() {
		r := bufio.NewReader(conn)
		for reply := range fifo {
			msg, err := readReply(r)
			if err != nil {
				readFailed(err, msg)
			}
			if show {
				fmt.Printf("Received: %q\n", msg)
			}
			reply <- msg
		}
	}()
	return func(_ int, msg string) string {
		c := call{msg, make(chan string, 1)}
		calls <- c
		return <-c.reply
	}
}

// incrAll runs the goroutines, and returns how many INCRs they
// ran a second. Goroutine i sets its key mux:<i> to 0, INCRs it n
// times through do, and checks that it got 1, 2 ... n in order: a
// reply handed to the wrong goroutine shows.
func incrAll(workers, n int, do func(i int, msg string) string,
) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for i := range workers {
		key := "mux:" + strconv.Itoa(i)
		wg.Go(func() {
			cmd, want := encode("SET", key, "0"), "+OK\r\n"
			for j := 1; j <= n+1; j++ {
				if got := do(i, cmd); got != want {
					fail("%s got %q, not %q", key, got, want)
				}
				cmd = encode("INCR", key)
				want = fmt.Sprint(":", j, "\r\n")
			}
		})
	}
	wg.Wait()
	return float64(workers*n) / time.Since(start).Seconds()
}

// serial sends on conn one command at a time, and waits for its
// reply: a mutex keeps the other goroutines out meanwhile.
func serial(conn net.Conn) func(int, string) string {
	r := bufio.NewReader(conn)
	var mu sync.Mutex
	return func(_ int, msg string) string {
		mu.Lock()
		defer mu.Unlock()
		conn.SetDeadline(time.Now().Add(timeout))
		send(conn, msg)
		reply, err := readReply(r)
		if err != nil {
			readFailed(err, reply)
		}
		return reply
	}
}
