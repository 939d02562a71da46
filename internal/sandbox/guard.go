package sandbox

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
)

// A panicGuard keeps a miniredis bug from taking the sandbox down. Some
// commands panic inside miniredis (XTRIM with a negative MAXLEN, for
// one), and a panic in a connection's goroutine ends the process. The
// guard runs every command under recover, as miniredis's pre-command
// hook: it dispatches the command itself, and the nested call of the
// hook lets miniredis run it.
type panicGuard struct {
	mini *miniredis.Miniredis
	srv  *server.Server

	mu     sync.Mutex
	inside map[*server.Peer]bool
}

func guard(mini *miniredis.Miniredis) {
	g := &panicGuard{mini: mini, srv: mini.Server(), inside: map[*server.Peer]bool{}}
	g.srv.SetPreHook(g.hook)
}

func (g *panicGuard) hook(c *server.Peer, cmd string, args ...string) (done bool) {
	g.mu.Lock()
	nested := g.inside[c]
	g.inside[c] = true
	g.mu.Unlock()
	if nested {
		return false // the guarded call: let miniredis run it
	}
	defer func() {
		g.mu.Lock()
		delete(g.inside, c)
		g.mu.Unlock()
	}()
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		done = true // or miniredis would run the command again
		// withTx, miniredis's wrapper of most commands, locks the
		// server without defer: a panic inside leaves it locked.
		// The stack is still the panic's here, so it tells: a
		// withTx below this hook took the lock, unless one above
		// it already holds it (a command that a Lua script calls).
		stack := string(debug.Stack())
		below, above, _ := strings.Cut(stack, "(*panicGuard).hook(")
		const withTx = "miniredis/v2.withTx("
		if strings.Contains(below, withTx) && !strings.Contains(above, withTx) {
			g.mini.Unlock()
		}
		fmt.Fprintf(os.Stderr, "sandbox: miniredis failed on %s (%v); "+
			"the client got an error and was disconnected\n", cmd, r)
		// The reply may be half written: end it with an error and
		// close, as the connection can no longer be trusted.
		c.Block(func(w *server.Writer) {
			w.WriteRaw("-ERR the embedded Redis failed on this command " +
				"(a miniredis bug); a real redis-server would answer it\r\n")
		})
		c.Close()
	}()
	g.srv.Dispatch(c, append([]string{cmd}, args...))
	return true
}
