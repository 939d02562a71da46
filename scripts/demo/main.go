// Command demo replays the whole blog post, lesson by lesson, and shows
// each step as the command a reader would type, then its output:
//
//	go run ./scripts/demo               (or: make demo)
//	go run ./scripts/demo -addr HOST:PORT   replay against that Redis
//	go run ./scripts/demo -clean        remove the cached lesson binaries
//
// It starts a fresh embedded Redis on a free loopback port, so that it
// never touches a Redis you run (REDIS_ADDR is ignored; -addr is the
// explicit way to use another server). Run it from the repository.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

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
		"instead of a fresh embedded one (INCR changes its my-key)")
	clean := flag.Bool("clean", false, "remove the cached lesson binaries, and say where they were")
	flag.Parse()
	root, bin, err := paths()
	if err != nil {
		return err
	}
	if *clean {
		if err := os.RemoveAll(bin); err != nil {
			return err
		}
		fmt.Printf("removed the demo's lesson binaries from %s\n", bin)
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
		fmt.Println("# Using the Redis at -addr (INCR changes its my-key).")
	}

	if err := build(root, bin); err != nil {
		return err
	}
	d := &demo{bin: bin, addr: *addr}

	d.step("The blog's first client: an inline ping.", "01-ping")
	d.step("INCR, three times: the count lives in Redis.", "02-incr")
	d.step("", "02-incr")
	d.step("", "02-incr")
	if err := d.subscribe(); err != nil {
		return err
	}
	d.publish("Publish from another connection.")
	d.publish("", "can you hear me")
	return d.stopSubscriber()
}

// paths finds the repository and the folder that keeps the lesson
// binaries: the user's cache, one folder per checkout, so that two
// clones never share one.
func paths() (root, bin string, err error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", "", errors.New("run me from the repository: make demo")
	}
	root = filepath.Dir(gomod)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin = filepath.Join(cache, "redis-by-hand",
		fmt.Sprintf("demo-%x", sha256.Sum256([]byte(root)))[:24])
	return root, bin, nil
}

// build compiles every lesson folder, which is much faster than a go
// run per step. The binaries stay in bin: go build skips the link when
// they are up to date, so later demos start at once.
func build(root, bin string) error {
	if err := os.MkdirAll(bin, 0o700); err != nil {
		return err
	}
	unlock, err := lock(filepath.Join(bin, ".lock"))
	if err != nil {
		return err
	}
	defer unlock()
	lessons, err := filepath.Glob(filepath.Join(root, "[0-9][0-9]-*"))
	if err != nil || len(lessons) == 0 {
		return fmt.Errorf("no lesson folders in %s", root)
	}
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, l := range lessons {
		args = append(args, "./"+filepath.Base(l))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	// A cold build takes a while: say so, but only then.
	slow := time.AfterFunc(2*time.Second, func() {
		fmt.Fprintln(os.Stderr, "building the lessons: the first run takes up to a minute...")
	})
	out, err := cmd.CombinedOutput()
	slow.Stop()
	if err != nil {
		return fmt.Errorf("building the lessons: %v\n%s", err, out)
	}
	return nil
}

// lock takes a lock file, so that two demos at once (the tests run one
// per backend) take turns to build. Creating a file that must not
// exist works the same on every OS; a lock older than a build can take
// is left over from a demo that was killed, and is taken over.
func lock(path string) (unlock func(), err error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > 2*time.Minute {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is held by another demo; remove it if none runs", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type demo struct {
	bin, addr string
	err       error // the first failure; later steps are skipped

	sub      *exec.Cmd
	subLines chan string
}

// command is a lesson's program, talking to the demo's Redis.
func (d *demo) command(lesson string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(d.bin, lesson), args...)
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

// subscribe starts lesson 03 in the background and shows its lines up
// to the confirmation of the subscription.
func (d *demo) subscribe() error {
	if d.err != nil {
		return d.err
	}
	show("Subscribe, in the background (or in a second terminal).",
		"go run ./03-subscribe &")
	d.sub = d.command("03-subscribe")
	out, err := d.sub.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	d.sub.Stderr = &stderr
	if err := d.sub.Start(); err != nil {
		return err
	}
	d.subLines = make(chan string)
	go func() {
		defer close(d.subLines)
		r := bufio.NewReader(out)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				d.subLines <- line
			}
			if err != nil {
				if err != io.EOF {
					d.subLines <- fmt.Sprintf("(reading: %v)\n", err)
				}
				return
			}
		}
	}()
	// Send, then the confirmation.
	for range 2 {
		if err := d.subscriberLine(); err != nil {
			d.sub.Process.Kill()
			d.sub.Wait()
			return fmt.Errorf("%v\n%s", err, stderr.Bytes())
		}
	}
	return nil
}

// subscriberLine prints the subscriber's next line, as it appears in
// its terminal.
func (d *demo) subscriberLine() error {
	select {
	case line, ok := <-d.subLines:
		if !ok {
			return errors.New("03-subscribe stopped early")
		}
		fmt.Print("  03-subscribe | " + line)
		return nil
	case <-time.After(wait):
		return fmt.Errorf("03-subscribe printed nothing for %v", wait)
	}
}

// publish runs lesson 04, then shows what the subscriber received.
func (d *demo) publish(comment string, args ...string) {
	d.step(comment, "04-publish", args...)
	if d.err == nil {
		d.err = d.subscriberLine()
	}
}

// stopSubscriber ends lesson 03 the way a reader does: Ctrl-C.
func (d *demo) stopSubscriber() error {
	if d.sub == nil {
		return d.err
	}
	if d.err == nil {
		show("Stop the subscriber: Ctrl-C in its terminal, or from this shell:", "kill -INT %1")
		stopProcess(d.sub.Process)
		d.err = d.subscriberLine()
	} else {
		d.sub.Process.Kill()
	}
	for range d.subLines {
	}
	if err := d.sub.Wait(); err != nil && d.err == nil {
		d.err = fmt.Errorf("03-subscribe: %v", err)
	}
	return d.err
}
