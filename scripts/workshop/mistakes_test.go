package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"redis-by-hand/internal/lessontest"
	"redis-by-hand/internal/realredis"
)

// The usual mistakes of a workshop, each made on purpose in an
// exercise that is otherwise written as the reference: make check NN
// must fail on it and name it in its hint.
type mistake struct {
	name, lesson string
	edits        [][2]string // old, new: each must apply
	hint         string      // what the hint must say, or (with a \n) lines make check must show
}

var mistakes = []mistake{
	{"PING\\r\\n instead of ping\\n", "01-ping",
		[][2]string{{`msg := "ping\n"`, `msg := "PING\r\n"`}},
		`the blog's first message is exactly "ping\n"`},
	{"no inlineArg", "02-incr",
		[][2]string{{`key = inlineArg("key", os.Args[1])`, `key = os.Args[1]`}},
		"Take it with key = inlineArg(\"key\", os.Args[1])"},
	{"os.Args[1] without an argument", "02-incr",
		[][2]string{{"if len(os.Args) > 1 {\n\t\tkey = inlineArg(\"key\", os.Args[1])\n\t}",
			`key = inlineArg("key", os.Args[1])`}},
		"os.Args[1] exists only when an argument is given"},
	{"no SetDeadline(time.Time{}) after the confirmation", "03-subscribe",
		[][2]string{{"\t\tconn.SetDeadline(time.Time{})\n", ""},
			{"const maxReply", "var _ = time.Now\n\nconst maxReply"}},
		"the subscriber gave up during a silence"},
	{"one read instead of a loop", "03-subscribe",
		[][2]string{{"\tfor {\n\t\treply, err := readReply(r)", "\tfor range 1 {\n\t\treply, err := readReply(r)"}},
		"a subscriber reads in a loop"},
	{"a bulk string's data read with readLine", "03-subscribe",
		[][2]string{{"data := make([]byte, n+2)\n\t\t\tk, err := io.ReadFull(r, data)",
			"line, err := readLine(r)\n\t\t\tdata := []byte(line)\n\t\t\tk := len(data)"},
			{"const maxReply", "var _ = io.EOF\n\nconst maxReply"}},
		"readReply read a bulk string's data with readLine"},
	{"want without its trailing :", "03-subscribe",
		[][2]string{{`%s\r\n:",`, `%s\r\n",`}},
		"  got:  03-subscribe: expected a reply that starts with \"*3\\r\\n$9\\r\\nsubscribe\\r\\n$8\\r\\nmessages\\r\\n\"\n"},
	{"lengths in characters (utf8.RuneCountInString)", "04-publish",
		[][2]string{{`len(a), a)`, `utf8.RuneCountInString(a), a)`},
			{"\t\"strings\"\n)", "\t\"strings\"\n\t\"unicode/utf8\"\n)"}},
		"a bulk string's length counts bytes"},
	{"no $len before a bulk string", "04-publish",
		[][2]string{{`"$%d\r\n%s\r\n", len(a), a)`, `"%s\r\n", a)`}},
		"Without the $<length> line"},
	{"stdin trimmed", "04-publish",
		[][2]string{{`message = string(data)`, `message = strings.TrimSpace(string(data))`}},
		"the message is every byte of standard input"},
	{"the whole batch written before any reply is read, no deadline renewal", "05-pipeline",
		[][2]string{{"go send(conn, all)", "send(conn, all)"},
			{"\tconn.SetDeadline(time.Now().Add(timeout))\n\treply, err", "\treply, err"}},
		"read the pipelined replies while the batch is being written"},
	{"the usage line reworded", "05-pipeline",
		[][2]string{{`parseFlags("05-pipeline [-n 10000]", 0)`, `parseFlags("05-pipeline [-n N]", 0)`}},
		"stderr, line 1:\n  want: 05-pipeline: invalid value \"abc\" for flag -n: parse error; usage: 05-pipeline [-n 10000]"},
	{"no mutex", "06-hits",
		[][2]string{{"\t\tmu.Lock()\n\t\tdefer mu.Unlock()\n", ""},
			{"var mu sync.Mutex", "var mu sync.Mutex\n\t_ = &mu"}},
		"while it holds the mutex"},
}

// TestMistakesNamed runs make workshop in a copy of the repository,
// writes an exercise with one mistake, and runs make check on its
// lesson, with every script and Go test: once for each mistake, each
// in a process and a copy of its own, side by side (make check keeps
// its state in the process, and a failing check mostly waits).
func TestMistakesNamed(t *testing.T) {
	t.Parallel()
	for _, m := range mistakes {
		t.Run(m.name, func(t *testing.T) {
			// On the embedded Redis only, as the workshop's other
			// tests run make check: the lessons' own tests run the
			// references on redis-server too.
			if lessontest.Alone(t, realredis.SkipEnv+"=1", realredis.RequiredEnv+"=") {
				makeMistake(t, m)
			}
		})
	}
}

// makeMistake makes the mistake in a fresh exercise, and requires
// make check to fail on it with its hint.
func makeMistake(t *testing.T, m mistake) {
	// Only what make workshop and make check of the lesson read (the
	// packages its Go tests import only if it has any), and no git:
	// nothing here reads its status.
	tests := hasGoTests(filepath.Join(repoDir(t), m.lesson))
	root := copyFiles(t, lessonFiles(t, tests, m.lesson))
	var made bytes.Buffer
	if err := makeExercises(&made, root, false); err != nil {
		t.Fatal(err)
	}
	storyOnly = false
	// The exercise, written as the reference, with the mistake in it.
	path := filepath.Join(root, m.lesson, "main.go")
	src := string(read(t, solutionPath(root, m.lesson)))
	for _, e := range m.edits {
		if !strings.Contains(src, e[0]) {
			t.Fatalf("%s/main.go has no %q: update the mistake", m.lesson, e[0])
		}
		src = strings.Replace(src, e[0], e[1], 1)
	}
	if err := os.WriteFile(path, []byte(src), 0o666); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ok, err := check(&out, root, []string{m.lesson[:2]})
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("make check %s:\n%s", m.lesson[:2], got)
	hint := m.hint
	if !strings.Contains(hint, "\n") {
		hint = strings.Join(strings.Fields(m.hint), " ")
		if !strings.Contains(got, "\nhint: ") {
			t.Errorf("make check %s gives no hint", m.lesson[:2])
		}
	}
	switch {
	case ok:
		t.Errorf("make check %s passes with this mistake", m.lesson[:2])
	case !strings.Contains(got, "✗ "+m.lesson):
		t.Errorf("make check %s does not fail %s", m.lesson[:2], m.lesson)
	case !strings.Contains(got, hint):
		t.Errorf("make check %s does not say %q", m.lesson[:2], hint)
	}
}
