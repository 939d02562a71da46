package resp

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadReply3 reads any bytes with both readers: neither crashes,
// each returns a prefix of its input, and RESP3 reads every RESP2
// reply as RESP2 does. (03-subscribe's FuzzReadReply holds ReadReply
// to the lesson's readReply.)
//
//	go test ./internal/resp -run '^$' -fuzz FuzzReadReply3 -fuzztime 30s
func FuzzReadReply3(f *testing.F) {
	for _, tt := range readTests {
		f.Add([]byte(tt.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r2 := bufio.NewReader(bytes.NewReader(data))
		r3 := bufio.NewReader(bytes.NewReader(data))
		var off2, off3 int
		for {
			got2, err2 := ReadReply(r2)
			got3, err3 := ReadReply3(r3)
			if !bytes.HasPrefix(data[off2:], got2) ||
				!bytes.HasPrefix(data[off3:], got3) {
				t.Fatalf("%q: read %q and %q, not what came next",
					data, got2, got3)
			}
			off2, off3 = off2+len(got2), off3+len(got3)
			if err2 == nil && (err3 != nil || !bytes.Equal(got2, got3)) {
				t.Fatalf("%q: RESP2 reads %q, RESP3 %q, %v",
					data, got2, got3, err3)
			}
			if err2 != nil || err3 != nil {
				return
			}
		}
	})
}
