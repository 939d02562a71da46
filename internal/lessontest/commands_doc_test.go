package lessontest

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestCommandsDocumented: the package comment lists exactly the
// commands that scripts have, as cmd/go's script tests keep theirs.
func TestCommandsDocumented(t *testing.T) {
	src, err := os.ReadFile("lessontest.go")
	if err != nil {
		t.Fatal(err)
	}
	// The list runs from "they have:" to "and the conditions".
	list := regexp.MustCompile(`(?s)they have:\n(.*)\n// and the conditions`).FindSubmatch(src)
	if list == nil {
		t.Fatal("lessontest.go's package comment has no list of script commands")
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^//\t([a-z]+)`).FindAllSubmatch(list[1], -1) {
		listed = append(listed, string(m[1]))
	}
	for name := range commands {
		if !slices.Contains(listed, name) {
			t.Errorf("the script command %s is missing from lessontest.go's package comment", name)
		}
	}
	for _, name := range listed {
		if _, ok := commands[name]; !ok {
			t.Errorf("lessontest.go's package comment lists %s, which is no script command", name)
		}
	}
}
