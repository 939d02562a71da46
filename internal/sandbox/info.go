package sandbox

import (
	"fmt"
	"strings"
)

// info answers INFO for the sections that tests and tools read, with
// the sandbox's own counts in Redis's format: clients (connected and
// blocked, as a script waits for its workers) and stats (connections
// received, as a lesson shows it opened one). Other sections are
// miniredis's.
func (c *conn) info(args []string) bool {
	sections := []string{"default"}
	if len(args) > 1 {
		sections = args[1:]
	}
	var parts []string
	for _, sec := range sections {
		switch strings.ToLower(sec) {
		case "default", "all", "everything":
			parts = append(parts, c.s.infoClients(), c.s.infoStats())
		case "clients":
			parts = append(parts, c.s.infoClients())
		case "stats":
			parts = append(parts, c.s.infoStats())
		default:
			return c.dispatch(args)
		}
	}
	text := strings.Join(parts, "\r\n")
	c.reply(fmt.Sprintf("$%d\r\n%s\r\n", len(text), text))
	return true
}

func (s *Server) infoClients() string {
	s.mu.Lock()
	n := len(s.conns)
	s.mu.Unlock()
	return fmt.Sprintf("# Clients\r\nconnected_clients:%d\r\nblocked_clients:%d\r\n",
		n, s.blocked.Load())
}

func (s *Server) infoStats() string {
	return fmt.Sprintf("# Stats\r\ntotal_connections_received:%d\r\n", s.accepted.Load())
}
