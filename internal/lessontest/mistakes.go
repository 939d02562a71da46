package lessontest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Mistakes names the usual mistakes that a failure can be recognised
// by, each with the hint shown when a lesson has none of its own. A
// lesson's testdata/hints.txt words them for that lesson:
//
//	# a comment
//	crlf: Redis ends every line with \r\n ...
//	  more of the same hint, indented
//
//	first: story
//
// A hint names one of these mistakes, or a Go test of the lesson
// (TestRequestsTakeTurns: ...), for when that test fails; "first:
// SCRIPT..." names the scripts that make check runs first, the
// lesson's main story. A script names the mistake it was written to
// catch in a comment line "# hint: MISTAKE": its hint comes when
// nothing more telling explains a failure of that script.
var Mistakes = map[string]string{
	"nothing": `the lesson printed nothing: main.go is still the ` +
		`exercise. Write main from its TODOs, top to bottom.`,
	"connect": `the lesson never connected to REDIS_ADDR: call ` +
		`connect() (conn.go) first.`,
	"newline": `an inline command ends with a line feed, \n: until ` +
		`it comes, Redis waits for the rest of the line and never answers.`,
	"inline": `this message goes as a RESP array (*3\r\n$7\r\nPUBLISH` +
		`\r\n...), not as an inline line: inline, its blanks would split ` +
		`it into more arguments.`,
	"crlf": `Redis ends every line with \r\n (CR LF), and the ` +
		`lesson prints what it received byte for byte: a \n alone, or no ` +
		`\r\n at all, means the line was trimmed or rebuilt on the way.`,
	"quote": `print the bytes with %q, as in fmt.Printf("Received: ` +
		`%q\n", reply): it shows \r and \n, and quotes the whole reply.`,
	"one-line": `this reply has more than one line: read its first line, ` +
		`then for $n the n bytes and \r\n after them, for *n that many ` +
		`replies (docs/resp.md).`,
	"cut": `a reply was cut or glued to the next one: one Read ` +
		`(like the blog's read(100)) returns whatever has arrived, part ` +
		`of a reply or several. Read exactly one reply: its first line, ` +
		`then for $n the n bytes and \r\n after them, for *n that many ` +
		`replies (docs/resp.md).`,
	"close": `print "Close the connection" when the program ` +
		`closes the connection on purpose, just before it does.`,
	"check": `the lesson printed a reply that it should refuse, and ` +
		`went on: after printing a reply, judge it with expect(reply, ` +
		`TYPE) (conn.go), which fails with one line on an error reply ` +
		`(-) or a reply of another type than the command's.`,
	"check-prefix": `expect(reply, TYPE) takes the byte that this ` +
		`command's reply starts with: "+" for a simple string (PING), ` +
		`":" for an integer (INCR, PUBLISH), "*" for an array ` +
		`(SUBSCRIBE) (docs/resp.md).`,
	"early": `the lesson printed a Received: line for bytes that ` +
		`are no reply: print a reply only once it is read whole and well ` +
		`formed; when the read fails, readFailed(err, reply) says why ` +
		`on stderr instead.`,
	"bounds": `the lesson crashed on a length the server sent: a ` +
		`length from the server is never to be trusted. Check it ` +
		`before allocating or looping (-1..64Mi, as the reference ` +
		`does), and fail with one line instead.`,
	"build": `the lesson does not compile: the first error above ` +
		`names the file and line.`,
	"exact-bytes": `send exactly the bytes of the blog's step, as the ` +
		`TODO says: Redis accepts other spellings (PING\r\n), but the ` +
		`lesson retraces these bytes, and the check compares them.`,
	"bulk-len": `each part of a RESP array is a bulk string: $, its ` +
		`length, \r\n, the bytes, \r\n. Without the $<length> line, Redis ` +
		`answers -ERR Protocol error and closes the connection.`,
	"utf8-len": `a bulk string's length counts bytes, len(s), not ` +
		`characters: "héllo" is 5 characters and 6 bytes ` +
		`(utf8.RuneCountInString counts 5), so Redis would cut the message short.`,
	"bulk-line": `the lesson read a bulk string's data as a line: after ` +
		`$n, read exactly n bytes and the \r\n after them (io.ReadFull), ` +
		`not readLine: the data may hold any byte, and starts with no type byte.`,
	"crash": `the lesson crashed: the panic above names the line of ` +
		`main.go; a lesson fails with one line on stderr (fail), never a panic.`,
	"exited": `the lesson exited on its own while the script waited ` +
		`for more: a subscriber reads replies in a loop, one whole reply at ` +
		`a time, until Ctrl-C.`,
	"deadline": `the lesson gave up during a silence: a wait that is ` +
		`the point has no deadline. After the confirmation, ` +
		`conn.SetDeadline(time.Time{}) clears the one connect set.`,
	"inline-arg": `an argument with a blank, a quote or a line break ` +
		`cannot travel in an inline command: check it with ` +
		`inlineArg("key", os.Args[1]) (conn.go), which refuses it with one line.`,
	"stdin-trim": `the message read from standard input is data: send ` +
		`every byte, its last \n included; do not trim it.`,
	"pipeline": `the pipelined replies must be read while the batch is ` +
		`written, each renewing the deadline: write the batch on its own ` +
		`goroutine (go send(conn, all)) and call receive, which renews it, ` +
		`for each reply.`,
	"gotest": `one of the lesson's Go tests failed: the lines above ` +
		`are what it said; the command above runs it alone.`,
}

// mistakes names the usual mistakes that fit a difference, the most
// telling first. wantRest and gotRest start at the first differing
// byte; wantLine and gotLine are the lines it is on.
func mistakes(wantRest, gotRest, wantLine, gotLine, want, got string) []string {
	var ms []string
	add := func(m string, ok bool) {
		if ok {
			ms = append(ms, m)
		}
	}
	add("nothing", got == "" && want != "")
	add("newline", strings.HasPrefix(wantLine, `Send: "`) &&
		strings.HasSuffix(wantLine, `\n"`) &&
		gotLine == strings.TrimSuffix(wantLine, `\n"`)+`"`)
	add("inline", strings.HasPrefix(wantLine, `Send: "*`) &&
		strings.HasPrefix(gotLine, `Send: `) &&
		!strings.HasPrefix(gotLine, `Send: "*`))
	add("exact-bytes", strings.HasPrefix(wantLine, `Send: "`) && gotLine != wantLine &&
		strings.EqualFold(strings.ReplaceAll(gotLine, `\r\n`, `\n`), wantLine))
	if strings.HasPrefix(wantLine, `Send: "*`) {
		// The $<length> line left out: the rest of want, past it,
		// is what got has here.
		if m := bulkHead.FindString(wantRest); m != "" {
			next := wantRest[len(m):]
			if i := strings.Index(next, `\r\n`); i >= 0 {
				next = next[:i+4]
			}
			if strings.HasPrefix(gotRest, next) {
				ms = append(ms, "bulk-len")
			}
		}
		// A length off, in a message that is not ASCII.
		head := wantLine[:len(wantLine)-len(lineOf(wantRest, 0))]
		if i := strings.LastIndexByte(head, '$'); i >= 0 && digits.MatchString(head[i+1:]) &&
			strings.ContainsFunc(wantLine, func(r rune) bool { return r >= utf8.RuneSelf }) {
			ms = append(ms, "utf8-len")
		}
	}
	// The \r lost, or the whole \r\n trimmed: "+PONG" for "+PONG\r\n".
	trimmed := strings.HasSuffix(wantLine, `\r\n"`) &&
		gotLine == strings.TrimSuffix(wantLine, `\r\n"`)+`"`
	add("crlf", strings.HasPrefix(wantRest, `\r\n`) &&
		(strings.HasPrefix(gotRest, `\n`) || trimmed))
	for _, p := range []string{"Send: ", "Received: "} {
		add("quote", strings.HasPrefix(wantLine, p+`"`) &&
			strings.HasPrefix(gotLine, p) && !strings.HasPrefix(gotLine, p+`"`))
	}
	if strings.HasPrefix(wantLine, "Received: ") && gotLine != wantLine && gotLine != "" &&
		(strings.HasPrefix(wantLine, strings.TrimSuffix(gotLine, `"`)) ||
			strings.HasPrefix(gotLine, strings.TrimSuffix(wantLine, `"`))) {
		oneLine := strings.Count(gotLine, `\r\n`) == 1 &&
			strings.HasSuffix(gotLine, `\r\n"`) && strings.Count(wantLine, `\r\n`) > 1
		add("one-line", oneLine)
		add("cut", !oneLine && !trimmed)
	}
	add("close", strings.Contains(want, closing) && !strings.Contains(got, closing))
	return ms
}

var (
	bulkHead = regexp.MustCompile(`^\$\d+\\r\\n`)
	digits   = regexp.MustCompile(`^\d*$`)
)

// Hints is a lesson's testdata/hints.txt: its hint for each mistake,
// and the scripts to run first.
type Hints struct {
	Text  map[string]string
	First []string
	Order []string // the mistakes, in the file's order
}

// ReadHints reads dir/testdata/hints.txt. A lesson without one has no
// hints of its own; a hint for a mistake that Mistakes does not name
// is an error.
func ReadHints(dir string) (*Hints, error) {
	h := &Hints{Text: map[string]string{}}
	path := filepath.Join(dir, "testdata", "hints.txt")
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	key, n := "", 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			key = ""
		case line[0] == ' ' || line[0] == '\t':
			if key == "" {
				return nil, fmt.Errorf("%s:%d: indented line outside a hint", path, n)
			}
			h.Text[key] += " " + strings.TrimSpace(line)
		default:
			k, text, ok := strings.Cut(line, ":")
			switch {
			case !ok:
				return nil, fmt.Errorf("%s:%d: want MISTAKE: HINT", path, n)
			case k == "first":
				h.First = append(h.First, strings.Fields(text)...)
				continue
			case Mistakes[k] == "" && !isTestName(k):
				return nil, fmt.Errorf("%s:%d: %q is not a known mistake (%s)",
					path, n, k, strings.Join(mistakeNames(), ", "))
			}
			key = k
			h.Text[key] = strings.TrimSpace(text)
			h.Order = append(h.Order, key)
		}
	}
	return h, sc.Err()
}

// isTestName says whether a hint's key is a Go test's name: the hint
// for when that test of the lesson fails.
func isTestName(k string) bool {
	return strings.HasPrefix(k, "Test") || strings.HasPrefix(k, "Fuzz")
}

func mistakeNames() []string {
	var ns []string
	for k := range Mistakes {
		ns = append(ns, k)
	}
	slices.Sort(ns)
	return ns
}
