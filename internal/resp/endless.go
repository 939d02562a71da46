package resp

import "strings"

// Endless is a server that never stops sending: Head, then Body over
// and over. The tests of the readers' bounds (here and in
// 03-subscribe) read from it.
type Endless struct{ Head, Body string }

func (e *Endless) Read(p []byte) (int, error) {
	if n := len(e.Body); n > 0 && n < 4096 { // one copy per byte of "a" took seconds
		e.Body = strings.Repeat(e.Body, 4096/n)
	}
	n := 0
	for n < len(p) {
		if e.Head == "" {
			e.Head = e.Body
		}
		k := copy(p[n:], e.Head)
		n, e.Head = n+k, e.Head[k:]
	}
	return n, nil
}
