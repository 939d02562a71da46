// Package lessontest runs a lesson's golden scripts (testdata/*.txtar)
// under testscript, once against the sandbox and once against a real
// redis-server, as the subtests sandbox/<script> and
// redis-server/<script>.
//
// A lesson's main_test.go, the same file in every lesson folder, is
// all it takes:
//
//	func TestMain(m *testing.M) { lessontest.Lesson(m, main) }
//	func TestScripts(t *testing.T) { lessontest.Run(t) }
//
// Scripts run the lesson by its folder's name, "exec 01-ping", and see
// REDIS_ADDR: the address of a tap (internal/wiretap) in front of the
// backend, which records every byte each connection carries. When a
// lesson's output is compared with a golden file, its Send: and
// Received: lines are also checked against those bytes: see wire.go.
// Besides
// testscript's own commands they have:
//
//	redis CMD ARG... [; CMD ARG...]  send commands in one write and print
//	                                 each raw reply, quoted; @FILE as an
//	                                 argument sends that file's bytes
//	waitsub CHANNEL N                wait until N clients subscribe
//	stopredis                        stop the server, dropping its clients
//	sigterm                          send SIGTERM to background commands
//	subscribe CHANNEL FILE           subscribe in the background; each
//	                                 reply becomes a quoted line of FILE
//	blackhole                        point REDIS_ADDR at a server that
//	                                 accepts and never answers
//	fake [-drip D] TEXT [MORE N]     point REDIS_ADDR at a server that
//	                                 answers TEXT, then MORE N times
//	redisserver ARG...               [redis-server] point REDIS_ADDR at a
//	                                 fresh redis-server with these options
//	waitaddr FILE VAR                wait until FILE names 127.0.0.1:PORT,
//	                                 the address a background program
//	                                 listens on (port 0: no race), and
//	                                 set VAR to it
//	waitblocked N                    wait until N clients block (BRPOP)
//	waitcount N REGEXP FILE...       wait until the files hold N lines
//	                                 matching REGEXP
//	gen FILE SIZE                    write SIZE bytes holding every value
//	writebytes FILE TEXT             write TEXT with Go escapes (\r\n...)
//	waitlines FILE N                 wait until FILE has N lines
//	wantmsg FILE CHANNEL DATAFILE    FILE has the line for that message
//	golden stdout|stderr|OUT FILE    compare with a golden file, pointing
//	                                 at the first wrong byte
//	http METHOD URL [BODY]           send an HTTP request; print the status
//	                                 and the body (! wants a status >= 400)
//	canrestart                       first in a script: put the server
//	                                 behind an address that stopredis
//	                                 closes and openredis opens again
//	startredis                       start a fresh server after stopredis
//	openredis                        let REDIS_ADDR reach it again
//	perconn FILE REGEXP              cut FILE into FILE.1, FILE.2... at
//	                                 each matching line, one per connection
//	vary FILE REGEXP                 the golden files of FILE leave out
//	                                 its lines that match (a server's
//	                                 name, a stream ID); the wire still
//	                                 checks every line
//	cluster                          point REDIS_ADDR at node 1 of a
//	                                 three-node Redis Cluster, emptied,
//	                                 and NODE1..NODE3 at its nodes, in
//	                                 slot order; one per backend, shared
//	                                 by the package's scripts in turn;
//	                                 golden files name each node's port
//	                                 <portN> and id <idN>
//	silence DURATION                 let DURATION pass with nothing sent:
//	                                 the condition a script tests (a wait
//	                                 longer than REDIS_TIMEOUT), never
//	                                 its verdict
//
// and the conditions [sandbox] and [redis-server]. Scripts that run the
// go command (the demo) also see REPO, the repository's root, and the
// go command's own settings.
package lessontest

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/sandbox"
	"redis-by-hand/internal/wiretap"
)

var update = flag.Bool("update", false,
	"rewrite golden files from the sandbox run (make golden)")

// lesson is the name the program under test is registered under.
var lesson string

// checkWire is set for lessons: what they print must be on the wire.
var checkWire bool

// Lesson registers a lesson's main function under its folder's name,
// then runs the tests. go test names its binary after the folder
// (01-ping.test), and a script runs the lesson through a link named
// after the command (01-ping): either way, the name is in os.Args[0].
func Lesson(m *testing.M, main func()) {
	name := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	checkWire = true
	Main(m, strings.TrimSuffix(name, ".test"), main)
}

// Main registers a program's main function as the command name for
// scripts, then runs the tests. Lessons use Lesson.
func Main(m *testing.M, name string, main func()) {
	Recorder()
	lesson = name
	testscript.Main(m, map[string]func(){name: main})
}

// A backend starts a fresh Redis for one script.
type backend struct {
	name  string
	start func() (addr string, stop func(), err error)
}

var backends = []backend{
	{"sandbox", func() (string, func(), error) {
		s, err := sandbox.Start("127.0.0.1:0")
		if err != nil {
			return "", nil, err
		}
		return s.Addr(), s.Close, nil
	}},
	{realredis.Binary, func() (string, func(), error) {
		s, err := realredis.Start()
		if err != nil {
			return "", nil, err
		}
		return s.Addr, s.Stop, nil
	}},
}

// EachBackend runs test once per backend, as Run runs the scripts, on
// a fresh server of its own: for a lesson's tests in Go, beside its
// scripts.
func EachBackend(t *testing.T, test func(t *testing.T, addr string)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			if b.name == realredis.Binary {
				realredis.Require(t)
			}
			addr, stop, err := b.start()
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			test(t, addr)
		})
	}
}

// Run runs every testdata/*.txtar script of the calling lesson on each
// backend. Without redis-server on PATH the redis-server group is
// skipped, with the reason; with REDIS_SERVER_REQUIRED=1 it fails.
func Run(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "*.txtar"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no testdata/*.txtar scripts found (%v)", err)
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			if b.name == realredis.Binary {
				realredis.Require(t)
			}
			// The backends side by side: their scripts mostly wait.
			// Not while -update rewrites the golden files that the
			// redis-server run then reads.
			if !*update {
				t.Parallel()
			}
			t.Cleanup(func() { closePool(b.name) })
			testscript.Run(t, testscript.Params{
				Files:               scripts,
				RequireExplicitExec: true,
				RequireUniqueNames:  true,
				Setup:               setup(b, dir, *update && b.name == "sandbox"),
				Condition: func(cond string) (bool, error) {
					return cond == b.name, nil
				},
				Cmds: commands,
			})
		})
	}
}

// script is what a script's commands know about their run.
type script struct {
	backend string
	dir     string // where the .txtar files are, for golden updates
	update  bool
	stop    func()
	server  string                      // the backend's own address
	tap     string                      // the tap's address, REDIS_ADDR at the start
	wire    *wire                       // what crossed the tap
	caught  *Failure                    // what made the script fail, when a command explained it
	vary    map[string][]*regexp.Regexp // vary: lines golden leaves out, by file

	// After cluster: the nodes' addresses behind their taps, and
	// what names their ports and ids in golden files (cluster.go).
	direct       map[string]string
	placeholders func(string) string

	// What a Check run records as the script goes (see mark):
	why      string // the message of the command of its own that failed
	done     int    // the line of the script that last completed
	out, err string // stdout and stderr, as that line left them
	gone     bool   // whether the programs in the background had exited then

	serverStopped bool // stopredis ran: connections closed, not by the lesson

	neverConnected bool   // a wait failed, and the lesson never connected
	runs           string // the folder where the lesson's runs are recorded
}

type scriptKey struct{}

func scriptOf(ts *testscript.TestScript) *script {
	return ts.Value(scriptKey{}).(*script)
}

func setup(b backend, dir string, update bool) func(*testscript.Env) error {
	return func(env *testscript.Env) error {
		addr, stop, err := b.start()
		if err != nil {
			return err
		}
		stop = sync.OnceFunc(stop)
		env.Defer(stop)
		w := &wire{}
		tap, err := wiretap.Start("127.0.0.1:0", addr, w.observe)
		if err != nil {
			stop()
			return err
		}
		env.Defer(tap.Close)
		env.Setenv("REDIS_ADDR", tap.Addr())
		for k, v := range goEnv() {
			env.Setenv(k, v)
		}
		env.Values[scriptKey{}] = &script{
			backend: b.name,
			dir:     dir,
			update:  update,
			stop:    stop,
			server:  addr,
			tap:     tap.Addr(),
			wire:    w,
		}
		return nil
	}
}

// goEnv is what the go command needs to run inside a script, whose
// environment testscript empties: its caches and settings, the user's
// cache folder, and REPO.
var goEnv = sync.OnceValue(func() map[string]string {
	out, err := exec.Command("go", "env", "-json",
		"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY",
		"GOSUMDB", "GONOSUMDB", "GOPRIVATE", "GOTOOLCHAIN", "GOMOD").Output()
	vars := map[string]string{}
	if err != nil || json.Unmarshal(out, &vars) != nil {
		return nil
	}
	if gomod := vars["GOMOD"]; gomod != "" {
		vars["REPO"] = filepath.Dir(gomod)
	}
	delete(vars, "GOMOD")
	// The demo keeps its binaries in the user's cache folder.
	if dir, err := os.UserCacheDir(); err == nil {
		vars["XDG_CACHE_HOME"] = dir
	}
	return vars
})

// Alone runs the calling test in a process of its own, beside the
// package's other tests, with env added to its environment: for a
// test that measures the whole process (the bytes it allocates, which
// tests running meanwhile would add to), or that keeps state in it.
// It returns true in that process, where the test goes on; in the
// test's own process it waits for that one, fails with what it
// printed if it failed, and returns false.
func Alone(t *testing.T, env ...string) bool {
	switch os.Getenv(aloneEnv) {
	case t.Name():
		return true
	case "":
	default:
		t.Skip("this process runs another test alone")
	}
	t.Parallel()
	var run []string // ^Test$/^subtest$: each level anchored
	for _, name := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(name)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(run, "/"), "-test.v")
	cmd.Env = append(append(os.Environ(), env...), aloneEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()+" (") {
		t.Fatalf("alone in a process of its own: %v\n%s", err, out)
	}
	return false
}

// aloneEnv names the test that a process runs for Alone.
const aloneEnv = "LESSONTEST_ALONE"
