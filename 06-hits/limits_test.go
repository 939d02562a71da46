package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestBodyTooLarge: a body over 64 KiB is refused with a 413 and one
// line of JSON, before anything reaches Redis (the connection here
// has no Redis behind it: a write to it would block, a read fail).
func TestBodyTooLarge(t *testing.T) {
	t.Parallel()
	conn, other := net.Pipe()
	defer conn.Close()
	defer other.Close()
	failInTest(t, conn)
	srv := httptest.NewServer(somethings(hits(conn, bufio.NewReader(conn), io.Discard)))
	defer srv.Close()

	body := `{"key": "` + strings.Repeat("x", 64<<10) + `"}`
	res, err := http.Post(srv.URL+"/somethings", "application/json",
		strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	want := "{\"error\": \"the body is over 64 KiB\"}\n"
	if err != nil || res.StatusCode != http.StatusRequestEntityTooLarge || string(got) != want {
		t.Errorf("got %d %q, %v; want 413 %q", res.StatusCode, got, err, want)
	}
}
