package compare_test

// The benchmarks of docs/drivers.md: the same commands, on the same
// redis-server, through each client. `make compare` runs them and
// redraws the page's table and chart:
//
//	go test -run '^$' -bench . -benchmem
//
// One op is one command and its reply, or one pipeline of 100
// commands and their replies (Pipe*), or one pub/sub message
// published and received (PubSub). Each client is used as its
// documentation shows, with keys and values in variables, as an
// application has them.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"redis-by-hand/compare/byhand"
	"redis-by-hand/internal/realredis"
)

// pipeN is how many commands a pipelined op sends.
const pipeN = 100

// The values GET reads, stored once by setup.
var (
	value64 = strings.Repeat("v", 64)
	value4K = strings.Repeat("w", 4096)
)

// An ops is one client's way of doing each benchmark's op. Each
// returns an error when the reply is not the one expected.
type ops struct {
	get     func(key string) (int, error) // the value's length
	set     func(key, value string) error
	incr    func(key string) error
	pipeGet func(key string) (int, error) // the values' length
	pipeSet func(key, value string) error
	pipeInc func(key string) error
	// subscribe subscribes to channel and returns receive, which
	// waits for the next message and returns its length, and stop.
	subscribe func(channel string) (receive func() (int, error), stop func(), err error)
	// publish publishes the message pipeN times, pipelined.
	publish func(channel, message string) error
	// shared is get, safe for many goroutines at once: on the
	// one shared connection (byhand), or from a pool.
	shared func(key string) (int, error)
	close  func()
}

// The clients, in the order of the page's table.
var clients = []struct {
	name string
	open func(addr string) (ops, error)
}{
	{"byhand", func(addr string) (ops, error) { return openByhand(byhand.Dial, addr) }},
	{"byhand-mutex", func(addr string) (ops, error) { return openByhand(byhand.DialLocked, addr) }},
	{"redigo", openRedigo},
	{"go-redis-RESP2", func(addr string) (ops, error) { return openGoredis(addr, 2) }},
	{"go-redis-RESP3", func(addr string) (ops, error) { return openGoredis(addr, 3) }},
}

func openByhand(dial func(string) (*byhand.Client, error), addr string) (ops, error) {
	c, err := dial(addr)
	if err != nil {
		return ops{}, err
	}
	value := func(reply []byte, err error) (int, error) {
		v, ok := byhand.Bulk(reply)
		if err == nil && !ok {
			err = fmt.Errorf("not a value: %q", reply)
		}
		return len(v), err
	}
	// A pipeline is a list of commands: one slice, and one command
	// that every entry shares.
	pipe := func(args ...string) ([][]byte, error) {
		cmds := make([][]string, pipeN)
		for i := range cmds {
			cmds[i] = args
		}
		return c.Pipe(cmds...)
	}
	errs := func(replies [][]byte, err error) error {
		for _, r := range replies {
			if err == nil && r[0] == '-' {
				err = byhand.Error(r)
			}
		}
		return err
	}
	return ops{
		get: func(key string) (int, error) { return value(c.Do("GET", key)) },
		set: func(key, v string) error {
			_, err := c.Do("SET", key, v)
			return err
		},
		incr: func(key string) error {
			_, err := c.Do("INCR", key)
			return err
		},
		pipeGet: func(key string) (int, error) {
			replies, err := pipe("GET", key)
			n := 0
			for _, r := range replies {
				k, err2 := value(r, nil)
				n += k
				err = errors.Join(err, err2)
			}
			return n, err
		},
		pipeSet: func(key, v string) error { return errs(pipe("SET", key, v)) },
		pipeInc: func(key string) error { return errs(pipe("INCR", key)) },
		subscribe: func(channel string) (func() (int, error), func(), error) {
			s, err := c.Subscribe(channel)
			if err != nil {
				return nil, nil, err
			}
			return func() (int, error) {
				m, err := s.Receive()
				if err == nil && !strings.HasPrefix(string(m), "*3\r\n$7\r\nmessage\r\n") {
					err = fmt.Errorf("not a message: %q", m)
				}
				return len(m), err
			}, func() { s.Close() }, nil
		},
		publish: func(channel, message string) error {
			return errs(pipe("PUBLISH", channel, message))
		},
		shared: func(key string) (int, error) { return value(c.Do("GET", key)) },
		close:  func() { c.Close() },
	}, nil
}

func openRedigo(addr string) (ops, error) {
	c, err := redis.Dial("tcp", addr)
	if err != nil {
		return ops{}, err
	}
	// A redigo Conn serves one goroutine at a time: many need a Pool.
	pool := &redis.Pool{MaxIdle: 64, Dial: func() (redis.Conn, error) {
		return redis.Dial("tcp", addr)
	}}
	// A pipeline: Send each command, Flush once, Receive each reply.
	pipe := func(each func(reply any, err error) error, cmd string, args ...any) error {
		for range pipeN {
			if err := c.Send(cmd, args...); err != nil {
				return err
			}
		}
		if err := c.Flush(); err != nil {
			return err
		}
		var err error
		for range pipeN {
			err = errors.Join(err, each(c.Receive()))
		}
		return err
	}
	ignore := func(reply any, err error) error { return err }
	return ops{
		get: func(key string) (int, error) {
			v, err := redis.Bytes(c.Do("GET", key))
			return len(v), err
		},
		set: func(key, v string) error {
			_, err := c.Do("SET", key, v)
			return err
		},
		incr: func(key string) error {
			_, err := redis.Int64(c.Do("INCR", key))
			return err
		},
		pipeGet: func(key string) (int, error) {
			n := 0
			err := pipe(func(reply any, err error) error {
				v, err := redis.Bytes(reply, err)
				n += len(v)
				return err
			}, "GET", key)
			return n, err
		},
		pipeSet: func(key, v string) error { return pipe(ignore, "SET", key, v) },
		pipeInc: func(key string) error { return pipe(ignore, "INCR", key) },
		subscribe: func(channel string) (func() (int, error), func(), error) {
			sc, err := redis.Dial("tcp", addr)
			if err != nil {
				return nil, nil, err
			}
			psc := redis.PubSubConn{Conn: sc}
			if err := psc.Subscribe(channel); err != nil {
				return nil, nil, err
			}
			if _, ok := psc.Receive().(redis.Subscription); !ok {
				return nil, nil, errors.New("no subscription")
			}
			return func() (int, error) {
				switch m := psc.Receive().(type) {
				case redis.Message:
					return len(m.Data), nil
				case error:
					return 0, m
				default:
					return 0, fmt.Errorf("not a message: %v", m)
				}
			}, func() { psc.Close() }, nil
		},
		publish: func(channel, message string) error {
			return pipe(ignore, "PUBLISH", channel, message)
		},
		shared: func(key string) (int, error) {
			pc := pool.Get()
			defer pc.Close()
			v, err := redis.Bytes(pc.Do("GET", key))
			return len(v), err
		},
		close: func() { c.Close(); pool.Close() },
	}, nil
}

func openGoredis(addr string, protocol int) (ops, error) {
	ctx := context.Background()
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: protocol})
	if err := c.Ping(ctx).Err(); err != nil {
		return ops{}, err
	}
	return ops{
		get: func(key string) (int, error) {
			v, err := c.Get(ctx, key).Result()
			return len(v), err
		},
		set:  func(key, v string) error { return c.Set(ctx, key, v, 0).Err() },
		incr: func(key string) error { return c.Incr(ctx, key).Err() },
		pipeGet: func(key string) (int, error) {
			p := c.Pipeline()
			gets := make([]*goredis.StringCmd, pipeN)
			for i := range gets {
				gets[i] = p.Get(ctx, key)
			}
			_, err := p.Exec(ctx)
			n := 0
			for _, g := range gets {
				n += len(g.Val())
			}
			return n, err
		},
		pipeSet: func(key, v string) error {
			p := c.Pipeline()
			for range pipeN {
				p.Set(ctx, key, v, 0)
			}
			_, err := p.Exec(ctx)
			return err
		},
		pipeInc: func(key string) error {
			p := c.Pipeline()
			for range pipeN {
				p.Incr(ctx, key)
			}
			_, err := p.Exec(ctx)
			return err
		},
		subscribe: func(channel string) (func() (int, error), func(), error) {
			ps := c.Subscribe(ctx, channel)
			if _, err := ps.Receive(ctx); err != nil {
				return nil, nil, err
			}
			return func() (int, error) {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					return 0, err
				}
				return len(m.Payload), nil
			}, func() { ps.Close() }, nil
		},
		publish: func(channel, message string) error {
			p := c.Pipeline()
			for range pipeN {
				p.Publish(ctx, channel, message)
			}
			_, err := p.Exec(ctx)
			return err
		},
		shared: func(key string) (int, error) {
			v, err := c.Get(ctx, key).Result()
			return len(v), err
		},
		close: func() { c.Close() },
	}, nil
}

// The redis-server of this test binary, started by the first
// benchmark that needs it and stopped by TestMain.
var (
	shared     *realredis.Server
	sharedErr  error
	sharedOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// each runs op as a sub-benchmark for every client, each on a
// connection of its own to the shared redis-server, after setup.
func each(b *testing.B, op func(b *testing.B, c ops)) {
	realredis.Require(b)
	sharedOnce.Do(func() {
		shared, sharedErr = realredis.Start()
		if sharedErr == nil {
			sharedErr = setup(shared.Addr)
		}
	})
	if sharedErr != nil {
		b.Fatal(sharedErr)
	}
	for _, cl := range clients {
		b.Run(cl.name, func(b *testing.B) {
			c, err := cl.open(shared.Addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.close()
			b.ReportAllocs()
			op(b, c)
		})
	}
}

// setup stores the values GET reads.
func setup(addr string) error {
	c, err := byhand.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Pipe([]string{"SET", "key-64", value64},
		[]string{"SET", "key-4k", value4K})
	return err
}

// get checks that each GET read want bytes.
func get(b *testing.B, f func(key string) (int, error), key string, want int) {
	for b.Loop() {
		if n, err := f(key); err != nil || n != want {
			b.Fatalf("GET %s: %d bytes, %v; want %d", key, n, err, want)
		}
	}
}

func run(b *testing.B, f func() error) {
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGet64B(b *testing.B) {
	each(b, func(b *testing.B, c ops) { get(b, c.get, "key-64", 64) })
}

func BenchmarkGet4KiB(b *testing.B) {
	each(b, func(b *testing.B, c ops) { get(b, c.get, "key-4k", 4096) })
}

func BenchmarkSet(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		run(b, func() error { return c.set("key-set", value64) })
	})
}

func BenchmarkIncr(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		run(b, func() error { return c.incr("counter") })
	})
}

func BenchmarkPipeGet64B(b *testing.B) {
	each(b, func(b *testing.B, c ops) { get(b, c.pipeGet, "key-64", 64*pipeN) })
}

func BenchmarkPipeGet4KiB(b *testing.B) {
	each(b, func(b *testing.B, c ops) { get(b, c.pipeGet, "key-4k", 4096*pipeN) })
}

func BenchmarkPipeSet(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		run(b, func() error { return c.pipeSet("key-set", value64) })
	})
}

func BenchmarkPipeIncr(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		run(b, func() error { return c.pipeInc("counter") })
	})
}

// BenchmarkPubSub: one op is one 64-byte message, published (in
// pipelines of pipeN, on the client's shared connection) and received
// by a subscriber of the same client. The allocations of both count.
// The publisher stays at most 10 pipelines ahead, well within what
// redis-server buffers for a subscriber.
func BenchmarkPubSub(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		channel := "bench-" + b.Name()
		receive, stop, err := c.subscribe(channel)
		if err != nil {
			b.Fatal(err)
		}
		defer stop()
		credit := make(chan struct{}, 10)
		for range cap(credit) {
			credit <- struct{}{}
		}
		quit := make(chan struct{})
		published := make(chan error, 1)
		go func() {
			for {
				select {
				case <-credit:
				case <-quit:
					published <- nil
					return
				}
				if err := c.publish(channel, value64); err != nil {
					published <- err
					return
				}
			}
		}()
		defer func() { close(quit); <-published }()
		got := 0
		for b.Loop() {
			n, err := receive()
			if err != nil || n == 0 {
				b.Fatalf("message %d: %d bytes, %v", got, n, err)
			}
			if got++; got%pipeN == 0 {
				credit <- struct{}{}
			}
		}
	})
}

// BenchmarkSharedGet64B: GET from 16 goroutines at once (8 per core
// here), as the requests of a server do (lesson 06). byhand shares its
// one connection, through its writer and reader or taking turns under
// its mutex; redigo takes connections from a Pool, go-redis from its
// own pool.
func BenchmarkSharedGet64B(b *testing.B) {
	each(b, func(b *testing.B, c ops) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if n, err := c.shared("key-64"); err != nil || n != 64 {
					b.Errorf("GET: %d bytes, %v", n, err)
					return
				}
			}
		})
	})
}
