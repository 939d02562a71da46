// Command demo replays the whole blog post, lesson by lesson, then the
// lessons beyond it, and shows each step as the command a reader would
// type, then its output:
//
//	go run ./scripts/demo               (or: make demo)
//	go run ./scripts/demo -addr HOST:PORT   replay against that Redis
//	go run ./scripts/demo -clean        remove the cached lesson binaries
//	                                    (of make demo and make check)
//
// It starts a fresh embedded Redis on a free loopback port, so that it
// never touches a Redis you run (REDIS_ADDR is ignored; -addr is the
// explicit way to use another server). Run it from the repository.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"redis-by-hand/internal/lessonbin"
	"redis-by-hand/internal/sandbox"
)

// wait bounds each step, so that a broken lesson cannot hang the demo.
const wait = 10 * time.Second

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "", "replay against the Redis at `host:port` "+
		"instead of a fresh embedded one (the lessons change its keys my-key, ttt, jobs)")
	clean := flag.Bool("clean", false, "remove the cached lesson binaries, and say where they were")
	flag.Parse()
	root, err := repository()
	if err != nil {
		return err
	}
	if *clean {
		// make demo and make check share it, with every clone.
		if err := os.RemoveAll(lessonbin.CacheDir()); err != nil {
			return err
		}
		fmt.Printf("removed the cached lesson binaries (make demo, make check) from %s\n", lessonbin.CacheDir())
		return nil
	}
	if *addr == "" {
		srv, err := sandbox.Start("127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("cannot start the embedded Redis: %v", err)
		}
		defer srv.Close()
		*addr = srv.Addr()
		fmt.Println("# The embedded Redis is listening on a free port;")
		fmt.Println("# every lesson finds it through REDIS_ADDR.")
	} else {
		fmt.Println("# Using the Redis at -addr (the lessons change its keys my-key, ttt, jobs).")
	}

	bins, err := build(root)
	if err != nil {
		return err
	}
	d := &demo{bins: bins, addr: *addr}

	d.step("The blog's first client: an inline ping.", "01-ping")
	d.step("INCR, three times: the count lives in Redis.", "02-incr")
	d.step("", "02-incr")
	d.step("", "02-incr")
	sub := d.background("Subscribe, in the background (or in a second terminal).",
		"", "03-subscribe")
	d.lines(sub, 2) // Send, then the confirmation
	d.publish(sub, "Publish from another connection.")
	d.publish(sub, "", "can you hear me")
	d.stop(sub, "Stop the subscriber: Ctrl-C in its terminal, or from this shell:")

	fmt.Println()
	fmt.Println("# Beyond the blog.")
	d.step("Pipelining: three INCRs one at a time, then three in one write.\n"+
		"# my-key still holds 02's count, 3: these INCRs go on from there.",
		"05-pipeline", "-n", "3")
	d.hits()
	d.step("A queue: the job waits in Redis until a worker takes it.",
		"07-queue", "push")
	d.step("", "07-queue", "work", "0.1")
	d.reconnect()
	return d.err
}

// repository finds the repository's folder.
func repository() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run me from the repository: make demo")
	}
	return filepath.Dir(gomod), nil
}

// build compiles every lesson folder, which is much faster than a go
// run per step, and returns the folder of each lesson's program. The
// programs stay in the user's cache (the one make check uses): a
// lesson whose files have not changed is not built again.
func build(root string) (map[string]string, error) {
	lessons, err := filepath.Glob(filepath.Join(root, "[0-9][0-9]-*"))
	if err != nil || len(lessons) == 0 {
		return nil, fmt.Errorf("no lesson folders in %s", root)
	}
	// A cold build takes a while: say so, but only then, and then
	// say how far it is.
	var slow atomic.Bool
	timer := time.AfterFunc(2*time.Second, func() {
		fmt.Fprintf(os.Stderr, "building the %d lessons: a first run takes "+
			"a few seconds each...\n", len(lessons))
		slow.Store(true)
	})
	defer timer.Stop()
	bins := map[string]string{}
	for i, l := range lessons {
		name := filepath.Base(l)
		dir, out, err := lessonbin.Build(root, name)
		if slow.Load() {
			fmt.Fprintf(os.Stderr, "  built %d of %d: %s\n", i+1, len(lessons), name)
		}
		if len(out) > 0 {
			return nil, fmt.Errorf("%s does not compile:\n%s", name, bytes.TrimSpace(out))
		}
		if err != nil {
			return nil, fmt.Errorf("building %s: %v", name, err)
		}
		bins[name] = dir
	}
	return bins, nil
}

type demo struct {
	bins   map[string]string // lesson: the folder of its program
	addr   string
	err    error // the first failure; later steps are skipped
	saying bool  // background jobs show their stderr lines too
}

// command is a lesson's program, talking to the demo's Redis.
func (d *demo) command(lesson string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(d.bins[lesson], lesson), args...)
	cmd.Env = append(os.Environ(), "REDIS_ADDR="+d.addr)
	return cmd
}

// show prints a comment, if any, and the command as a reader types it.
func show(comment, line string) {
	fmt.Println()
	if comment != "" {
		fmt.Println("# " + comment)
	}
	fmt.Println("$ " + line)
}

// typed is how a reader runs a lesson: go run ./NN-name 'arg'.
func typed(lesson string, args ...string) string {
	line := "go run ./" + lesson
	for _, a := range args {
		if strings.ContainsAny(a, " '\"") {
			a = "'" + a + "'"
		}
		line += " " + a
	}
	return line
}

// step runs a lesson to its end and prints its output.
func (d *demo) step(comment, lesson string, args ...string) {
	if d.err != nil {
		return
	}
	show(comment, typed(lesson, args...))
	cmd := d.command(lesson, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = os.Stdout, &stderr
	if err := cmd.Start(); err != nil {
		d.err = err
		return
	}
	timer := time.AfterFunc(wait, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := cmd.Wait(); err != nil {
		d.err = fmt.Errorf("%s failed (%v):\n%s", typed(lesson, args...),
			err, stderr.Bytes())
	}
}

// A job is a lesson running in the background, as in a second
// terminal: its lines show indented, after its name.
type job struct {
	name   string
	cmd    *exec.Cmd
	lines  chan string
	stderr bytes.Buffer
	said   chan string // its stderr lines, when the demo shows them
}

// background starts a lesson in the background, and shows the
// command as typed, or as shown when that is not "".
func (d *demo) background(comment, shown, lesson string, args ...string) *job {
	j := &job{name: lesson, cmd: d.command(lesson, args...)}
	if d.saying {
		j.said = make(chan string, 64)
	}
	if d.err != nil {
		return j
	}
	if shown == "" {
		shown = typed(lesson, args...)
	}
	show(comment, shown+" &")
	out, err := j.cmd.StdoutPipe()
	if err != nil {
		d.err = err
		return j
	}
	j.cmd.Stderr = &j.stderr
	if j.said != nil {
		j.cmd.Stderr = io.MultiWriter(&j.stderr, sayLines(j.said))
	}
	if err := j.cmd.Start(); err != nil {
		d.err = err
		return j
	}
	j.lines = make(chan string)
	go func() {
		defer close(j.lines)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				j.lines <- line
			}
			if err != nil {
				if err != io.EOF {
					j.lines <- fmt.Sprintf("(reading: %v)\n", err)
				}
				return
			}
		}
	}()
	return j
}

// lines prints the job's next n lines, as they appear in its
// terminal.
func (d *demo) lines(j *job, n int) {
	for range n {
		if d.err != nil {
			return
		}
		select {
		case line, ok := <-j.lines:
			if !ok {
				d.err = fmt.Errorf("%s stopped early:\n%s", j.name, j.stderr.Bytes())
				return
			}
			fmt.Print("  " + j.name + " | " + line)
		case <-time.After(wait):
			d.err = fmt.Errorf("%s printed nothing for %v", j.name, wait)
		}
	}
}

// sayLines returns a writer that sends each line written to it on
// said, as long as said has room: a job never waits for the demo.
func sayLines(said chan string) io.Writer {
	r, w := io.Pipe()
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			select {
			case said <- s.Text():
			default:
			}
		}
	}()
	return w
}

// said prints the job's next line on stderr, with the address of
// the job's Redis, which changes from run to run, as $REDIS_ADDR,
// and the time it took as "…", which changes too.
func (d *demo) said(j *job) {
	if d.err != nil {
		return
	}
	select {
	case line := <-j.said:
		line = strings.ReplaceAll(line, d.addr, "$REDIS_ADDR")
		line = backAfter.ReplaceAllString(line, "back after …;")
		fmt.Println("  " + j.name + " ! " + line)
	case <-time.After(wait):
		d.err = fmt.Errorf("%s said nothing on stderr for %v", j.name, wait)
	}
}

var backAfter = regexp.MustCompile(`back after [0-9.]+[µm]?s;`)

// stop ends a job the way a reader does: Ctrl-C, which it answers
// with one line, Close the connection. On Windows the job is killed
// and says nothing: the transcript ends one line early.
func (d *demo) stop(j *job, comment string) {
	if j.lines == nil {
		return
	}
	clean := false
	if d.err == nil {
		show(comment, "kill -INT %1")
		clean = stopProcess(j.cmd.Process)
		if line, ok := <-j.lines; ok {
			fmt.Print("  " + j.name + " | " + line)
		}
	}
	if d.err != nil {
		j.cmd.Process.Kill()
	}
	for range j.lines {
	}
	if err := j.cmd.Wait(); err != nil && clean && d.err == nil {
		d.err = fmt.Errorf("%s: %v", j.name, err)
	}
}

// publish runs lesson 04, then shows what the subscriber received.
func (d *demo) publish(sub *job, comment string, args ...string) {
	d.step(comment, "04-publish", args...)
	d.lines(sub, 1)
}

// hits runs lesson 06, the series' HTTP counter, and posts to it
// twice, as curl would.
func (d *demo) hits() {
	if d.err != nil {
		return
	}
	listen, err := freeAddr()
	if err != nil {
		d.err = err
		return
	}
	srv := d.background("The series' HTTP counter, on a free port: $HITS.",
		"go run ./06-hits $HITS", "06-hits", listen)
	d.lines(srv, 2) // PING: is a Redis there?
	for i := range 2 {
		comment := ""
		if i == 0 {
			comment = "Count a hit, twice: INCR's reply is the count."
		}
		d.post(srv, comment, listen)
	}
	d.stop(srv, "Stop the server:")
}

// post sends POST /somethings and shows the answer, then the
// server's lines.
func (d *demo) post(srv *job, comment, listen string) {
	if d.err != nil {
		return
	}
	body := `{"key": "ttt"}`
	show(comment, "curl -d '"+body+"' http://$HITS/somethings")
	client := &http.Client{Timeout: wait}
	deadline := time.Now().Add(wait)
	for {
		res, err := client.Post("http://"+listen+"/somethings",
			"application/json", strings.NewReader(body))
		if err != nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond) // not listening yet
			continue
		}
		if err != nil {
			d.err = fmt.Errorf("06-hits: %v\n%s", err, srv.stderr.Bytes())
			return
		}
		data, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			d.err = err
			return
		}
		fmt.Print(string(data))
		d.lines(srv, 2)
		return
	}
}

// reconnect runs lesson 08 on an embedded Redis of its own, which it
// stops and starts again on the same port.
func (d *demo) reconnect() {
	if d.err != nil {
		return
	}
	srv, err := sandbox.Start("127.0.0.1:0")
	if err != nil {
		d.err = err
		return
	}
	own := &demo{bins: d.bins, addr: srv.Addr()}
	own.saying = true
	sub := own.background("A subscriber that outlives its server, on an embedded "+
		"Redis of its own,\n# which the demo stops and starts again. Its stderr "+
		"lines show with !,\n# its Redis's address as $REDIS_ADDR, and the time "+
		"it was away (it varies) as ….", "", "08-reconnect")
	own.lines(sub, 2)
	if own.err == nil {
		fmt.Println()
		fmt.Println("# The demo stops that Redis and starts it again on the same port")
		fmt.Println("# (by hand: Ctrl-C where make redis runs, then make redis again).")
		srv.Close()
		srv, own.err = sandbox.Start(own.addr)
	}
	own.said(sub)     // lost, trying again
	own.lines(sub, 2) // it subscribes again
	own.said(sub)     // back after …
	own.step("", "04-publish", "after the restart")
	own.lines(sub, 1)
	own.stop(sub, "Stop the subscriber:")
	if srv != nil {
		srv.Close()
	}
	if own.err != nil {
		d.err = fmt.Errorf("%v\n%s", own.err, sub.stderr.Bytes())
	}
}

// freeAddr is a free loopback host:port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
