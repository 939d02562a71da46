package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"redis-by-hand/internal/lessontest"
	"redis-by-hand/internal/resp"
)

// TestConcurrentRequests fires 100 requests at once for the key ttt,
// and at the same time 100 for keys of their own, at one server and
// its one Redis connection. Every ttt request must get a different
// count, 1 to 100, and every other request 1: a reply given to the
// wrong request would show as a count that is not its own.
func TestConcurrentRequests(t *testing.T) {
	lessontest.EachBackend(t, concurrentRequests)
}

func concurrentRequests(t *testing.T, server string) {
	addr = server // for the lesson's error messages
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv := httptest.NewServer(somethings(hits(conn, bufio.NewReader(conn), io.Discard)))
	defer srv.Close()

	const n = 100
	got := make([]int, 2*n)
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for i := range 2 * n {
		key := "ttt"
		if i >= n {
			key = fmt.Sprintf("own-%d", i)
		}
		wg.Go(func() {
			res, err := http.Post(srv.URL+"/somethings", "application/json",
				strings.NewReader(fmt.Sprintf(`{"key": %q}`, key)))
			if err != nil {
				errs <- err
				return
			}
			defer res.Body.Close()
			var body struct{ Hits int }
			if err := json.NewDecoder(res.Body).Decode(&body); err != nil ||
				res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%s: status %d, %v", key, res.StatusCode, err)
				return
			}
			got[i] = body.Hits
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ttt := slices.Sorted(slices.Values(got[:n]))
	for i, h := range ttt {
		if h != i+1 {
			t.Fatalf("the ttt requests got the counts %v, want 1 to %d once each", ttt, n)
		}
	}
	for i, h := range got[n:] {
		if h != 1 {
			t.Errorf("the request for own-%d got %d, want 1", n+i, h)
		}
	}

	// And Redis agrees.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(resp.AppendCommand(nil, []byte("GET"), []byte("ttt"))); err != nil {
		t.Fatal(err)
	}
	reply, err := resp.ReadReply(bufio.NewReader(c))
	if want := "$3\r\n100\r\n"; err != nil || string(reply) != want {
		t.Errorf("GET ttt: %q, %v; want %q", reply, err, want)
	}
}
