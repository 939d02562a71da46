package main

import (
	"bufio"
	"runtime"
	"strings"
	"testing"

	"redis-by-hand/internal/lessontest"
	"redis-by-hand/internal/resp"
)

// TestHostileReplies: whatever a server claims, readReply fails
// with one error after allocating a bounded amount, and never
// crashes. The scripts (testdata/hostile.txtar) check the same
// frames end to end: one line on stderr, status 1.
func TestHostileReplies(t *testing.T) {
	// It counts the bytes allocated: alone in a process, while the
	// scripts run beside it.
	if !lessontest.Alone(t) {
		return
	}
	bulk := "$65536\r\n" + strings.Repeat("a", 65536) + "\r\n"
	for _, tt := range []struct {
		head, body, err string
		alloc           uint64 // at most this many bytes allocated
	}{
		{"$9223372036854775807\r\n", "a",
			`"$9223372036854775807\r\n": length not in -1..64Mi`, 1 << 20},
		{"$1000000000000\r\n", "a",
			`"$1000000000000\r\n": length not in -1..64Mi`, 1 << 20},
		// Arrays inside arrays for ever: one budget for the whole
		// reply, however deep it nests.
		{"", "*1\r\n", "a reply of over 64 MiB", 1 << 30},
		// Arrays of two whose first element is 32 MiB: each level
		// alone would fit, the whole reply does not.
		{"", "*2\r\n$33554432\r\n" + strings.Repeat("a", 32<<20) + "\r\n",
			"a reply of over 64 MiB", 300 << 20},
		{"*2147483647\r\n", ":1\r\n",
			`"*2147483647\r\n": length not in -1..64Mi`, 1 << 20},
		{"", "a", "a line of over 4096 bytes", 1 << 20},
		// The most a reply may hold: 64 MiB, in an array or a bulk
		// string. Copies and growth make that some hundreds of MiB
		// in all, but never more, however long the server goes on.
		{"*67108864\r\n", bulk, "a reply of over 64 MiB", 1 << 30},
		{"*1\r\n$67108000\r\n", "a",
			`"$67108000\r\n": no \r\n after the data`, 1 << 30},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := bufio.NewReader(&resp.Endless{Head: tt.head, Body: tt.body})
		_, err := readReply(r)
		runtime.ReadMemStats(&after)
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q then %.8q forever: error %v, want %s",
				tt.head, tt.body, err, tt.err)
		}
		n := after.TotalAlloc - before.TotalAlloc
		if n > tt.alloc {
			t.Errorf("%q then %.8q forever: %d bytes allocated, "+
				"want at most %d", tt.head, tt.body, n, tt.alloc)
		}
		t.Logf("%q then %.8q: %v, %d KiB allocated", tt.head, tt.body,
			err, n>>10)
	}
}
