package lessontest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A LessonRun is one run of the lesson in a script, as data: what it was
// started with, how it ended, and what it printed. Check explains a
// failure from these, never from testscript's log.
type LessonRun struct {
	Args   []string  // the lesson's arguments, after its name
	Start  time.Time // when it started
	Status string    // "" for exit status 0, else "exit status 1", "signal: killed"...
	Signal string    // the signal it was sent (Ctrl-C...), if any
	// Background is set by Check for a run that its script started
	// in the background (&name&): one that waits for what comes.
	Background bool   `json:"-"`
	Stdout     string // what it printed, up to maxRecorded bytes of each
	Stderr     string
}

// Failed says whether the run ended with anything but exit status 0.
func (r *LessonRun) Failed() bool { return r.Status != "" }

const maxRecorded = 1 << 20

// The recorder: in a Check run, the lesson's name on PATH is a link to
// the program that runs the check (the workshop, or a test binary),
// in a folder of its own (recorderDir). Started under that name, the
// program runs the real lesson, the next one on PATH, passes its
// input, output, signals and exit status through, and writes what
// happened to a file of runsDir.
const (
	recorderDir = "LESSONTEST_RECORDER"
	runsDir     = "LESSONTEST_RUNS"
)

// Recorder runs the program as the recorder of a lesson's runs when
// it was started as one, and never returns then. A program that calls
// Check calls Recorder first thing in main (or in TestMain).
func Recorder() {
	recorderCalled = true
	dir := os.Getenv(recorderDir)
	if dir == "" {
		return
	}
	exe, err := os.Executable()
	if err != nil || filepath.Dir(exe) != filepath.Clean(dir) {
		return
	}
	name := strings.TrimSuffix(filepath.Base(exe), ".exe")
	os.Exit(record(name, dir, os.Getenv(runsDir)))
}

// recorderCalled is set by Recorder: Check and RunStory run the lesson
// through the program that calls them, which must have called it.
var recorderCalled bool

// record runs the lesson called name, found on PATH after skip, and
// writes its LessonRun to a new file of runs. It returns the exit code.
func record(name, skip, runs string) int {
	var path []string
	for _, p := range filepath.SplitList(os.Getenv("PATH")) {
		if filepath.Clean(p) != filepath.Clean(skip) {
			path = append(path, p)
		}
	}
	os.Setenv("PATH", strings.Join(path, string(os.PathListSeparator)))
	real, err := exec.LookPath(name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "lessontest: %v\n", err)
		return 1
	}
	run := &LessonRun{Args: os.Args[1:], Start: time.Now()}
	var stdout, stderr capped
	cmd := exec.Command(real, os.Args[1:]...)
	cmd.Stdin = os.Stdin
	// Recorded first: once a script has seen a line, the record has
	// it too.
	cmd.Stdout = io.MultiWriter(&stdout, os.Stdout)
	cmd.Stderr = io.MultiWriter(&stderr, os.Stderr)
	// Ctrl-C, SIGTERM: they are for the lesson.
	var mu sync.Mutex
	signalled := ""
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "lessontest: %v\n", err)
		return 1
	}
	waited := false
	go func() {
		for s := range sigs {
			// A signal that comes once the lesson has ended (a
			// script that failed stops what it started) did not
			// end it: it ended on its own.
			// Nor did one that comes once the last line the lesson
			// printed is "Close the connection" (closing by
			// choice): it was on its way out.
			mu.Lock()
			if !waited && !zombie(cmd.Process.Pid) && !stdout.endsWith(closing) {
				signalled = s.String()
			}
			mu.Unlock()
			cmd.Process.Signal(s)
		}
	}()
	err = cmd.Wait()
	mu.Lock()
	waited = true
	mu.Unlock()
	signal.Stop(sigs)
	run.Stdout, run.Stderr = stdout.String(), stderr.String()
	mu.Lock()
	run.Signal = signalled
	mu.Unlock()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		run.Status = exit.String()
		code = exit.ExitCode()
	} else if err != nil {
		run.Status = err.Error()
		code = 1
	}
	if runs != "" {
		data, _ := json.Marshal(run)
		f, err := os.CreateTemp(runs, "run-*.json")
		if err == nil {
			f.Write(data)
			f.Close()
		}
	}
	// A lesson killed by a signal: end the same way, so that the
	// script sees what it would have seen.
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && runtime.GOOS != "windows" {
		signal.Reset(ws.Signal())
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Signal(ws.Signal())
			time.Sleep(time.Second)
		}
	}
	if code < 0 {
		code = 1
	}
	return code
}

// zombie says whether the process pid has ended and waits to be
// waited for (a zombie), where the system shows it (Linux's /proc):
// on a busy machine, a signal can come after the lesson ended and
// before this program has seen it.
func zombie(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold blanks and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}

// closing is the line a lesson prints when it closes by choice.
const closing = "Close the connection\n"

// capped keeps the first maxRecorded bytes written to it.
type capped struct {
	mu sync.Mutex
	b  []byte
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := maxRecorded - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.b)
}

// endsWith says whether what was written so far ends with line.
func (c *capped) endsWith(line string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.HasSuffix(c.b, []byte(line))
}

// readRuns reads the runs recorded in dir, in the order they started.
func readRuns(dir string) []*LessonRun {
	files, _ := filepath.Glob(filepath.Join(dir, "run-*.json"))
	var runs []*LessonRun
	for _, f := range files {
		data, err := os.ReadFile(f)
		r := &LessonRun{}
		if err == nil && json.Unmarshal(data, r) == nil {
			runs = append(runs, r)
		}
	}
	slices.SortStableFunc(runs, func(a, b *LessonRun) int { return a.Start.Compare(b.Start) })
	return runs
}

// linkRecorder makes dir/name a link to (or a copy of) the running
// program: the recorder of the lesson called name.
func linkRecorder(dir, name string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	to := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		to += ".exe"
	}
	if os.Link(exe, to) == nil {
		return nil
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
