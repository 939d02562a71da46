package sandbox

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		line string
		want []string // nil: unbalanced quotes
	}{
		{"ping", []string{"ping"}},
		{"", []string{}},
		{" \t\v\f\r\n ", []string{}},
		{"  set   key\tvalue ", []string{"set", "key", "value"}},
		{`echo "a b" 'c d'`, []string{"echo", "a b", "c d"}},
		{`"\n\r\t\b\a\\\"\q"`, []string{"\n\r\t\b\a\\\"q"}},
		{`"\x41\x4a\x4B\x00\xff"`, []string{"AJK\x00\xff"}},
		{`"\x4" "\xZZ" "\x"`, []string{"x4", "xZZ", "x"}},
		{`'it\'s' 'a\nb' '\"'`, []string{"it's", `a\nb`, `\"`}},
		{`ab"cd ef" x'y z'`, []string{"abcd ef", "xy z"}},
		{`"" ''`, []string{"", ""}},
		{"a\vb\fc d", []string{"a\vb\fc", "d"}},
		{"cut\x00 here", []string{"cut"}},
		{"é\xff", []string{"é\xff"}},
		// A closing quote must be followed by a blank or the end.
		{`"a"b`, nil},
		{`'a'b`, nil},
		{`"a"` + "\v", []string{"a"}},
		// Quotes left open.
		{`"abc`, nil},
		{`'abc`, nil},
		{`"abc\"`, nil},
		{`"abc\`, nil},
		{"'ab\x00c'", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.line), func(t *testing.T) {
			got, err := splitArgs([]byte(tt.line))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("got %q, want unbalanced quotes", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// quoteArgs writes args as one inline line that splitArgs reads back
// as the same args, whatever bytes they hold.
func quoteArgs(args [][]byte) []byte {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for _, c := range a {
			switch {
			case c == '"' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < 0x20 || c >= 0x7f:
				fmt.Fprintf(&b, `\x%02x`, c)
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	return b.Bytes()
}

// FuzzSplitArgs checks that the splitter never panics, and that what it
// splits out, quoted again, splits back to the same arguments.
func FuzzSplitArgs(f *testing.F) {
	for _, s := range []string{
		"ping", `set k "a b"`, `'it\'s'`, `"\x41\n"`, `ab"c"`, "a\vb",
		`"unterminated`, "\x00", `"\x`, strings.Repeat(`"" `, 10),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		args, err := splitArgs(line)
		if err != nil {
			return
		}
		again, err := splitArgs(quoteArgs(args))
		if err != nil {
			t.Fatalf("quoted %q: %v", args, err)
		}
		if fmt.Sprintf("%q", again) != fmt.Sprintf("%q", args) {
			t.Fatalf("round trip: %q became %q", args, again)
		}
	})
}
