package lessontest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestSharedFiles keeps the files that every lesson folder shares
// byte for byte the same: conn.go (the plumbing) and main_test.go.
// The first lesson's copy is the reference.
func TestSharedFiles(t *testing.T) {
	lessons, err := filepath.Glob(filepath.Join("..", "..", "[0-9][0-9]-*"))
	if err != nil || len(lessons) < 2 {
		t.Fatalf("lesson folders not found (%v)", err)
	}
	for _, file := range []string{"conn.go", "main_test.go"} {
		ref, err := os.ReadFile(filepath.Join(lessons[0], file))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lessons[1:] {
			got, err := os.ReadFile(filepath.Join(l, file))
			if err != nil {
				t.Errorf("%s has no %s: copy it from %s", filepath.Base(l), file, filepath.Base(lessons[0]))
				continue
			}
			if !bytes.Equal(got, ref) {
				t.Errorf("%s/%s differs from %s/%s: the copies must stay equal "+
					"(change one, then copy it to every lesson)",
					filepath.Base(l), file, filepath.Base(lessons[0]), file)
			}
		}
	}
}
