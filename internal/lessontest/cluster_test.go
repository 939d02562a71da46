package lessontest

import "testing"

func TestReplaceNumber(t *testing.T) {
	got := replaceNumber(`:34567\r\n 127.0.0.1:34567 134567 345678 34567`, "34567", "<port1>")
	want := `:<port1>\r\n 127.0.0.1:<port1> 134567 345678 <port1>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestAcross: lines printed for several connections are true when each
// is the next bytes of one of them, and every byte written is printed.
func TestAcross(t *testing.T) {
	w := &wire{conns: []*wireConn{
		{sent: []byte("GET a\r\n"), received: []byte("-MOVED 1 b\r\n")},
		{sent: []byte("GET a\r\nGET c\r\n"), received: []byte("$1\r\nx\r\n$-1\r\n")},
	}}
	for _, c := range []struct {
		out  string
		true bool
	}{
		{"Send: \"GET a\\r\\n\"\nReceived: \"-MOVED 1 b\\r\\n\"\nSend: \"GET a\\r\\n\"\n" +
			"Received: \"$1\\r\\nx\\r\\n\"\nSend: \"GET c\\r\\n\"\nReceived: \"$-1\\r\\n\"\n", true},
		// The second GET a is on the second connection only.
		{"Send: \"GET a\\r\\n\"\nSend: \"GET a\\r\\n\"\nReceived: \"$1\\r\\nx\\r\\n\"\n" +
			"Received: \"-MOVED 1 b\\r\\n\"\nSend: \"GET c\\r\\n\"\n", true},
		// GET c was written but never printed.
		{"Send: \"GET a\\r\\n\"\nReceived: \"-MOVED 1 b\\r\\n\"\nSend: \"GET a\\r\\n\"\n", false},
		// A reply nobody sent.
		{"Send: \"GET a\\r\\n\"\nReceived: \"-MOVED 2 b\\r\\n\"\n", false},
	} {
		if got := w.across(printedLines(c.out)); got != c.true {
			t.Errorf("across = %v, want %v, for:\n%s", got, c.true, c.out)
		}
	}
}
