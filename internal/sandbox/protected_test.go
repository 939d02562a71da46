package sandbox

import (
	"net"
	"strings"
	"testing"

	"redis-by-hand/internal/realredis"
)

func TestIsLoopback(t *testing.T) {
	for _, tt := range []struct {
		ip   string
		want bool
	}{
		{"127.0.0.1", true}, {"127.3.2.1", true}, {"::1", true},
		{"0.0.0.0", false}, {"::", false}, {"192.0.2.2", false}, {"10.0.0.1", false},
	} {
		if got := isLoopback(&net.TCPAddr{IP: net.ParseIP(tt.ip)}); got != tt.want {
			t.Errorf("isLoopback(%s) = %v, want %v", tt.ip, got, tt.want)
		}
	}
}

// localAddress is an address of this machine that is not loopback.
func localAddress(t *testing.T) string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skip(err)
	}
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok && ipnet.IP.To4() != nil &&
			!ipnet.IP.IsLoopback() && !ipnet.IP.IsLinkLocalUnicast() {
			return ipnet.IP.String()
		}
	}
	t.Skip("this machine has no address but loopback")
	return ""
}

// TestProtectedMode: a client that does not come from loopback gets
// redis-server's -DENIED text, and the connection closes: a sandbox
// reachable from the network runs nothing for other hosts. The client
// here connects to the machine's own non-loopback address, from which
// it then comes.
func TestProtectedMode(t *testing.T) {
	t.Parallel()
	host := localAddress(t)
	srv, err := Start(net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !srv.Exposed() {
		t.Errorf("a sandbox on %s does not say it is exposed", srv.Addr())
	}
	// Closed, or reset if the request arrived before the close, as
	// with redis-server: only the bytes are compared.
	bytesOnly := func(s string) string {
		s, _ = strings.CutSuffix(s, ", reset")
		s, _ = strings.CutSuffix(s, ", closed")
		return s
	}
	got := bytesOnly(exchange(srv.Addr(), []string{"set pwned 1\r\n"}, false))
	if want := `"` + deniedReply[:len(deniedReply)-2] + `\r\n"`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if srv.mini.Exists("pwned") {
		t.Error("the other host's SET ran")
	}

	t.Run("redis-server", func(t *testing.T) {
		realredis.Require70(t)
		real, err := realredis.StartAlsoOn(host)
		if err != nil {
			t.Fatal(err)
		}
		defer real.Stop()
		addr := net.JoinHostPort(host, port(t, real.Addr))
		if realGot := bytesOnly(exchange(addr, []string{"set pwned 1\r\n"}, false)); realGot != got {
			t.Errorf("redis-server: %s\nsandbox:      %s", realGot, got)
		}
	})
}
