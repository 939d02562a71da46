package main

import (
	"fmt"
	"strings"

	"github.com/rogpeppe/go-internal/txtar"

	"redis-by-hand/internal/lessontest"
)

// transcript shows a story script as a reader would live it: its
// comments, the commands as typed (a lesson as go run, the script's
// redis command as redis-cli, its http command as curl), and, where
// the script compares a lesson's output with a golden file, that
// file: the script has just checked that the lesson printed exactly
// it. What only the harness needs (waits, checks) is left out.
func transcript(a *txtar.Archive) string {
	golden := map[string]string{}
	for _, f := range a.Files {
		golden[f.Name] = string(f.Data)
	}
	var b strings.Builder
	blank := true
	wrote := map[string]string{} // a file: the program writing to it
	bg := map[string]string{}    // a background job: its program
	// stdout is whose output the script's stdout now is: "" for a
	// command shown just before it, which needs no label, or the
	// program that printed it; "-" for a command not shown.
	stdout := "-"
	line := func(s string) {
		if s == "" && blank {
			return
		}
		blank = s == ""
		b.WriteString(s + "\n")
	}
	for _, l := range strings.Split(string(a.Comment), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			line(l)
			continue
		}
		w := lessontest.ScriptWords(strings.TrimPrefix(l, "! "))
		switch {
		case w[0] == "exec" && isLesson(w[1]):
			line("$ " + typed(w[1:]))
			stdout = ""
		case w[0] == "exec" && len(w) > 3 && w[1] == "sh" && w[2] == "-c":
			// exec sh -c 'exec LESSON ARGS >out 2>err' &name&
			inner := lessontest.ScriptWords(w[3])
			var args []string
			for _, a := range inner[1:] {
				if !strings.ContainsAny(a[:1], "<>") && !strings.HasPrefix(a, "2>") {
					args = append(args, a)
				}
			}
			if len(args) > 0 && isLesson(args[0]) {
				line("$ " + typed(args) + " &   # in the background, or in another terminal")
				if n := len(w) - 1; strings.HasPrefix(w[n], "&") {
					bg[strings.Trim(w[n], "&")] = args[0]
				}
				for _, a := range inner {
					if f, ok := strings.CutPrefix(a, ">"); ok {
						wrote[f] = args[0]
					}
				}
			}
		case w[0] == "exec" && len(w) > 1:
			// cat, head, tail of a file a program wrote
			stdout = "-"
			if who := wrote[w[len(w)-1]]; who != "" {
				stdout = who
			}
		case w[0] == "wait" && len(w) == 2:
			stdout = bg[w[1]]
		case w[0] == "redis":
			line("$ redis-cli " + shell(w[1:]))
			stdout = ""
		case w[0] == "subscribe" && len(w) == 3:
			line("$ redis-cli subscribe " + w[1] + " &")
			wrote[w[2]] = "redis-cli"
		case w[0] == "stdout" && len(w) == 2:
			// A line the script expects, when it is a plain one.
			if out, ok := literal(w[1]); ok && stdout == "" {
				line(out)
			}
		case w[0] == "http" && len(w) >= 3:
			c := "$ curl -X " + w[1] + " " + w[2]
			if len(w) > 3 {
				c += " -d " + shell(w[3:4])
			}
			line(c)
			stdout = ""
		case w[0] == "kill":
			line("# Ctrl-C")
		case w[0] == "stopredis":
			line("# Redis stops")
		case w[0] == "startredis":
			line("# a fresh Redis starts on the same address")
		case w[0] == "golden" && len(w) == 3:
			who := wrote[w[1]]
			if w[1] == "stdout" {
				who = stdout
			}
			switch who {
			case "-":
				continue
			case "":
			default:
				line(fmt.Sprintf("# what %s printed:", who))
			}
			for _, out := range strings.SplitAfter(golden[w[2]], "\n") {
				if out != "" {
					line(strings.TrimSuffix(out, "\n"))
				}
			}
		}
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

// literal is the line that a regexp ^...$ matches, when it matches
// only one: its escapes undone, and no other special character.
func literal(re string) (string, bool) {
	body, ok := strings.CutPrefix(re, "^")
	if !ok {
		return "", false
	}
	if body, ok = strings.CutSuffix(body, "$"); !ok {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body) && strings.IndexByte(`\.+*?()|[]{}^$`, body[i+1]) >= 0:
			b.WriteByte(body[i+1])
			i++
		case strings.IndexByte(`\.+*?()|[]{}^$`, c) >= 0:
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// isLesson says whether a command is a lesson's program: NN-name.
func isLesson(name string) bool {
	return len(name) > 3 && name[0] >= '0' && name[0] <= '9' &&
		name[1] >= '0' && name[1] <= '9' && name[2] == '-'
}

// typed is how a reader runs a lesson: go run ./NN-name 'arg'.
func typed(w []string) string {
	return "go run ./" + w[0] + strings.TrimSuffix(" "+shell(w[1:]), " ")
}

// shell quotes words as a shell would need them.
func shell(w []string) string {
	var out []string
	for _, a := range w {
		if a == "" || strings.ContainsAny(a, " '\"\\$&|<>;") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}
